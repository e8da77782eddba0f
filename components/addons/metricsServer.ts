import type * as pulumi from "@pulumi/pulumi";
import { Addon, type ReleaseSpec } from "./addon";

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
