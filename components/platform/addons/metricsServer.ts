import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { Addon, defineAddon, enabledByDefault, type AddonDefinition, type ReleaseSpec } from "./addon";

/** Helm releases of metrics-server: the resource metrics API the HorizontalPodAutoscaler reads. */
export function metricsServerReleases(): ReleaseSpec[] {
    return [
        {
            name: "metrics-server",
            chart: "metricsServer",
            values: {
                resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
            },
        },
    ];
}

export interface MetricsServerArgs {
    waitFor?: pulumi.Resource[];
}

export class MetricsServer extends Addon {
    constructor(name: string, args: MetricsServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:addons:MetricsServer", name, "kube-system", opts);
        const specs = metricsServerReleases();
        this.installReleases(specs, args.waitFor);
        this.registerOutputs({ charts: this.charts });
    }
}

export const metricsServerSettings = z.strictObject({ ...enabledByDefault }).prefault({});

export const metricsServerAddon: AddonDefinition<typeof metricsServerSettings, MetricsServer> = defineAddon({
    title: "metrics-server",
    provides: "resource metrics (CPU, memory) for HorizontalPodAutoscalers",
    settings: metricsServerSettings,
    create: (name, ctx, opts) => new MetricsServer(name, { waitFor: ctx.waitFor }, opts),
});
