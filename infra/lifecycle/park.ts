/**
 * Park mode as a pure function of config: `mlserve:lifecycle.parked: true` scales
 * every GPU workload and the GPU node group to zero and shrinks the system nodes,
 * while the cluster, add-ons, queues and data stay. Un-parking is setting it back:
 * the sizes were never changed in config, so they return exactly.
 */
import type { StackConfig } from "../config/schema";

export function applyParking(cfg: StackConfig): StackConfig {
    if (!cfg.lifecycle.parked) return cfg;
    const keep = cfg.lifecycle.parkedSystemNodes;
    return {
        ...cfg,
        // EKS needs maxSize >= 1; with desired 0 and no pending GPU pod, no GPU node runs.
        gpuNodes: { ...cfg.gpuNodes, minSize: 0, desiredSize: 0 },
        systemNodes: { ...cfg.systemNodes, minSize: Math.min(cfg.systemNodes.minSize, keep), desiredSize: Math.min(cfg.systemNodes.desiredSize, keep) },
        variants: cfg.variants.map((v) => ({ ...v, replicas: 0 })),
        // GPU models may not hold a GPU while parked: scale to zero (KPA, which can).
        kserveModels: cfg.kserveModels.map((m) =>
            m.gpu ? { ...m, minReplicas: 0, autoscalerClass: "kpa" as const, scaleMetric: m.scaleMetric === "rps" ? ("rps" as const) : ("concurrency" as const) } : m,
        ),
    };
}
