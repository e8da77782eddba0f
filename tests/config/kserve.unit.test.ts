/** infra/config/kserve.ts: `mlserve:kserveModels`, `mlserve:kserveGraphs` and their rules. */
import { describe, expect, it } from "vitest";
import { DEFAULT_KSERVE_GRAPHS, DEFAULT_KSERVE_MODELS, kserveGraphSchema, kserveGraphsSchema, kserveModelItemRules, kserveModelSchema, kserveModelsSchema, kserveRules } from "../../infra/config/kserve";
import { expectBounds, problemsOf } from "./bounds";

const run = (raw: unknown) => kserveRules.flatMap((c) => c(raw));
const m = (o: Record<string, unknown> = {}) => ({ name: "m", ...o });
const SST2 = "hf://distilbert/distilbert-base-uncased-finetuned-sst-2-english";
const CLASSIFY = ["--backend=huggingface", "--task=sequence_classification"];

describe("mlserve:kserveModels", () => {
    it("a model with only a name: Hugging Face runtime, REST v1, CPU, 0-3 replicas on KPA concurrency 10, 60 s timeout, no batcher", () => {
        expect(kserveModelSchema.parse({ name: "m" })).toEqual({
            name: "m",
            runtime: "huggingface",
            args: [],
            protocol: "v1",
            gpu: false,
            cpuRequest: "1",
            memoryRequest: "2Gi",
            cpuLimit: "2",
            memoryLimit: "4Gi",
            minReplicas: 0,
            maxReplicas: 3,
            autoscalerClass: "kpa",
            scaleMetric: "concurrency",
            scaleTarget: 10,
            containerConcurrency: 0,
            timeoutSeconds: 60,
            batcher: { enabled: false, maxBatchSize: 32, maxLatencyMs: 50, timeoutSeconds: 60 },
        });
    });

    it("the defaults: two sentiment classifiers over REST v1, the first again over v2 and gRPC, and an ensemble of the two", () => {
        expect(DEFAULT_KSERVE_MODELS).toEqual([
            { name: "sst2", storageUri: SST2, args: CLASSIFY, protocol: "v1" },
            { name: "sentiment-roberta", storageUri: "hf://cardiffnlp/twitter-roberta-base-sentiment-latest", args: CLASSIFY, protocol: "v1" },
            { name: "sst2-v2", storageUri: SST2, args: CLASSIFY, protocol: "v2" },
            { name: "sst2-grpc", storageUri: SST2, args: CLASSIFY, protocol: "grpc-v2" },
        ]);
        expect(DEFAULT_KSERVE_GRAPHS).toEqual([
            { name: "sentiment-ensemble", routerType: "Ensemble", steps: [{ name: "sst2", model: "sst2" }, { name: "roberta", model: "sentiment-roberta" }] },
        ]);
        expect(kserveModelsSchema.parse(undefined).map((x) => x.name)).toEqual(["sst2", "sentiment-roberta", "sst2-v2", "sst2-grpc"]);
        expect(kserveGraphsSchema.parse(undefined).map((x) => x.name)).toEqual(["sentiment-ensemble"]);
        expect(run({})).toEqual([]);
    });

    it("bounds of every number; at most 50 models and 20 graphs", () => {
        const s = kserveModelSchema;
        expectBounds(s, "minReplicas", (n) => m({ minReplicas: n }), 0, 100);
        expectBounds(s, "maxReplicas", (n) => m({ maxReplicas: n }), 1, 100);
        expectBounds(s, "scaleTarget", (n) => m({ scaleTarget: n }), 1, undefined);
        expectBounds(s, "containerConcurrency", (n) => m({ containerConcurrency: n }), 0, 1000);
        expectBounds(s, "timeoutSeconds", (n) => m({ timeoutSeconds: n }), 1, 3600);
        expectBounds(s, "batcher.maxBatchSize", (n) => m({ batcher: { maxBatchSize: n } }), 2, 1024);
        expectBounds(s, "batcher.maxLatencyMs", (n) => m({ batcher: { maxLatencyMs: n } }), 1, 10_000);
        expectBounds(s, "batcher.timeoutSeconds", (n) => m({ batcher: { timeoutSeconds: n } }), 1, 600);
        const models = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `m${i}` }));
        expect(problemsOf(kserveModelsSchema, models(50))).toEqual([]);
        expect(problemsOf(kserveModelsSchema, models(51))).toEqual([{ path: "", message: "Too big: expected array to have <=50 items" }]);
        const graphs = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `g${i}`, steps: [{ name: "s", model: "m" }] }));
        expect(problemsOf(kserveGraphsSchema, graphs(20))).toEqual([]);
        expect(problemsOf(kserveGraphsSchema, graphs(21))).toEqual([{ path: "", message: "Too big: expected array to have <=20 items" }]);
    });

    it("runtime is a format a KServe serving runtime auto-selects, listed in the message", () => {
        for (const runtime of ["sklearn", "onnx", "xgboost", "vLLM", "tensorflow"]) expect(problemsOf(kserveModelSchema, m({ runtime }))).toEqual([]);
        expect(problemsOf(kserveModelSchema, m({ runtime: "caffe" }))).toEqual([
            { path: "runtime", message: "must be a model format a serving runtime auto-selects: autogluon, huggingface, lightgbm, mlflow, onnx, paddle, pmml, pytorch, sklearn, tensorflow, tensorrt, triton, vLLM, xgboost" },
        ]);
    });

    it("storageUri takes the schemes KServe's storage initializer knows; durations and names are checked", () => {
        for (const storageUri of ["s3://b/k", "gs://b/k", "https://x/y", "http://x/y", "hf://org/m", "pvc://claim/p", "oci://r/i:1"]) expect(problemsOf(kserveModelSchema, m({ storageUri }))).toEqual([]);
        const msg = "must be a storage URI (s3://, gs://, https://, hf://, pvc://, oci://)";
        for (const storageUri of ["ftp://x", "s3://", "s3:/b", "xs3://b", "s3://b k", "/models/x"]) expect(problemsOf(kserveModelSchema, m({ storageUri }))).toEqual([{ path: "storageUri", message: msg }]);
        expect(problemsOf(kserveModelSchema, m({ scaleDownDelay: "30s", scaleToZeroRetention: "5m" }))).toEqual([]);
        expect(problemsOf(kserveModelSchema, m({ scaleDownDelay: "30", scaleToZeroRetention: "5d" })).map((p) => p.path)).toEqual(["scaleDownDelay", "scaleToZeroRetention"]);
        expect(problemsOf(kserveModelSchema, m({ name: "a".repeat(42) }))).toEqual([]);
        expect(problemsOf(kserveModelSchema, m({ name: "a".repeat(43) }))).toEqual([{ path: "name", message: "must be a DNS label of 1-42 characters starting with a letter" }]);
    });

    it("a graph: Ensemble by default, 0-3 replicas, at least one step, weights 0-100", () => {
        expect(kserveGraphSchema.parse({ name: "g", steps: [{ name: "s", model: "m" }] })).toEqual({ name: "g", routerType: "Ensemble", steps: [{ name: "s", model: "m" }], minReplicas: 0, maxReplicas: 3 });
        const g = (o: Record<string, unknown>) => ({ name: "g", steps: [{ name: "s", model: "m" }], ...o });
        expectBounds(kserveGraphSchema, "minReplicas", (n) => g({ minReplicas: n }), 0, 100);
        expectBounds(kserveGraphSchema, "maxReplicas", (n) => g({ maxReplicas: n }), 1, 100);
        expectBounds(kserveGraphSchema, "steps.0.weight", (n) => g({ steps: [{ name: "s", model: "m", weight: n }] }), 0, 100);
        expect(problemsOf(kserveGraphSchema, g({ steps: [] }))).toEqual([{ path: "steps", message: "Too small: expected array to have >=1 items" }]);
    });
});

