/**
 * KServe models (`mlserve:kserveModels`) and graphs (`mlserve:kserveGraphs`),
 * with the rules Knative and KServe would otherwise apply at admission
 * (components/workloads/kserveModels/spec.ts) and what the models need of the add-ons.
 */
import { z } from "zod";
import { modelFormats } from "../../components/platform/addons/kserveRuntimes";
import { graphErrors, modelErrors } from "../../components/workloads/kserveModels/spec";
import { addons, needsAddons } from "./addons";
import { eachItem, rule, validItems, type Check, type Issue, minNotAboveMax } from "./rules";
import { dnsLabel, duration, quantity } from "../../components/validators";

const FORMATS = modelFormats();
const replicas = { minReplicas: z.int().min(0).max(100).default(0), maxReplicas: z.int().min(1).max(100).default(3) };

export const kserveModelSchema = z.strictObject({
    name: dnsLabel(42),
    /** A model format a KServe ClusterServingRuntime serves (the InferenceService modelFormat), e.g. huggingface, sklearn, onnx. */
    runtime: z
        .string()
        .refine((f) => FORMATS.includes(f), { message: `must be a model format a serving runtime auto-selects: ${FORMATS.join(", ")}` })
        .default("huggingface"),
    /** s3://, gs://, https:// or hf://org/model. */
    storageUri: z.string().regex(/^(s3|gs|https?|hf|pvc|oci):\/\/\S+$/, "must be a storage URI (s3://, gs://, https://, hf://, pvc://, oci://)").optional(),
    /** Extra server arguments, e.g. --task=sequence_classification. */
    args: z.array(z.string()).default([]),
    /** v1 or v2 (Open Inference Protocol) over REST, or grpc-v2 (OIP over gRPC, port h2c). */
    protocol: z.enum(["v1", "v2", "grpc-v2"]).default("v1"),
    gpu: z.boolean().default(false),
    cpuRequest: quantity.default("1"),
    memoryRequest: quantity.default("2Gi"),
    cpuLimit: quantity.default("2"),
    memoryLimit: quantity.default("4Gi"),
    /** minReplicas 0 = scale to zero when idle (Knative mode). */
    ...replicas,
    /** Knative autoscaler class: kpa (concurrency/rps, scale to zero) or hpa (cpu/memory). */
    autoscalerClass: z.enum(["kpa", "hpa"]).default("kpa"),
    scaleMetric: z.enum(["concurrency", "rps", "cpu", "memory"]).default("concurrency"),
    /** Target per pod: in-flight requests (concurrency), requests/s (rps) or percent (cpu/memory). */
    scaleTarget: z.int().min(1).default(10),
    /** Hard cap of in-flight requests per pod; 0 = unlimited. */
    containerConcurrency: z.int().min(0).max(1000).default(0),
    /** Knative: wait this long before scaling down. */
    scaleDownDelay: duration().optional(),
    /** Knative: keep the last pod this long after scale to zero is decided. */
    scaleToZeroRetention: duration().optional(),
    /** Request timeout in seconds. */
    timeoutSeconds: z.int().min(1).max(3600).default(60),
    /** KServe's request batcher (REST only): trades up to maxLatencyMs of extra latency for fuller batches. */
    batcher: z
        .strictObject({
            enabled: z.boolean().default(false),
            maxBatchSize: z.int().min(2).max(1024).default(32),
            maxLatencyMs: z.int().min(1).max(10_000).default(50),
            timeoutSeconds: z.int().min(1).max(600).default(60),
        })
        .prefault({}),
    /** Override the cluster default (mlserve:addons.kserve.deploymentMode) for this model. */
    deploymentMode: z.enum(["Knative", "Standard"]).optional(),
});

const sst2 = "hf://distilbert/distilbert-base-uncased-finetuned-sst-2-english";
const roberta = "hf://cardiffnlp/twitter-roberta-base-sentiment-latest";

// The huggingface runtime would pick its vLLM backend for architectures vLLM knows (RoBERTa):
// on a CPU pod that fails, and vLLM's parser has no --task. Pin the Transformers backend.
const classify = ["--backend=huggingface", "--task=sequence_classification"];

/**
 * CPU-only defaults, all scaling to zero when idle: two small sentiment classifiers
 * over REST v1 (the ensemble's members), the first again over Open Inference
 * Protocol v2 REST and over gRPC (REST and gRPC of one model are two Knative Services).
 */
