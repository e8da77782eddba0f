/**
 * Pure builders for the two node groups: labels, taints, AMI and the Cluster
 * Autoscaler node-template tags. No Pulumi here, so tests read them directly.
 */
import type { GpuNodesConfig, SystemNodesConfig } from "../../../infra/config/cluster";
import { GPU_INSTANCE_TYPES, isGpuInstanceType } from "./instanceTypes";

export type NodePool = "system" | "gpu";

/** Label every node carries with its pool; workloads select on it. */
export const NODE_POOL_LABEL = "mlserve.io/node-pool";
/** The taint that keeps non-GPU pods off GPU nodes (Kubernetes form, for tolerations). */
export const GPU_TAINT = { key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" } as const;
/** Node selector and toleration every GPU workload (TGI, vLLM, DCGM, device plugin) uses. */
export const GPU_NODE_SELECTOR: Readonly<Record<string, string>> = { [NODE_POOL_LABEL]: "gpu" };
export const GPU_TOLERATIONS = [{ key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect }] as const;

/** EKS API spells taint effects as an enum; Kubernetes as CamelCase. Mixing them is a classic failure. */
const EKS_TAINT_EFFECT = { NoSchedule: "NO_SCHEDULE", NoExecute: "NO_EXECUTE", PreferNoSchedule: "PREFER_NO_SCHEDULE" } as const;

/**
 * A node group's sizing as `mlserve:systemNodes` / `mlserve:gpuNodes` validate it;
 * `scaleDownIdleAfter` (GPU pool only) is how long Cluster Autoscaler waits before
 * removing a node nothing needs.
 */
export type NodeGroupSizing = SystemNodesConfig & Partial<Pick<GpuNodesConfig, "scaleDownIdleAfter">>;

export interface NodeGroupSpec {
    pool: NodePool;
    amiType: "AL2023_x86_64_STANDARD" | "AL2023_x86_64_NVIDIA";
    instanceTypes: string[];
    capacityType: "ON_DEMAND" | "SPOT";
    diskSize: number;
    scalingConfig: { minSize: number; desiredSize: number; maxSize: number };
    labels: Record<string, string>;
    /** EKS API form (`NO_SCHEDULE`). */
    taints: { key: string; value: string; effect: string }[];
    /** Tags for the node group's Auto Scaling group: lets Cluster Autoscaler scale from zero. */
    autoscalerTags: Record<string, string>;
}

export function buildNodeGroupSpec(pool: NodePool, clusterName: string, sizing: NodeGroupSizing): NodeGroupSpec {
    const gpu = pool === "gpu" && isGpuInstanceType(sizing.instanceType) ? GPU_INSTANCE_TYPES[sizing.instanceType] : undefined;
    if (pool === "gpu" && !gpu) {
        // Config validation rejects this first; the builder refuses too rather than build a GPU pool without GPUs.
        throw new Error(`GPU node group needs a known GPU instance type, got "${sizing.instanceType}"`);
    }
    const labels: Record<string, string> = {
        ...sizing.labels,
        [NODE_POOL_LABEL]: pool,
        // k8s.amazonaws.com/accelerator: Cluster Autoscaler's AWS provider treats only nodes with this label as
        // GPU nodes (unready until the device plugin registers the GPU); without it, it adds a second node.
        ...(gpu ? { "mlserve.io/accelerator": "nvidia", "mlserve.io/gpu-model": gpu.gpuModel, "k8s.amazonaws.com/accelerator": `nvidia-${gpu.gpuModel.toLowerCase()}` } : {}),
    };
    const taints = gpu ? [{ key: GPU_TAINT.key, value: GPU_TAINT.value, effect: EKS_TAINT_EFFECT[GPU_TAINT.effect] }] : [];

    const autoscalerTags: Record<string, string> = {
        "k8s.io/cluster-autoscaler/enabled": "true",
        [`k8s.io/cluster-autoscaler/${clusterName}`]: "owned",
        "k8s.io/cluster-autoscaler/node-template/resources/ephemeral-storage": `${sizing.diskSizeGiB}Gi`,
    };
    for (const [k, v] of Object.entries(labels)) autoscalerTags[`k8s.io/cluster-autoscaler/node-template/label/${k}`] = v;
    if (sizing.scaleDownIdleAfter) {
        // Per-group override of --scale-down-unneeded-time (Cluster Autoscaler's AWS provider reads it from the ASG).
        autoscalerTags["k8s.io/cluster-autoscaler/node-template/autoscaling-options/scaledownunneededtime"] = sizing.scaleDownIdleAfter;
    }
    if (gpu) {
        autoscalerTags[`k8s.io/cluster-autoscaler/node-template/taint/${GPU_TAINT.key}`] = `${GPU_TAINT.value}:${GPU_TAINT.effect}`;
        autoscalerTags["k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"] = String(gpu.gpus);
    }

    return {
        pool,
        amiType: gpu ? "AL2023_x86_64_NVIDIA" : "AL2023_x86_64_STANDARD",
        instanceTypes: [sizing.instanceType],
        capacityType: sizing.capacityType,
        diskSize: sizing.diskSizeGiB,
        scalingConfig: { minSize: sizing.minSize, desiredSize: sizing.desiredSize, maxSize: sizing.maxSize },
        labels,
        taints,
        autoscalerTags,
    };
}
