/**
 * `mlserve:optimization`: a run of the model-optimization Job (optimize/):
 * distil, prune and quantize a text classifier, evaluate each result, write it
 * to S3 under models/<run id>/<variant>/, and serve the variants KServe's
 * Hugging Face runtime can load as they were measured.
 */
import { z } from "zod";
import { GPU_INSTANCE_TYPES, isGpuInstanceType } from "../../components/platform/cluster/instanceTypes";
import { dnsLabel, pinnedImage, quantity } from "../../components/validators";
import { OPTIMIZATION_STEPS, servableAsMeasured, variantsOf } from "../../components/workloads/optimization/spec";
import { addons, needsAddons } from "./addons";
import { clusterAreas } from "./cluster";
import { rule, validItems, type Check, type Issue } from "./rules";
import { variantSchema, DEFAULT_VARIANTS } from "./fleet";

const chain = z
    .string()
    .regex(new RegExp(`^(${OPTIMIZATION_STEPS.join("|")})(\\+(${OPTIMIZATION_STEPS.join("|")}))*$`), `must be steps joined by +, each one of ${OPTIMIZATION_STEPS.join(", ")} (e.g. distill+ffn+int8)`);
const fraction = z.number().gt(0).lt(1);

export const optimizationSchema = z.strictObject({
    enabled: z.boolean().default(false),
    /** A new run id starts a new run (a new Job and a new S3 prefix); a DNS label. */
    runId: dnsLabel(20).optional(),
    /** Teacher and baseline: a Hugging Face model id of a two-class sentiment classifier (SST-2 is the evaluation set). */
    teacher: z.string().regex(/^[\w.-]+\/[\w.-]+$/, "must be a Hugging Face model id").default("distilbert/distilbert-base-uncased-finetuned-sst-2-english"),
    /** `teacher-layers:N` (every k-th layer of the teacher) or a Hugging Face model id. */
    student: z.string().regex(/^(teacher-layers:[1-9]\d*|[\w.-]+\/[\w.-]+)$/, "must be teacher-layers:N or a Hugging Face model id").default("teacher-layers:3"),
    /** Method chains; each prefix of a chain is saved and measured as its own variant. */
    methods: z.array(chain).min(1).default(["distill", "ffn", "heads", "sparse", "int8", "distill+ffn+int8"]),
    targetSparsity: fraction.default(0.5),
    headFraction: fraction.default(0.25),
    ffnFraction: fraction.default(0.3),
    trainSteps: z.int().min(1).max(100_000).default(2000),
    recoverySteps: z.int().min(0).max(100_000).default(300),
    /** Train on a GPU node (one GPU) or on CPU (slower; latency is measured on CPU either way). */
    device: z.enum(["gpu", "cpu"]).default("gpu"),
    cpuRequest: quantity.default("4"),
    memoryRequest: quantity.default("16Gi"),
    memoryLimit: quantity.default("24Gi"),
    /** A pinned image; without one the stack builds optimize/Dockerfile into ECR. */
    image: pinnedImage.optional(),
    /** Variants to serve as InferenceServices (opt-<variant>); default: every variant KServe's runtime serves as measured. */
    serve: z.array(dnsLabel(30)).optional(),
});

export const optimization = optimizationSchema.prefault({});
const variants = validItems(variantSchema).prefault(DEFAULT_VARIANTS);

export const optimizationRules: Check[] = [
    rule({ optimization }, ({ optimization: o }): Issue[] => {
        if (!o.enabled) return [];
        const issues: Issue[] = [];
        if (!o.runId) issues.push({ path: ["optimization", "runId"], message: "is required when the optimization run is enabled: a DNS label such as r1 (a new id starts a new run)" });
        const produced = variantsOf(o.methods);
        (o.serve ?? []).forEach((v, i) => {
            if (!produced.includes(v)) {
                issues.push({ path: ["optimization", "serve", i], input: v, message: `is not a variant these methods produce (${produced.join(", ")})` });
            } else if (!servableAsMeasured(v)) {
                issues.push({
                    path: ["optimization", "serve", i],
                    input: v,
                    message: "is not served as measured by KServe's Hugging Face runtime (head-pruned weights load zero-padded, int8 is applied by the optimizer's own loader); serve a variant without heads or int8",
                });
            }
        });
        return issues;
    }),
    rule({ optimization, addons }, ({ optimization: o, addons: a }) =>
        o.enabled && (o.serve === undefined || o.serve.length > 0)
            ? needsAddons(["optimization", "serve"], "serving the optimized models", "set mlserve:optimization.serve to []", [{ addon: "kserve", for: "each optimized variant is an InferenceService" }], a)
            : [],
    ),
    // A GPU run needs a GPU the running variants leave free, or the Job stays Pending.
    rule({ optimization, variants, gpuNodes: clusterAreas.gpuNodes }, ({ optimization: o, variants: vs, gpuNodes }): Issue[] => {
        if (!o.enabled || o.device !== "gpu" || !isGpuInstanceType(gpuNodes.instanceType)) return [];
        const capacity = GPU_INSTANCE_TYPES[gpuNodes.instanceType].gpus * gpuNodes.maxSize;
        const running = vs.reduce((n, { value }) => n + value.replicas * value.gpus, 0);
        return running + 1 > capacity
            ? [
                  {
                      path: ["optimization", "device"],
                      input: "gpu",
                      message: `the run needs a GPU, and the running variants already use ${running} of the ${capacity} mlserve:gpuNodes allows: park a variant (replicas: 0), raise mlserve:gpuNodes.maxSize, or set device: cpu`,
                  },
              ]
            : [];
    }),
];

export type OptimizationConfig = z.infer<typeof optimizationSchema>;
