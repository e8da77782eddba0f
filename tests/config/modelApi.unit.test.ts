/** infra/config/modelApi.ts: `mlserve:modelApi`, the HPA-scaled CPU model API. */
import { describe, expect, it } from "vitest";
import { modelApiRules, modelApiSchema } from "../../infra/config/modelApi";

const problems = (input: unknown) => modelApiSchema.safeParse(input).error?.issues.map((i) => ({ path: i.path.join("."), message: i.message })) ?? [];
const run = (raw: unknown) => modelApiRules.flatMap((c) => c(raw));

describe("mlserve:modelApi", () => {
    it("defaults serve DistilBERT SST-2 on KServe's Hugging Face server, 1-10 replicas at 50% CPU", () => {
        expect(modelApiSchema.parse({})).toEqual({
            enabled: true,
            image: "kserve/huggingfaceserver:v0.20.0",
            modelName: "distilbert",
            modelId: "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
            task: "sequence_classification",
            minReplicas: 1,
            maxReplicas: 10,
            targetCpuUtilizationPercent: 50,
            cpuRequest: "1",
            memoryRequest: "2Gi",
            cpuLimit: "2",
            memoryLimit: "4Gi",
        });
    });

    it("bounds: minReplicas >= 1 (an HPA), maxReplicas 1-100, targetCpuUtilizationPercent 1-100", () => {
        for (const o of [{ minReplicas: 1, maxReplicas: 1 }, { maxReplicas: 100 }, { targetCpuUtilizationPercent: 1 }, { targetCpuUtilizationPercent: 100 }]) expect(problems(o)).toEqual([]);
        expect(problems({ minReplicas: 0 })).toEqual([{ path: "minReplicas", message: "an HPA keeps at least 1 replica" }]);
        expect(problems({ maxReplicas: 0 })).toEqual([{ path: "maxReplicas", message: "Too small: expected number to be >=1" }]);
        expect(problems({ maxReplicas: 101 })).toEqual([{ path: "maxReplicas", message: "Too big: expected number to be <=100" }]);
        expect(problems({ targetCpuUtilizationPercent: 0 })).toEqual([{ path: "targetCpuUtilizationPercent", message: "Too small: expected number to be >=1" }]);
        expect(problems({ targetCpuUtilizationPercent: 101 })).toEqual([{ path: "targetCpuUtilizationPercent", message: "Too big: expected number to be <=100" }]);
    });

    it("modelName is a DNS label, modelId non-empty, task one of the runtime's tasks", () => {
        for (const modelName of ["a", "bert-2", "x1"]) expect(problems({ modelName })).toEqual([]);
        for (const modelName of ["Bert", "-a", "a-", "a_b", "", "xa b"]) expect(problems({ modelName })).toEqual([{ path: "modelName", message: "must be a DNS label" }]);
        expect(problems({ modelId: "" })).toEqual([{ path: "modelId", message: "Too small: expected string to have >=1 characters" }]);
        for (const task of ["token_classification", "fill_mask", "text_embedding"]) expect(problems({ task })).toEqual([]);
        expect(problems({ task: "text_generation" }).map((p) => p.path)).toEqual(["task"]);
    });

    it("min above max is refused on minReplicas, at the boundary too", () => {
        expect(run({ modelApi: { minReplicas: 4, maxReplicas: 3 } })).toEqual([{ path: ["modelApi", "minReplicas"], input: 4, message: "must be <= maxReplicas (3)" }]);
        expect(run({ modelApi: { minReplicas: 3, maxReplicas: 3 } })).toEqual([]);
        expect(run({ modelApi: { minReplicas: 11 } })).toEqual([{ path: ["modelApi", "minReplicas"], input: 11, message: "must be <= maxReplicas (10)" }]);
    });

    it("the model API needs metrics-server for its HPA, unless it is off", () => {
        const msg = "the model API needs metrics-server: its HorizontalPodAutoscaler reads CPU metrics from it. Set mlserve:addons.metricsServer.enabled to true, or turn the model API off";
        expect(run({ addons: { metricsServer: { enabled: false } } })).toEqual([{ path: ["modelApi", "enabled"], input: true, message: msg }]);
        expect(run({ modelApi: { enabled: false }, addons: { metricsServer: { enabled: false } } })).toEqual([]);
        expect(run({})).toEqual([]);
    });
});
