/** infra/config/optimization.ts: `mlserve:optimization` and its rules. */
import { describe, expect, it } from "vitest";
import { optimizationRules, optimizationSchema } from "../../infra/config/optimization";
import { expectBounds, problemsOf } from "./bounds";

const run = (raw: unknown) => optimizationRules.flatMap((c) => c(raw));
const on = { enabled: true, runId: "r1", device: "cpu" };

describe("mlserve:optimization", () => {
    it("defaults: off, DistilBERT SST-2 distilled to 3 layers, the six method chains, on a GPU", () => {
        expect(optimizationSchema.parse({})).toEqual({
            enabled: false,
            teacher: "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
            student: "teacher-layers:3",
            methods: ["distill", "ffn", "heads", "sparse", "int8", "distill+ffn+int8"],
            targetSparsity: 0.5,
            headFraction: 0.25,
            ffnFraction: 0.3,
            trainSteps: 2000,
            recoverySteps: 300,
            device: "gpu",
            cpuRequest: "4",
            memoryRequest: "16Gi",
            memoryLimit: "24Gi",
        });
    });

    it("bounds: steps, and fractions strictly between 0 and 1", () => {
        expectBounds(optimizationSchema, "trainSteps", (n) => ({ trainSteps: n }), 1, 100_000);
        expectBounds(optimizationSchema, "recoverySteps", (n) => ({ recoverySteps: n }), 0, 100_000);
        for (const f of ["targetSparsity", "headFraction", "ffnFraction"]) {
            expect(problemsOf(optimizationSchema, { [f]: 0.01 })).toEqual([]);
            expect(problemsOf(optimizationSchema, { [f]: 0.99 })).toEqual([]);
            expect(problemsOf(optimizationSchema, { [f]: 0 })).toEqual([{ path: f, message: "Too small: expected number to be >0" }]);
            expect(problemsOf(optimizationSchema, { [f]: 1 })).toEqual([{ path: f, message: "Too big: expected number to be <1" }]);
        }
    });

    it("methods are non-empty chains of the five steps joined by +", () => {
        const msg = "must be steps joined by +, each one of distill, ffn, heads, sparse, int8 (e.g. distill+ffn+int8)";
        expect(problemsOf(optimizationSchema, { methods: ["distill+ffn+heads+sparse+int8", "int8"] })).toEqual([]);
        const bad = ["distill+", "+ffn", "lora", "distill+lora", "distill-ffn", "xdistill", "int8x", ""];
        expect(problemsOf(optimizationSchema, { methods: bad })).toEqual(bad.map((_, i) => ({ path: `methods.${i}`, message: msg })));
        expect(problemsOf(optimizationSchema, { methods: [] })).toEqual([{ path: "methods", message: "Too small: expected array to have >=1 items" }]);
    });

    it("teacher is a Hugging Face id; student is teacher-layers:N (N >= 1) or an id; runId up to 20, serve names up to 30", () => {
        expect(problemsOf(optimizationSchema, { teacher: "org/model-1.5_x", student: "teacher-layers:12" })).toEqual([]);
        expect(problemsOf(optimizationSchema, { student: "huawei-noah/TinyBERT_General_4L_312D" })).toEqual([]);
        for (const teacher of ["model", "org/model/x", "xorg/", "/model", "org/mo del"]) expect(problemsOf(optimizationSchema, { teacher })).toEqual([{ path: "teacher", message: "must be a Hugging Face model id" }]);
        for (const student of ["teacher-layers:0", "teacher-layers:", "teacher-layers:03", "teacher-layers:3x", "model", "xteacher-layers:3"])
            expect(problemsOf(optimizationSchema, { student })).toEqual([{ path: "student", message: "must be teacher-layers:N or a Hugging Face model id" }]);
        expect(problemsOf(optimizationSchema, { runId: "r".repeat(20), serve: ["s".repeat(30)] })).toEqual([]);
        expect(problemsOf(optimizationSchema, { runId: "r".repeat(21), serve: ["s".repeat(31)] })).toEqual([
            { path: "runId", message: "must be a DNS label of 1-20 characters starting with a letter" },
            { path: "serve.0", message: "must be a DNS label of 1-30 characters starting with a letter" },
        ]);
    });
});

