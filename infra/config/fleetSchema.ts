/**
 * Config of the LLM serving fleet: `mlserve:variants` (one server per entry)
 * and `mlserve:fleet` (what the variants share). Engine rules that need more
 * than one field, or the GPU type, run in schema.ts where the whole config is known.
 */
import { z } from "zod";
import { QUANTIZE_MODES } from "../../components/llm/engines";
import { pinnedImage } from "./platformSchema";

const quantity = z.string().regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti)?$/, "must be a Kubernetes quantity such as 500m, 4, 32Gi");

export const variantSchema = z.strictObject({
    /** DNS label: the Deployment is llm-<name>, the URL http://llm-<name>.llm.svc.cluster.local. */
    name: z.string().regex(/^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$/, "must be a DNS label of 1-32 characters starting with a letter"),
    engine: z.enum(["tgi", "vllm"]).default("tgi"),
    modelId: z.string().regex(/^[\w.-]+\/[\w.-]+$/, "must be a Hugging Face model id such as microsoft/Phi-3.5-mini-instruct").default("microsoft/Phi-3.5-mini-instruct"),
    /** Model revision (branch, tag or commit); pin a commit for reproducible benchmarks. */
    revision: z.string().min(1).optional(),
    quantize: z.enum(QUANTIZE_MODES).default("none"),
    /** Compute dtype of an unquantized model; not allowed together with quantize. */
    dtype: z.enum(["float16", "bfloat16"]).optional(),
    /** Running replicas; 0 parks the variant (kept in config, no GPU used). */
    replicas: z.int().min(0).max(16).default(0),
    gpus: z.int().min(1).max(8).default(1),
    maxInputTokens: z.int().min(1).default(2048),
    maxTotalTokens: z.int().min(2).default(4096),
    maxConcurrentRequests: z.int().min(1).default(128),
    maxBatchPrefillTokens: z.int().min(1).default(4096),
    maxBatchTotalTokens: z.int().min(1).optional(),
    gpuMemoryUtilization: z.number().gt(0).max(0.98).default(0.9),
    /** Override the engine image (must be pinned). */
    image: pinnedImage.optional(),
    /** KEDA scaling on queue depth; replicas is then the minimum. */
    autoscaling: z
        .strictObject({
            enabled: z.boolean().default(false),
            maxReplicas: z.int().min(1).max(16).default(2),
            /** Waiting requests per replica before KEDA adds one. */
            queueDepthTarget: z.int().min(1).default(8),
        })
        .prefault({}),
});

export type VariantConfig = z.infer<typeof variantSchema>;

/** The seed measurement's six TGI modes, one GPU's worth running at a time (fp16), the rest parked. */
export const DEFAULT_VARIANTS: z.input<typeof variantSchema>[] = [
    { name: "fp16", replicas: 1 },
    { name: "eetq", quantize: "eetq" },
    { name: "fp8", quantize: "fp8" },
    { name: "int8", quantize: "bitsandbytes" },
    { name: "nf4", quantize: "bitsandbytes-nf4" },
    { name: "fp4", quantize: "bitsandbytes-fp4" },
];

export const variantsSchema = z.array(variantSchema).max(32).prefault(DEFAULT_VARIANTS);

export const fleetSchema = z.strictObject({
    /**
     * Where model weights are cached so restarts do not download again:
     * "hostPath" = a directory on the GPU node's root volume shared by every variant on that node
     * (one download of a model per node); "pvc" = a gp3 volume per variant; "emptyDir" = none.
     */
    modelCache: z.enum(["hostPath", "pvc", "emptyDir"]).default("hostPath"),
    /** Size of each variant's cache volume when modelCache is "pvc". */
    cacheSizeGiB: z.int().min(10).max(2000).default(100),
    /** Shared memory (/dev/shm, RAM-backed) per server. */
    shmSize: quantity.default("1Gi"),
    cpuRequest: quantity.default("4"),
    memoryRequest: quantity.default("24Gi"),
    memoryLimit: quantity.default("48Gi"),
    /** How long a stopping server may finish in-flight requests. */
    terminationGraceSeconds: z.int().min(10).max(3600).default(120),
});

export type FleetConfig = z.infer<typeof fleetSchema>;

/** Config keys held only as Pulumi secrets, never parsed into the plain config. */
export const SECRET_KEYS = ["hfToken"] as const;
