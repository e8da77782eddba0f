import * as pulumi from "@pulumi/pulumi";
import type { Addon } from "./addon";
import { ADDON_NAMES, describeMissing, installOrder, missingDependencies, requirementsOf, type AddonName } from "./catalog";
import { CertManager } from "./certManager";
import { ClusterAutoscaler } from "./clusterAutoscaler";
import { Keda } from "./keda";
import { Knative, type KnativeSettings } from "./knative";
import { KServe, type KServeDeploymentMode } from "./kserve";
import { MetricsServer } from "./metricsServer";
import { Observability, type ObservabilitySettings } from "./observability";

export interface PlatformAddonsArgs {
    clusterAutoscaler: { enabled: boolean };
    metricsServer: { enabled: boolean };
    certManager: { enabled: boolean };
    keda: { enabled: boolean };
    knative: { enabled: boolean } & KnativeSettings;
    kserve: { enabled: boolean; deploymentMode: KServeDeploymentMode };
    observability: { enabled: boolean } & ObservabilitySettings;
    /** The cluster the add-ons run in: its name as an output (Pod Identity associations wait for it), plain name, region, node groups. */
    cluster: { name: pulumi.Input<string>; plainName: string; region: string; nodeGroupArns: pulumi.Input<string>[] };
    /** SQS queues KEDA may read (from the async inference area). */
    sqsQueueArns?: pulumi.Input<pulumi.Input<string>[]>;
    /** Resources every add-on waits for (the cluster's nodes and CoreDNS). */
    waitFor?: pulumi.Resource[];
}

export class AddonDependencyError extends Error {
    override name = "AddonDependencyError";
}

/**
 * Every enabled platform add-on, installed in dependency order; each waits for
 * the add-ons it requires. A set with a missing requirement is refused here,
 * at plan time, with the same message config validation gives.
 */
export class PlatformAddons extends pulumi.ComponentResource {
    readonly installed: Partial<Record<AddonName, Addon>> = {};
    /** Pinned chart versions of every installed add-on. */
    readonly versions: Record<string, string[]> = {};

    constructor(name: string, args: PlatformAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:addons:PlatformAddons", name, {}, opts);
        const enabled = Object.fromEntries(ADDON_NAMES.map((a) => [a, args[a].enabled])) as Record<AddonName, boolean>;
        const ctx = { kserveDeploymentMode: args.kserve.deploymentMode };
        const missing = missingDependencies(enabled, ctx);
        if (missing.length > 0) throw new AddonDependencyError(missing.map(describeMissing).join("\n"));

        const child = { parent: this };
        for (const addon of installOrder(enabled, ctx)) {
            const waitFor = [...(args.waitFor ?? []), ...requirementsOf(addon, ctx).flatMap((r) => this.installed[r.addon]?.ready ?? [])];
            this.installed[addon] = this.create(addon, `${name}-${addon}`, args, waitFor, child);
        }
        for (const [addon, component] of Object.entries(this.installed)) this.versions[addon] = component.charts;
        this.registerOutputs({ versions: this.versions });
    }

    get metricsServer(): MetricsServer | undefined {
        return this.installed.metricsServer as MetricsServer | undefined;
    }
    get keda(): Keda | undefined {
        return this.installed.keda as Keda | undefined;
    }
    get knative(): Knative | undefined {
        return this.installed.knative as Knative | undefined;
    }
    get kserve(): KServe | undefined {
        return this.installed.kserve as KServe | undefined;
    }
    get observability(): Observability | undefined {
        return this.installed.observability as Observability | undefined;
    }

    private create(addon: AddonName, name: string, args: PlatformAddonsArgs, waitFor: pulumi.Resource[], opts: pulumi.ComponentResourceOptions): Addon {
        switch (addon) {
            case "clusterAutoscaler":
                return new ClusterAutoscaler(
                    name,
                    { settings: { clusterName: args.cluster.plainName, region: args.cluster.region }, clusterNameOutput: args.cluster.name, nodeGroupArns: args.cluster.nodeGroupArns, waitFor },
                    opts,
                );
            case "metricsServer":
                return new MetricsServer(name, { waitFor }, opts);
            case "certManager":
                return new CertManager(name, { waitFor }, opts);
            case "keda":
                return new Keda(name, { clusterName: args.cluster.name, sqsQueueArns: args.sqsQueueArns, waitFor }, opts);
            case "knative":
                return new Knative(name, { settings: args.knative, waitFor }, opts);
            case "kserve":
                return new KServe(name, { deploymentMode: args.kserve.deploymentMode, waitFor }, opts);
            case "observability":
                return new Observability(name, { settings: args.observability, scrape: { kserve: args.kserve.enabled, keda: args.keda.enabled }, waitFor }, opts);
        }
    }
}