describe("optimization rules", () => {
    it("nothing is checked while the run is off", () => {
        expect(run({ optimization: { serve: ["nope"] }, addons: { kserve: { enabled: false } }, variants: [{ name: "a", replicas: 16 }] })).toEqual([]);
    });

    it("an enabled run needs a run id", () => {
        expect(run({ optimization: { enabled: true, device: "cpu" } })).toEqual([
            { path: ["optimization", "runId"], message: "is required when the optimization run is enabled: a DNS label such as r1 (a new id starts a new run)" },
        ]);
        expect(run({ optimization: on })).toEqual([]);
    });

    it("each served variant must be one the methods produce and KServe serves as measured", () => {
        expect(run({ optimization: { ...on, methods: ["distill+ffn", "heads+int8"], serve: ["baseline", "distill-ffn", "x", "heads", "heads-int8", "distill"] } })).toEqual([
            { path: ["optimization", "serve", 2], input: "x", message: "is not a variant these methods produce (baseline, distill, distill-ffn, heads, heads-int8)" },
            {
                path: ["optimization", "serve", 3],
                input: "heads",
                message:
                    "is not served as measured by KServe's Hugging Face runtime (head-pruned weights load zero-padded, int8 is applied by the optimizer's own loader); serve a variant without heads or int8",
            },
            expect.objectContaining({ path: ["optimization", "serve", 4], input: "heads-int8" }),
        ]);
    });

    it("serving needs KServe, unless serve is []", () => {
        const msg = "serving the optimized models needs KServe: each optimized variant is an InferenceService. Set mlserve:addons.kserve.enabled to true, or set mlserve:optimization.serve to []";
        const addons = { kserve: { enabled: false } };
        expect(run({ optimization: on, addons })).toEqual([{ path: ["optimization", "serve"], input: true, message: msg }]);
        expect(run({ optimization: { ...on, serve: ["distill"] }, addons })).toEqual([{ path: ["optimization", "serve"], input: true, message: msg }]);
        expect(run({ optimization: { ...on, serve: [] }, addons })).toEqual([]);
    });

    it("a GPU run needs a GPU the running variants leave free", () => {
        const gpu = { ...on, device: "gpu" };
        const full = (running: number, capacity: number) => ({
            path: ["optimization", "device"],
            input: "gpu",
            message: `the run needs a GPU, and the running variants already use ${running} of the ${capacity} mlserve:gpuNodes allows: park a variant (replicas: 0), raise mlserve:gpuNodes.maxSize, or set device: cpu`,
        });
        // Default: g5.4xlarge (1 GPU) x maxSize 2, fp16 runs on one: one left.
        expect(run({ optimization: gpu })).toEqual([]);
        expect(run({ optimization: gpu, variants: [{ name: "a", replicas: 2 }] })).toEqual([full(2, 2)]);
        expect(run({ optimization: gpu, variants: [{ name: "a", replicas: 1 }], gpuNodes: { maxSize: 1, desiredSize: 1 } })).toEqual([full(1, 1)]);
        // g5.12xlarge has 4 GPUs: 3 used of 4 leaves one, 4 of 4 none.
        expect(run({ optimization: gpu, variants: [{ name: "a", replicas: 1, gpus: 3 }], gpuNodes: { instanceType: "g5.12xlarge", maxSize: 1, desiredSize: 1 } })).toEqual([]);
        expect(run({ optimization: gpu, variants: [{ name: "a", replicas: 2, gpus: 2 }], gpuNodes: { instanceType: "g5.12xlarge", maxSize: 1, desiredSize: 1 } })).toEqual([full(4, 4)]);
        // On CPU, or with an unknown GPU type (reported by the gpuNodes rule), nothing here.
        expect(run({ optimization: on, variants: [{ name: "a", replicas: 2 }] })).toEqual([]);
        expect(run({ optimization: gpu, variants: [{ name: "a", replicas: 2 }], gpuNodes: { instanceType: "m6i.large" } })).toEqual([]);
        expect(run({ optimization: { ...gpu, enabled: false, runId: undefined }, variants: [{ name: "a", replicas: 2 }] })).toEqual([]);
    });
});
