/**
 * What TGI and vLLM accept, as data and pure functions: quantization modes,
 * which need a pre-quantized checkpoint, what each GPU generation can run, and
 * the container command line per engine. Sources: the engines' launcher docs
 * (`text-generation-launcher --help`, vLLM's engine arguments) at the pinned images.
 */
import type { GpuInstanceType } from "../../platform/cluster/instanceTypes";

/** TGI `--quantize` values; "none" means the flag is omitted (unquantized, fp16/bf16). */
export const QUANTIZE_MODES = [
    "none",
    "awq",
    "compressed-tensors",
    "eetq",
    "exl2",
    "gptq",
    "marlin",
    "bitsandbytes",
    "bitsandbytes-nf4",
    "bitsandbytes-fp4",
    "fp8",
] as const;
export type QuantizeMode = (typeof QUANTIZE_MODES)[number];

/**
 * Modes that read an already-quantized checkpoint, with the name such checkpoints usually
 * carry; a mismatch is a warning, not an error (names are conventions). The other modes
 * quantize at load time.
 */
export const CHECKPOINT_NAME_HINT: Partial<Record<QuantizeMode, RegExp>> = {
    awq: /awq/i,
    gptq: /gptq/i,
    marlin: /gptq|marlin/i,
    exl2: /exl2/i,
};

/** vLLM `--quantization` for each mode it can run; modes absent here are TGI-only. */
export const VLLM_QUANTIZATION: Partial<Record<QuantizeMode, string>> = {
    awq: "awq",
    gptq: "gptq",
    marlin: "gptq_marlin",
    "compressed-tensors": "compressed-tensors",
    "bitsandbytes-nf4": "bitsandbytes",
    fp8: "fp8",
};

export type Engine = "tgi" | "vllm";

export const ENGINE_PORT: Record<Engine, number> = { tgi: 80, vllm: 8000 };

/** Routes the load tests use, per engine. */
export const ENGINE_ROUTES: Record<Engine, Record<string, string>> = {
    tgi: {
        generate: "/generate",
        generateStream: "/generate_stream",
        chatCompletions: "/v1/chat/completions",
        completions: "/v1/completions",
        health: "/health",
        info: "/info",
        metrics: "/metrics",
    },
    vllm: {
        chatCompletions: "/v1/chat/completions",
        completions: "/v1/completions",
        health: "/health",
        models: "/v1/models",
        metrics: "/metrics",
    },
};

/** The serving signal KEDA scales on: requests waiting for a batch slot, summed over the variant's pods. */
export function queueDepthQuery(engine: Engine, variant: string): string {
    const metric = engine === "tgi" ? "tgi_queue_size" : "vllm:num_requests_waiting";
    // mlserve_io_variant is copied from the pod label by the llm-engines PodMonitor.
    return `sum(${metric}{mlserve_io_variant="${variant}"})`;
}

export interface EngineOptions {
    maxInputTokens: number;
    maxTotalTokens: number;
    maxConcurrentRequests: number;
    maxBatchPrefillTokens: number;
    maxBatchTotalTokens?: number;
    /** vLLM: fraction of GPU memory for weights + KV cache. */
    gpuMemoryUtilization: number;
}

export interface ServerArgsInput {
    engine: Engine;
    modelId: string;
    revision?: string;
    quantize: QuantizeMode;
    dtype?: "float16" | "bfloat16";
    options: EngineOptions;
    /** Seconds TGI keeps serving in-flight requests after SIGTERM. */
    gracefulTerminationSeconds: number;
    /** Name clients use in OpenAI-style requests. */
    servedModelName: string;
}