describe("kserve rules", () => {
    it("models and graphs need KServe; with both lists empty nothing does", () => {
        const msg = "each KServe model needs KServe: every model is an InferenceService. Set mlserve:addons.kserve.enabled to true, or set mlserve:kserveModels and mlserve:kserveGraphs to []";
        const addons = { kserve: { enabled: false } };
        expect(run({ addons })).toEqual([{ path: ["kserveModels"], input: true, message: msg }]);
        expect(run({ addons, kserveModels: [m()], kserveGraphs: [] })).toEqual([{ path: ["kserveModels"], input: true, message: msg }]);
        expect(run({ addons, kserveModels: [], kserveGraphs: [{ name: "g", steps: [{ name: "s", model: "x" }] }] })[0]).toEqual({ path: ["kserveModels"], input: true, message: msg });
        expect(run({ addons, kserveModels: [], kserveGraphs: [] })).toEqual([]);
    });

    it("model names are unique, and a graph may not take a model's name", () => {
        expect(run({ kserveModels: [m(), { name: "n" }, m()], kserveGraphs: [{ name: "n", steps: [{ name: "a", model: "m" }, { name: "b", model: "m" }] }] })).toEqual([
            { path: ["kserveModels", 2, "name"], input: "m", message: "duplicates another model name" },
            { path: ["kserveGraphs", 0, "name"], input: "n", message: "is also a model name; graph and model Services would collide" },
        ]);
    });

    it("each model is checked in its deployment mode, the cluster default unless it sets one", () => {
        const kserveModels = [m({ minReplicas: 0 }), { name: "n", deploymentMode: "Standard", minReplicas: 1, autoscalerClass: "hpa", scaleMetric: "cpu" }];
        expect(run({ kserveModels, kserveGraphs: [] })).toEqual([]);
        expect(run({ kserveModels, kserveGraphs: [], addons: { kserve: { deploymentMode: "Standard" } } })).toEqual([
            { path: ["kserveModels", 0, "minReplicas"], input: 0, message: "Standard deployment mode (Deployment + HPA) cannot scale to zero; use Knative mode or minReplicas >= 1" },
            { path: ["kserveModels", 0, "scaleMetric"], input: "concurrency", message: 'Standard deployment mode scales with an HPA on cpu or memory, not "concurrency"' },
        ]);
    });

    it("graph steps name models that exist, over REST", () => {
        const kserveModels = [m(), { name: "g2", protocol: "grpc-v2" }];
        expect(run({ kserveModels, kserveGraphs: [{ name: "g", steps: [{ name: "a", model: "m" }, { name: "b", model: "x" }, { name: "c", model: "g2" }] }] })).toEqual([
            { path: ["kserveGraphs", 0, "steps", 1, "model"], message: 'no model named "x" in mlserve:kserveModels (models: m, g2)' },
            { path: ["kserveGraphs", 0, "steps", 2, "model"], message: '"g2" serves gRPC; the graph router calls models over REST' },
            { path: ["kserveGraphs", 0, "steps"], message: "all steps receive the same request body, so they must share one protocol (got v1, grpc-v2)" },
        ]);
        // A broken model entry still counts by name and protocol.
        expect(run({ kserveModels: [m({ minReplicas: -1 })], kserveGraphs: [{ name: "g", steps: [{ name: "a", model: "m" }, { name: "b", model: "m" }] }] })).toEqual([]);
    });

    it("per model item: minReplicas may equal maxReplicas, not exceed it", () => {
        const items = (raw: unknown) => kserveModelItemRules.flatMap((c) => c(raw));
        expect(items([m({ minReplicas: 3, maxReplicas: 3 }), m({ minReplicas: 4 })])).toEqual([{ path: [1, "minReplicas"], input: 4, message: "must be <= maxReplicas (3)" }]);
    });
});
