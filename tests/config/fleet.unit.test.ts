/** infra/config/fleet.ts: `mlserve:variants`, `mlserve:fleet` and the fleet's rules. */
import { describe, expect, it } from "vitest";
import { DEFAULT_VARIANTS, fleetRules, fleetSchema, SECRET_KEYS, variantSchema, variantsSchema } from "../../infra/config/fleet";
import { expectBounds, problemsOf } from "./bounds";

const run = (raw: unknown) => fleetRules.flatMap((c) => c(raw));
const v = (o: Record<string, unknown>) => ({ name: "a", ...o });

describe("mlserve:variants", () => {
    it("a variant with only a name: TGI serving Phi-3.5-mini, parked, one GPU, TGI's token limits", () => {
        expect(variantSchema.parse({ name: "a" })).toEqual({
            name: "a",
            engine: "tgi",
            modelId: "microsoft/Phi-3.5-mini-instruct",
            quantize: "none",
            replicas: 0,
            gpus: 1,
            maxInputTokens: 2048,
            maxTotalTokens: 4096,
            maxConcurrentRequests: 128,
            maxBatchPrefillTokens: 4096,
            gpuMemoryUtilization: 0.9,
            autoscaling: { enabled: false, maxReplicas: 2, queueDepthTarget: 8 },
        });
    });

    it("the default fleet is the seed measurement's six TGI modes, fp16 running", () => {
        expect(DEFAULT_VARIANTS).toEqual([
            { name: "fp16", replicas: 1 },
            { name: "eetq", quantize: "eetq" },
            { name: "fp8", quantize: "fp8" },
            { name: "int8", quantize: "bitsandbytes" },
            { name: "nf4", quantize: "bitsandbytes-nf4" },
            { name: "fp4", quantize: "bitsandbytes-fp4" },
        ]);
        expect(variantsSchema.parse(undefined).map((x) => [x.name, x.quantize, x.replicas])).toEqual([
            ["fp16", "none", 1],
            ["eetq", "eetq", 0],
            ["fp8", "fp8", 0],
            ["int8", "bitsandbytes", 0],
            ["nf4", "bitsandbytes-nf4", 0],
            ["fp4", "bitsandbytes-fp4", 0],
        ]);
        expect(problemsOf(variantsSchema, Array.from({ length: 32 }, (_, i) => ({ name: `v${i}` })))).toEqual([]);
        expect(problemsOf(variantsSchema, Array.from({ length: 33 }, (_, i) => ({ name: `v${i}` })))).toEqual([{ path: "", message: "Too big: expected array to have <=32 items" }]);
    });

    it("bounds of every number", () => {
        expectBounds(variantSchema, "replicas", (n) => v({ replicas: n }), 0, 16);
        expectBounds(variantSchema, "gpus", (n) => v({ gpus: n }), 1, 8);
        expectBounds(variantSchema, "maxInputTokens", (n) => v({ maxInputTokens: n }), 1, undefined);
        expectBounds(variantSchema, "maxTotalTokens", (n) => v({ maxTotalTokens: n }), 2, undefined);
        expectBounds(variantSchema, "maxConcurrentRequests", (n) => v({ maxConcurrentRequests: n }), 1, undefined);
        expectBounds(variantSchema, "maxBatchPrefillTokens", (n) => v({ maxBatchPrefillTokens: n }), 1, undefined);
        expectBounds(variantSchema, "maxBatchTotalTokens", (n) => v({ maxBatchTotalTokens: n }), 1, undefined);
        expectBounds(variantSchema, "autoscaling.maxReplicas", (n) => v({ autoscaling: { maxReplicas: n } }), 1, 16);
        expectBounds(variantSchema, "autoscaling.queueDepthTarget", (n) => v({ autoscaling: { queueDepthTarget: n } }), 1, undefined);
        expect(problemsOf(variantSchema, v({ gpuMemoryUtilization: 0.98 }))).toEqual([]);
        expect(problemsOf(variantSchema, v({ gpuMemoryUtilization: 0.01 }))).toEqual([]);
        expect(problemsOf(variantSchema, v({ gpuMemoryUtilization: 0 }))).toEqual([{ path: "gpuMemoryUtilization", message: "Too small: expected number to be >0" }]);
        expect(problemsOf(variantSchema, v({ gpuMemoryUtilization: 0.99 }))).toEqual([{ path: "gpuMemoryUtilization", message: "Too big: expected number to be <=0.98" }]);
    });

    it("names are DNS labels of 1-32 characters; model ids are org/model; revision is non-empty", () => {
        const name = "must be a DNS label of 1-32 characters starting with a letter";
        for (const n of ["a", "a1", "fp16-x", "a".repeat(32)]) expect(problemsOf(variantSchema, { name: n })).toEqual([]);
        for (const n of ["a".repeat(33), "1a", "a-", "A", "a_b", "", "xa.b"]) expect(problemsOf(variantSchema, { name: n })).toEqual([{ path: "name", message: name }]);
        const id = "must be a Hugging Face model id such as microsoft/Phi-3.5-mini-instruct";
        expect(problemsOf(variantSchema, v({ modelId: "Qwen/Qwen2.5-7B_Instruct.x", revision: "main", dtype: "bfloat16", image: "ghcr.io/x/tgi:3.0" }))).toEqual([]);
        for (const modelId of ["phi", "a/b/c", "/b", "a/", "a b/c"]) expect(problemsOf(variantSchema, v({ modelId }))).toEqual([{ path: "modelId", message: id }]);
        expect(problemsOf(variantSchema, v({ revision: "" }))).toEqual([{ path: "revision", message: "Too small: expected string to have >=1 characters" }]);
        expect(problemsOf(variantSchema, v({ autoscaling: { extra: 1 } })).map((p) => p.path)).toEqual(["autoscaling"]);
    });
});