/** The container's arguments (the images' entrypoints are the launchers). */
export function serverArgs(v: ServerArgsInput): string[] {
    const o = v.options;
    if (v.engine === "tgi") {
        return [
            "--model-id", v.modelId,
            ...(v.revision ? ["--revision", v.revision] : []),
            "--hostname", "0.0.0.0",
            "--port", String(ENGINE_PORT.tgi),
            ...(v.quantize !== "none" ? ["--quantize", v.quantize] : []),
            ...(v.dtype ? ["--dtype", v.dtype] : []),
            "--max-input-tokens", String(o.maxInputTokens),
            "--max-total-tokens", String(o.maxTotalTokens),
            "--max-concurrent-requests", String(o.maxConcurrentRequests),
            "--max-batch-prefill-tokens", String(o.maxBatchPrefillTokens),
            ...(o.maxBatchTotalTokens ? ["--max-batch-total-tokens", String(o.maxBatchTotalTokens)] : []),
            "--graceful-termination-timeout", String(v.gracefulTerminationSeconds),
            "--usage-stats", "off",
            "--json-output",
        ];
    }
    // "none" has no entry: no --quantization flag.
    const quantization = VLLM_QUANTIZATION[v.quantize];
    if (v.quantize !== "none" && !quantization) throw new Error(`vLLM cannot run quantize mode ${v.quantize}`);
    return [
        "--model", v.modelId,
        ...(v.revision ? ["--revision", v.revision] : []),
        "--served-model-name", v.servedModelName,
        "--host", "0.0.0.0",
        "--port", String(ENGINE_PORT.vllm),
        ...(quantization ? ["--quantization", quantization] : []),
        ...(v.dtype ? ["--dtype", v.dtype] : []),
        "--max-model-len", String(o.maxTotalTokens),
        "--max-num-seqs", String(o.maxConcurrentRequests),
        "--max-num-batched-tokens", String(o.maxBatchPrefillTokens),
        "--gpu-memory-utilization", String(o.gpuMemoryUtilization),
        // No request-logging flag: vLLM >= 0.10.2 logs no requests by default; --disable-log-requests is deprecated there and removed later.
    ];
}

/** What the rules read of a variant (its config entry fits this shape). */
export interface VariantCheckInput extends Pick<EngineOptions, "maxInputTokens" | "maxTotalTokens" | "maxBatchPrefillTokens"> {
    name: string;
    engine: Engine;
    modelId: string;
    quantize: QuantizeMode;
    dtype?: string;
}

export interface Finding {
    /** Field of the variant the finding is about. */
    field: keyof VariantCheckInput;
    message: string;
}

/** Hard errors: the engine would refuse to start. */
export function variantErrors(v: VariantCheckInput, gpu: GpuInstanceType | undefined): Finding[] {
    const errors: Finding[] = [];
    if (v.dtype && v.quantize !== "none") {
        errors.push({ field: "dtype", message: `cannot be combined with quantize "${v.quantize}" (the engine picks the compute dtype of a quantized model); remove dtype or set quantize to "none"` });
    }
    if (v.engine === "vllm" && v.quantize !== "none" && !VLLM_QUANTIZATION[v.quantize]) {
        errors.push({
            field: "quantize",
            message: `"${v.quantize}" is a TGI mode vLLM cannot run; with engine vllm use one of: none, ${Object.keys(VLLM_QUANTIZATION).join(", ")}`,
        });
    }
    if (v.maxInputTokens >= v.maxTotalTokens) {
        errors.push({ field: "maxInputTokens", message: `must be below maxTotalTokens (${v.maxTotalTokens}): the total includes the generated tokens` });
    }
    if (v.engine === "tgi" && v.maxBatchPrefillTokens < v.maxInputTokens) {
        errors.push({ field: "maxBatchPrefillTokens", message: `must be >= maxInputTokens (${v.maxInputTokens}): TGI refuses a prefill budget smaller than one prompt` });
    }
    if (gpu && gpu.computeCapability < 8.0 && (v.quantize === "fp8" || v.quantize === "marlin" || v.quantize === "awq")) {
        errors.push({ field: "quantize", message: `"${v.quantize}" needs Marlin/AWQ kernels (compute capability 8.0+); ${gpu.gpuModel} is ${gpu.computeCapability}` });
    }
    return errors;
}

/** Warnings: valid, but not what a reader of the benchmark table would assume. */
export function variantWarnings(v: VariantCheckInput, gpu: GpuInstanceType | undefined): Finding[] {
    const warnings: Finding[] = [];
    const hint = CHECKPOINT_NAME_HINT[v.quantize];
    if (hint && !hint.test(v.modelId)) {
        warnings.push({ field: "modelId", message: `quantize "${v.quantize}" needs a pre-quantized checkpoint, and "${v.modelId}" does not look like one; the server fails to load if it is not` });
    }
    if (v.quantize === "fp8" && gpu && gpu.computeCapability >= 8.0 && gpu.computeCapability < 8.9) {
        warnings.push({ field: "quantize", message: `fp8 on ${gpu.gpuModel} (Ampere) runs FP8 weights with FP16 compute (Marlin kernels), not native FP8: it saves memory, not compute` });
    }
    if (v.quantize === "bitsandbytes") {
        warnings.push({ field: "quantize", message: "bitsandbytes 8-bit disables CUDA graphs and is deprecated upstream in favour of eetq; expect it to be the slowest mode" });
    }
    return warnings;
}
