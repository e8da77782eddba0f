/**
 * Park mode as a pure function of config: `mlserve:lifecycle.parked: true` scales
 * every GPU workload and the GPU node group to zero and shrinks the system nodes,
 * while the cluster, add-ons, queues and data stay. Un-parking is setting it back:
 * the sizes were never changed in config, so they return exactly.
 * Its output is validated with the same rules as config (infra/config/load.ts).
 */
import type { StackConfig } from "../config/schema";

type Model = StackConfig["kserveModels"][number];

/** GPU models in KServe Standard mode (Deployment + HPA): they cannot scale to zero, so parking leaves them out. */
export function modelsLeftOutWhenParked(cfg: StackConfig): Model[] {
    return cfg.kserveModels.filter((m) => m.gpu && (m.deploymentMode ?? cfg.addons.kserve.deploymentMode) === "Standard");
}

export function parkingWarnings(cfg: StackConfig): string[] {
    return modelsLeftOutWhenParked(cfg).map(
        (m) =>
            `mlserve:kserveModels (model ${m.name}): a GPU model in KServe Standard mode cannot scale to zero, so it is not deployed while parked (mlserve:lifecycle.parked); it returns when un-parked. Use Knative mode to keep it, scaled to zero.`,
    );
}

export function applyParking(cfg: StackConfig): StackConfig {
    if (!cfg.lifecycle.parked) return cfg;
    const keep = cfg.lifecycle.parkedSystemNodes;
    const leftOut = new Set(modelsLeftOutWhenParked(cfg).map((m) => m.name));
    return {
        ...cfg,
        // EKS needs maxSize >= 1; with desired 0 and no pending GPU pod, no GPU node runs.
        gpuNodes: { ...cfg.gpuNodes, minSize: 0, desiredSize: 0 },
        systemNodes: { ...cfg.systemNodes, minSize: Math.min(cfg.systemNodes.minSize, keep), desiredSize: Math.min(cfg.systemNodes.desiredSize, keep) },
        variants: cfg.variants.map((v) => ({ ...v, replicas: 0 })),
        // GPU models may not hold a GPU while parked: Knative ones scale to zero (KPA, which can);
        // Standard-mode ones are left out, with any graph that routes to them.
        kserveModels: cfg.kserveModels
            .filter((m) => !leftOut.has(m.name))
            .map((m) => (m.gpu ? { ...m, minReplicas: 0, autoscalerClass: "kpa" as const, scaleMetric: m.scaleMetric === "rps" ? ("rps" as const) : ("concurrency" as const) } : m)),
        kserveGraphs: cfg.kserveGraphs.filter((g) => !g.steps.some((s) => leftOut.has(s.model))),
    };
}