describe("mlserve:fleet", () => {
    it("defaults: a hostPath cache, 1Gi shm, 4 CPU and 24-48Gi per server, 120 s grace", () => {
        expect(fleetSchema.parse({})).toEqual({
            modelCache: "hostPath",
            cacheSizeGiB: 100,
            shmSize: "1Gi",
            cpuRequest: "4",
            memoryRequest: "24Gi",
            memoryLimit: "48Gi",
            terminationGraceSeconds: 120,
        });
        expectBounds(fleetSchema, "cacheSizeGiB", (n) => ({ cacheSizeGiB: n }), 10, 2000);
        expectBounds(fleetSchema, "terminationGraceSeconds", (n) => ({ terminationGraceSeconds: n }), 10, 3600);
        expect(SECRET_KEYS).toEqual(["hfToken"]);
    });
});

describe("fleet rules", () => {
    it("the default fleet on the default GPU nodes passes", () => {
        expect(run({})).toEqual([]);
    });

    it("variant names are unique, the duplicate pointing at the first", () => {
        expect(run({ variants: [{ name: "a" }, { name: "b" }, { name: "a" }, { name: "a" }] })).toEqual([
            { path: ["variants", 2, "name"], input: "a", message: "duplicates variants[0]; variant names must be unique" },
            { path: ["variants", 3, "name"], input: "a", message: "duplicates variants[0]; variant names must be unique" },
        ]);
        // A broken entry still keeps its index for the others.
        expect(run({ variants: [{ name: 1 }, { name: "b" }, { name: "b" }] })).toEqual([
            { path: ["variants", 2, "name"], input: "b", message: "duplicates variants[1]; variant names must be unique" },
        ]);
    });

    it("engine errors land on the variant's field, with the value", () => {
        expect(run({ variants: [{ name: "a" }, { name: "b", maxInputTokens: 4096 }] })).toEqual([
            { path: ["variants", 1, "maxInputTokens"], input: 4096, message: "must be below maxTotalTokens (4096): the total includes the generated tokens" },
        ]);
    });

    it("a server fits on one node: gpus up to the instance's count", () => {
        expect(run({ variants: [{ name: "a", gpus: 2 }] })).toEqual([{ path: ["variants", 0, "gpus"], input: 2, message: "a g5.4xlarge node has 1 GPU(s); a server cannot span nodes" }]);
        expect(run({ variants: [{ name: "a", gpus: 4 }], gpuNodes: { instanceType: "g5.12xlarge" } })).toEqual([]);
        expect(run({ variants: [{ name: "a", gpus: 5 }], gpuNodes: { instanceType: "g5.12xlarge" } })).toEqual([
            { path: ["variants", 0, "gpus"], input: 5, message: "a g5.12xlarge node has 4 GPU(s); a server cannot span nodes" },
        ]);
        // An unknown GPU type is reported by the gpuNodes rule, not here.
        expect(run({ variants: [{ name: "a", gpus: 8, replicas: 16 }], gpuNodes: { instanceType: "m6i.large" } })).toEqual([]);
    });

    it("the running variants fit in the GPU node group at its maximum (replicas x gpus)", () => {
        // g5.12xlarge (4 GPUs) x maxSize 2 = 8 GPUs.
        const gpuNodes = { instanceType: "g5.12xlarge", maxSize: 2 };
        expect(run({ gpuNodes, variants: [{ name: "a", replicas: 2, gpus: 2 }, { name: "b", replicas: 1, gpus: 4 }] })).toEqual([]);
        expect(run({ gpuNodes, variants: [{ name: "a", replicas: 3, gpus: 2 }, { name: "b", replicas: 1, gpus: 4 }, { name: "c", gpus: 4 }] })).toEqual([
            {
                path: ["variants"],
                input: "10 GPUs",
                message: "the running variants need 10 GPU(s) but mlserve:gpuNodes allows at most 8 (maxSize 2 × 4); park variants (replicas: 0) or raise mlserve:gpuNodes.maxSize",
            },
        ]);
    });

    it("queue-depth autoscaling needs KEDA and Prometheus, and maxReplicas >= replicas", () => {
        const addons = { keda: { enabled: false }, observability: { enabled: false } };
        expect(run({ addons, variants: [{ name: "a", replicas: 1, autoscaling: { enabled: true, maxReplicas: 1 } }, { name: "b" }] })).toEqual([
            {
                path: ["variants", 0, "autoscaling", "enabled"],
                input: true,
                message: "queue-depth autoscaling needs KEDA: it scales the server on the queue depth. Set mlserve:addons.keda.enabled to true, or turn autoscaling off",
            },
            {
                path: ["variants", 0, "autoscaling", "enabled"],
                input: true,
                message:
                    "queue-depth autoscaling needs Observability (Prometheus, Grafana, DCGM exporter): KEDA reads the queue depth from Prometheus. Set mlserve:addons.observability.enabled to true, or turn autoscaling off",
            },
        ]);
        expect(run({ addons, variants: [{ name: "a", replicas: 1, autoscaling: { maxReplicas: 0 + 1 } }] })).toEqual([]);
        expect(run({ gpuNodes: { maxSize: 3, desiredSize: 1 }, variants: [{ name: "a", replicas: 3, autoscaling: { enabled: true, maxReplicas: 2 } }] })).toEqual([
            { path: ["variants", 0, "autoscaling", "maxReplicas"], input: 2, message: "must be >= replicas (3), the minimum" },
        ]);
        expect(run({ gpuNodes: { maxSize: 3, desiredSize: 1 }, variants: [{ name: "a", replicas: 2, autoscaling: { enabled: true, maxReplicas: 2 } }] })).toEqual([]);
    });
});
