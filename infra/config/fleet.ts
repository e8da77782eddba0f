/**
 * The LLM serving fleet: `mlserve:variants` (one server per entry) and
 * `mlserve:fleet` (what the variants share), with the rules that need the
 * engine's knowledge, the GPU type and the add-ons.
 */
import { z } from "zod";
import { GPU_INSTANCE_TYPES, isGpuInstanceType } from "../../components/platform/cluster/instanceTypes";
import { QUANTIZE_MODES, variantErrors } from "../../components/workloads/llm/engines";
import { addons, needsAddons } from "./addons";
import { clusterAreas } from "./cluster";
import { rule, validItems, type Check, type Issue } from "./rules";
import { pinnedImage, quantity } from "../../components/validators";

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

/** Config keys held only as Pulumi secrets, never parsed into the plain config. */
export const SECRET_KEYS = ["hfToken"] as const;

/** Each variant that parses, with its index: rules still check the good ones when one entry is broken. */
const variants = validItems(variantSchema).prefault(DEFAULT_VARIANTS);
const gpuNodes = clusterAreas.gpuNodes;

function gpuOf(instanceType: string) {
    return isGpuInstanceType(instanceType) ? GPU_INSTANCE_TYPES[instanceType] : undefined;
}

export const fleetRules: Check[] = [
    // Names are unique.
    rule({ variants }, (v) => {
        const first = new Map<string, number>();
        return v.variants.flatMap(({ index, value }): Issue[] => {
            const earlier = first.get(value.name);
            if (earlier === undefined) first.set(value.name, index);
            return earlier === undefined ? [] : [{ path: ["variants", index, "name"], input: value.name, message: `duplicates variants[${earlier}]; variant names must be unique` }];
        });
    }),
    // What the engine and the GPU accept, and a server fits on one node.
    rule({ variants, gpuNodes }, (v) => {
        const gpu = gpuOf(v.gpuNodes.instanceType);
        return v.variants.flatMap(({ index, value }): Issue[] => [
            ...variantErrors(value, gpu).map((e) => ({ path: ["variants", index, e.field], input: value[e.field], message: e.message })),
            ...(gpu && value.gpus > gpu.gpus
                ? [{ path: ["variants", index, "gpus"], input: value.gpus, message: `a ${v.gpuNodes.instanceType} node has ${gpu.gpus} GPU(s); a server cannot span nodes` }]
                : []),
        ]);
    }),
    // The running variants fit in the GPU node group at its maximum.
    rule({ variants, gpuNodes }, (v) => {
        const gpu = gpuOf(v.gpuNodes.instanceType);
        const running = v.variants.reduce((n, { value }) => n + value.replicas * value.gpus, 0);
        const capacity = gpu ? gpu.gpus * v.gpuNodes.maxSize : Infinity;
        return running > capacity
            ? [
                  {
                      path: ["variants"],
                      input: `${running} GPUs`,
                      message: `the running variants need ${running} GPU(s) but mlserve:gpuNodes allows at most ${capacity} (maxSize ${v.gpuNodes.maxSize} × ${gpu!.gpus}); park variants (replicas: 0) or raise mlserve:gpuNodes.maxSize`,
                  },
              ]
            : [];
    }),
    // Queue-depth autoscaling: KEDA reads the queue depth from Prometheus; replicas is the floor.
    rule({ variants, addons }, (v) =>
        v.variants.flatMap(({ index, value }): Issue[] => {
            if (!value.autoscaling.enabled) return [];
            const at = ["variants", index, "autoscaling"];
            return [
                ...needsAddons(
                    [...at, "enabled"],
                    "queue-depth autoscaling",
                    "turn autoscaling off",
                    [
                        { addon: "keda", for: "it scales the server on the queue depth" },
                        { addon: "observability", for: "KEDA reads the queue depth from Prometheus" },
                    ],
                    v.addons,
                ),
                ...(value.autoscaling.maxReplicas < value.replicas
                    ? [{ path: [...at, "maxReplicas"], input: value.autoscaling.maxReplicas, message: `must be >= replicas (${value.replicas}), the minimum` }]
                    : []),
            ];
        }),
    ),
];

export type VariantConfig = z.infer<typeof variantSchema>;
export type FleetConfig = z.infer<typeof fleetSchema>;
