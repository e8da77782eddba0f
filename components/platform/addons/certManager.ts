import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { Addon, defineAddon, enabledByDefault, type AddonDefinition, type ReleaseSpec } from "./addon";

/** cert-manager with its CRDs: issues the certificates of KServe's admission webhooks. */
export function certManagerReleases(): ReleaseSpec[] {
    return [
        {
            name: "cert-manager",
            chart: "certManager",
            values: {
                crds: { enabled: true },
                resources: { requests: { cpu: "20m", memory: "64Mi" } },
                webhook: { resources: { requests: { cpu: "10m", memory: "32Mi" } } },
                cainjector: { resources: { requests: { cpu: "20m", memory: "64Mi" } } },
            },
        },
    ];
}

export interface CertManagerArgs {
    waitFor?: pulumi.Resource[];
}

export class CertManager extends Addon {
    constructor(name: string, args: CertManagerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:addons:CertManager", name, "cert-manager", opts);
        const specs = certManagerReleases();
        this.installReleases(specs, args.waitFor);
        this.registerOutputs({ charts: this.charts });
    }
}

export const certManagerSettings = z.strictObject({ ...enabledByDefault }).prefault({});

export const certManagerAddon: AddonDefinition<typeof certManagerSettings, CertManager> = defineAddon({
    title: "cert-manager",
    provides: "certificates for admission webhooks",
    settings: certManagerSettings,
    create: (name, ctx, opts) => new CertManager(name, { waitFor: ctx.waitFor }, opts),
});
