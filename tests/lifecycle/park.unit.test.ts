/**
 * Park mode (infra/lifecycle/park.ts) as plain function calls on hand-made
 * configs: only the fields parking reads or rewrites are filled in, so each
 * expectation is the whole parked object written out by hand.
 */
import { describe, expect, it } from "vitest";
import { applyParking, modelsLeftOutWhenParked, parkingWarnings } from "../../infra/lifecycle/park";
import type { StackConfig } from "../../infra/config/schema";

type Json = Record<string, unknown>;

/** A config with the fields parking touches; the rest of StackConfig is irrelevant to it. */
function config(over: Json = {}): StackConfig {
    return {
        stack: "dev",
        addons: { kserve: { deploymentMode: "Knative" } },
        lifecycle: { owner: "ops", parked: true, parkedSystemNodes: 1 },
        gpuNodes: { instanceType: "g5.4xlarge", minSize: 1, desiredSize: 2, maxSize: 4 },
        systemNodes: { instanceType: "m6i.xlarge", minSize: 2, desiredSize: 3, maxSize: 5 },
        variants: [],
        kserveModels: [],
        kserveGraphs: [],
        ...over,
    } as unknown as StackConfig;
}

const model = (name: string, over: Json = {}) => ({ name, gpu: false, minReplicas: 1, autoscalerClass: "kpa", scaleMetric: "concurrency", ...over });

describe("which models parking leaves out", () => {
    it("only GPU models in Standard mode, by their own mode or else the cluster default", () => {
        const cfg = config({
            addons: { kserve: { deploymentMode: "Standard" } },
            kserveModels: [
                model("gpu-default-standard", { gpu: true }),
                model("gpu-own-knative", { gpu: true, deploymentMode: "Knative" }),
                model("cpu-standard", { deploymentMode: "Standard" }),
            ],
        });
        expect(modelsLeftOutWhenParked(cfg).map((m) => m.name)).toEqual(["gpu-default-standard"]);
        // Cluster default Knative: a model that asks for Standard itself is still left out.
        const knative = config({ kserveModels: [model("gpu-default-knative", { gpu: true }), model("gpu-own-standard", { gpu: true, deploymentMode: "Standard" })] });
        expect(modelsLeftOutWhenParked(knative).map((m) => m.name)).toEqual(["gpu-own-standard"]);
    });

    it("the warning names the model, the key and the fix (Knative mode)", () => {
        const cfg = config({ kserveModels: [model("big", { gpu: true, deploymentMode: "Standard" }), model("small")] });
        expect(parkingWarnings(cfg)).toEqual([
            "mlserve:kserveModels (model big): a GPU model in KServe Standard mode cannot scale to zero, so it is not deployed while parked (mlserve:lifecycle.parked); it returns when un-parked. Use Knative mode to keep it, scaled to zero.",
        ]);
        expect(parkingWarnings(config({ kserveModels: [model("small")] }))).toEqual([]);
    });
});

describe("applyParking", () => {
    it("a running stack's config is returned unchanged", () => {
        const cfg = config({ lifecycle: { owner: "ops", parked: false, parkedSystemNodes: 1 }, variants: [{ name: "a", replicas: 2 }] });
        expect(applyParking(cfg)).toBe(cfg);
    });

    it("parks: GPU nodes to 0 (max kept), system nodes down to parkedSystemNodes, variants to 0, GPU models to zero on KPA, left-out models and their graphs gone", () => {
        const cpu = model("cpu", { scaleMetric: "cpu", autoscalerClass: "hpa" });
        const cfg = config({
            addons: { kserve: { deploymentMode: "Knative" } },
            lifecycle: { owner: "ops", parked: true, parkedSystemNodes: 1 },
            variants: [{ name: "fp16", replicas: 2 }, { name: "awq", replicas: 1 }],
            kserveModels: [
                cpu,
                model("gpu-cpu-metric", { gpu: true, minReplicas: 2, autoscalerClass: "hpa", scaleMetric: "cpu" }),
                model("gpu-rps", { gpu: true, minReplicas: 1, scaleMetric: "rps" }),
                model("gpu-standard", { gpu: true, deploymentMode: "Standard" }),
            ],
            kserveGraphs: [
                { name: "uses-standard", steps: [{ model: "cpu" }, { model: "gpu-standard" }] },
                { name: "uses-knative", steps: [{ model: "cpu" }, { model: "gpu-rps" }] },
            ],
        });
        const parked = applyParking(cfg);
        expect(parked).toEqual({
            stack: "dev",
            addons: { kserve: { deploymentMode: "Knative" } },
            lifecycle: { owner: "ops", parked: true, parkedSystemNodes: 1 },
            gpuNodes: { instanceType: "g5.4xlarge", minSize: 0, desiredSize: 0, maxSize: 4 },
            systemNodes: { instanceType: "m6i.xlarge", minSize: 1, desiredSize: 1, maxSize: 5 },
            variants: [{ name: "fp16", replicas: 0 }, { name: "awq", replicas: 0 }],
            kserveModels: [
                { name: "cpu", gpu: false, minReplicas: 1, autoscalerClass: "hpa", scaleMetric: "cpu" },
                { name: "gpu-cpu-metric", gpu: true, minReplicas: 0, autoscalerClass: "kpa", scaleMetric: "concurrency" },
                { name: "gpu-rps", gpu: true, minReplicas: 0, autoscalerClass: "kpa", scaleMetric: "rps" },
            ],
            kserveGraphs: [{ name: "uses-knative", steps: [{ model: "cpu" }, { model: "gpu-rps" }] }],
        });
        // CPU models are not touched at all.
        expect(parked.kserveModels[0]).toBe(cpu);
        // The input config is not modified (un-parking is rendering it again).
        expect(cfg.gpuNodes).toEqual({ instanceType: "g5.4xlarge", minSize: 1, desiredSize: 2, maxSize: 4 });
        expect(cfg.variants).toEqual([{ name: "fp16", replicas: 2 }, { name: "awq", replicas: 1 }]);
    });

    it("system nodes: each size is capped at parkedSystemNodes, never raised to it", () => {
        const sizes = (minSize: number, desiredSize: number, keep: number) => {
            const p = applyParking(config({ lifecycle: { owner: "ops", parked: true, parkedSystemNodes: keep }, systemNodes: { instanceType: "m6i.xlarge", minSize, desiredSize, maxSize: 6 } }));
            return [p.systemNodes.minSize, p.systemNodes.desiredSize, p.systemNodes.maxSize];
        };
        expect(sizes(2, 3, 2)).toEqual([2, 2, 6]);
        expect(sizes(1, 3, 2)).toEqual([1, 2, 6]);
        expect(sizes(1, 2, 3)).toEqual([1, 2, 6]);
    });
});