export const DEFAULT_KSERVE_MODELS: z.input<typeof kserveModelSchema>[] = [
    { name: "sst2", storageUri: sst2, args: classify, protocol: "v1" },
    { name: "sentiment-roberta", storageUri: roberta, args: classify, protocol: "v1" },
    { name: "sst2-v2", storageUri: sst2, args: classify, protocol: "v2" },
    { name: "sst2-grpc", storageUri: sst2, args: classify, protocol: "grpc-v2" },
];

export const kserveGraphSchema = z.strictObject({
    name: dnsLabel(42),
    routerType: z.enum(["Ensemble", "Sequence", "Splitter", "Switch"]).default("Ensemble"),
    steps: z.array(z.strictObject({ name: dnsLabel(42), model: dnsLabel(42), weight: z.int().min(0).max(100).optional() })).min(1),
    minReplicas: z.int().min(0).max(100).default(0),
    maxReplicas: z.int().min(1).max(100).default(3),
});

export const DEFAULT_KSERVE_GRAPHS: z.input<typeof kserveGraphSchema>[] = [
    { name: "sentiment-ensemble", routerType: "Ensemble", steps: [{ name: "sst2", model: "sst2" }, { name: "roberta", model: "sentiment-roberta" }] },
];

export const kserveModelsSchema = z.array(kserveModelSchema).max(50).prefault(DEFAULT_KSERVE_MODELS);
export const kserveGraphsSchema = z.array(kserveGraphSchema).max(20).prefault(DEFAULT_KSERVE_GRAPHS);

const models = validItems(kserveModelSchema).prefault(DEFAULT_KSERVE_MODELS);
const graphs = validItems(kserveGraphSchema).prefault(DEFAULT_KSERVE_GRAPHS);
/** Every model entry's name and protocol, even when other fields are broken: graph steps and name clashes need only these. */
const modelNames = validItems(z.object({ name: z.string(), protocol: kserveModelSchema.shape.protocol })).prefault(DEFAULT_KSERVE_MODELS);

export const kserveRules: Check[] = [
    rule({ kserveModels: modelNames, kserveGraphs: graphs, addons }, (v) =>
        v.kserveModels.length > 0 || v.kserveGraphs.length > 0
            ? needsAddons(["kserveModels"], "each KServe model", "set mlserve:kserveModels and mlserve:kserveGraphs to []", [{ addon: "kserve", for: "every model is an InferenceService" }], v.addons)
            : [],
    ),
    rule({ kserveModels: modelNames }, (v) => {
        const seen = new Set<string>();
        return v.kserveModels.flatMap(({ index, value }): Issue[] => {
            const dup = seen.has(value.name);
            seen.add(value.name);
            return dup ? [{ path: ["kserveModels", index, "name"], input: value.name, message: "duplicates another model name" }] : [];
        });
    }),
    // Each model against Knative/KServe admission, in the mode it will run in.
    rule({ kserveModels: models, addons }, (v) =>
        v.kserveModels.flatMap(({ index, value }) =>
            modelErrors(value, v.addons.kserve.deploymentMode).map((e) => ({ path: ["kserveModels", index, ...e.path], input: e.input, message: e.message })),
        ),
    ),
    rule({ kserveModels: modelNames, kserveGraphs: graphs }, (v) => {
        const names = new Set(v.kserveModels.map((m) => m.value.name));
        return v.kserveGraphs.flatMap(({ index, value }): Issue[] =>
            names.has(value.name) ? [{ path: ["kserveGraphs", index, "name"], input: value.name, message: "is also a model name; graph and model Services would collide" }] : [],
        );
    }),
    rule({ kserveModels: modelNames, kserveGraphs: graphs }, (v) => {
        const refs = v.kserveModels.map((m) => m.value);
        return v.kserveGraphs.flatMap(({ index, value }) => graphErrors(value, refs).map((e) => ({ path: ["kserveGraphs", index, ...e.path], message: e.message })));
    }),
];

/** Per model entry: replicas in order (mounted at mlserve:kserveModels). */
export const kserveModelItemRules: Check[] = [eachItem([rule(replicas, minNotAboveMax)])];

export type KServeModelConfig = z.infer<typeof kserveModelSchema>;
export type KServeGraphConfig = z.infer<typeof kserveGraphSchema>;
