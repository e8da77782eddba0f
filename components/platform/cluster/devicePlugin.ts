import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../../versions";
import { GPU_NODE_SELECTOR, GPU_TOLERATIONS } from "./nodeGroupSpec";

/**
 * Helm values for the NVIDIA device plugin. The chart's default affinity wants
 * Node Feature Discovery labels that EKS GPU nodes do not carry, so it is
 * cleared (null deletes a key in Helm) and replaced by the GPU pool selector.
 */
export function devicePluginValues(): Record<string, unknown> {
    return {
        affinity: null,
        nodeSelector: { ...GPU_NODE_SELECTOR },
        tolerations: GPU_TOLERATIONS.map((t) => ({ ...t })),
        priorityClassName: "system-node-critical",
        gfd: { enabled: false },
        nfd: { enabled: false },
        resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "128Mi" } },
    };
}

export interface NvidiaDevicePluginArgs {
    /** Namespace of the DaemonSet. Default "kube-system". */
    namespace?: string;
}

/** Advertises `nvidia.com/gpu` on GPU nodes so pods can request GPUs. */
export class NvidiaDevicePlugin extends pulumi.ComponentResource {
    readonly releaseName: pulumi.Output<string>;
    readonly chartVersion: string = CHARTS.nvidiaDevicePlugin.version;

    constructor(name: string, args: NvidiaDevicePluginArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:cluster:NvidiaDevicePlugin", name, {}, opts);
        const chart = CHARTS.nvidiaDevicePlugin;
        const release = new k8s.helm.v3.Release(
            name,
            {
                name: "nvidia-device-plugin",
                chart: chart.chart,
                version: chart.version,
                repositoryOpts: { repo: chart.repo },
                namespace: args.namespace ?? "kube-system",
                values: devicePluginValues(),
                atomic: true,
                cleanupOnFail: true,
            },
            { parent: this },
        );
        this.releaseName = release.name;
        this.registerOutputs({ releaseName: this.releaseName, chartVersion: this.chartVersion });
    }
}
