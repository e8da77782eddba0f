/**
 * Engine knowledge as pure functions (components/workloads/llm/engines.ts): the
 * launcher command lines of TGI and vLLM, the queue-depth query KEDA scales on,
 * and the errors and warnings a variant gets before any GPU is rented.
 * Expected flags are the launchers' own (`text-generation-launcher --help` for
 * TGI 3.3, vLLM 0.11 engine arguments), written out here.
 */
import { describe, expect, it } from "vitest";
import { QUANTIZE_MODES, queueDepthQuery, serverArgs, variantErrors, variantWarnings, type ServerArgsInput, type VariantCheckInput } from "../../components/workloads/llm/engines";
import type { GpuInstanceType } from "../../components/platform/cluster/instanceTypes";

const options = { maxInputTokens: 2048, maxTotalTokens: 4096, maxConcurrentRequests: 128, maxBatchPrefillTokens: 4096, gpuMemoryUtilization: 0.9 };
const tgi: ServerArgsInput = { engine: "tgi", modelId: "microsoft/Phi-3.5-mini-instruct", quantize: "none", servedModelName: "microsoft/Phi-3.5-mini-instruct", gracefulTerminationSeconds: 105, options };
const vllm: ServerArgsInput = { ...tgi, engine: "vllm" };

/** A GPU with only what the rules read made explicit. */
const gpu = (gpuModel: string, computeCapability: number): GpuInstanceType => ({ gpus: 1, gpuModel, gpuMemoryGiB: 24, gpuMemoryBandwidthGBps: 600, computeCapability, vcpus: 4, memoryGiB: 16 });
const T4 = gpu("T4", 7.5);
const A100 = gpu("A100", 8.0);
const A10G = gpu("A10G", 8.6);
const L4 = gpu("L4", 8.9);

const variant = (o: Partial<VariantCheckInput> = {}): VariantCheckInput => ({
    name: "a",
    engine: "tgi",
    modelId: "microsoft/Phi-3.5-mini-instruct",
    quantize: "none",
    maxInputTokens: 2048,
    maxTotalTokens: 4096,
    maxBatchPrefillTokens: 4096,
    ...o,
});

describe("quantize modes", () => {
    it("are TGI's --quantize values plus none, in the launcher's order", () => {
        expect(QUANTIZE_MODES).toEqual(["none", "awq", "compressed-tensors", "eetq", "exl2", "gptq", "marlin", "bitsandbytes", "bitsandbytes-nf4", "bitsandbytes-fp4", "fp8"]);
    });
});

describe("TGI command line", () => {
    it("an unquantized model with defaults: model, listen address, port 80, limits, graceful stop, no usage stats, JSON logs", () => {
        expect(serverArgs(tgi)).toEqual([
            "--model-id", "microsoft/Phi-3.5-mini-instruct",
            "--hostname", "0.0.0.0",
            "--port", "80",
            "--max-input-tokens", "2048",
            "--max-total-tokens", "4096",
            "--max-concurrent-requests", "128",
            "--max-batch-prefill-tokens", "4096",
            "--graceful-termination-timeout", "105",
            "--usage-stats", "off",
            "--json-output",
        ]);
    });

    it("revision, quantize, dtype and a total batch budget each add their flag where the launcher reads it", () => {
        const args = serverArgs({
            ...tgi,
            modelId: "TheBloke/Mistral-7B-Instruct-v0.2-AWQ",
            revision: "3a2c1f0",
            quantize: "awq",
            dtype: "bfloat16",
            gracefulTerminationSeconds: 30,
            options: { maxInputTokens: 1000, maxTotalTokens: 2000, maxConcurrentRequests: 16, maxBatchPrefillTokens: 3000, maxBatchTotalTokens: 50000, gpuMemoryUtilization: 0.5 },
        });
        expect(args).toEqual([
            "--model-id", "TheBloke/Mistral-7B-Instruct-v0.2-AWQ",
            "--revision", "3a2c1f0",
            "--hostname", "0.0.0.0",
            "--port", "80",
            "--quantize", "awq",
            "--dtype", "bfloat16",
            "--max-input-tokens", "1000",
            "--max-total-tokens", "2000",
            "--max-concurrent-requests", "16",
            "--max-batch-prefill-tokens", "3000",
            "--max-batch-total-tokens", "50000",
            "--graceful-termination-timeout", "30",
            "--usage-stats", "off",
            "--json-output",
        ]);
    });

    it("TGI accepts every mode vLLM does not (eetq, exl2, bitsandbytes 8-bit and fp4)", () => {
        for (const mode of ["eetq", "exl2", "bitsandbytes", "bitsandbytes-fp4"] as const) {
            const args = serverArgs({ ...tgi, quantize: mode });
            expect(args.slice(6, 8), mode).toEqual(["--quantize", mode]);
        }
    });
});

describe("vLLM command line", () => {
    it("an unquantized model: --model, the name clients send, port 8000, context length, batch limits, GPU memory share", () => {
        expect(serverArgs({ ...vllm, servedModelName: "phi" })).toEqual([
            "--model", "microsoft/Phi-3.5-mini-instruct",
            "--served-model-name", "phi",
            "--host", "0.0.0.0",
            "--port", "8000",
            "--max-model-len", "4096",
            "--max-num-seqs", "128",
            "--max-num-batched-tokens", "4096",
            "--gpu-memory-utilization", "0.9",
        ]);
    });

    it("revision, quantization and dtype; TGI-only limits (input tokens, total batch tokens) are not passed", () => {
        const args = serverArgs({
            ...vllm,
            revision: "main",
            quantize: "gptq",
            dtype: "float16",
            options: { maxInputTokens: 1000, maxTotalTokens: 8192, maxConcurrentRequests: 64, maxBatchPrefillTokens: 2048, maxBatchTotalTokens: 99999, gpuMemoryUtilization: 0.85 },
        });
        expect(args).toEqual([
            "--model", "microsoft/Phi-3.5-mini-instruct",
            "--revision", "main",
            "--served-model-name", "microsoft/Phi-3.5-mini-instruct",
            "--host", "0.0.0.0",
            "--port", "8000",
            "--quantization", "gptq",
            "--dtype", "float16",
            "--max-model-len", "8192",
            "--max-num-seqs", "64",
            "--max-num-batched-tokens", "2048",
            "--gpu-memory-utilization", "0.85",
        ]);
    });

    it.each([
        ["awq", "awq"],
        ["gptq", "gptq"],
        ["marlin", "gptq_marlin"],
        ["compressed-tensors", "compressed-tensors"],
        ["bitsandbytes-nf4", "bitsandbytes"],
        ["fp8", "fp8"],
    ] as const)("quantize %s runs as --quantization %s", (mode, quantization) => {
        const args = serverArgs({ ...vllm, quantize: mode });
        expect(args.slice(8, 10)).toEqual(["--quantization", quantization]);
    });

    it.each(["eetq", "exl2", "bitsandbytes", "bitsandbytes-fp4"] as const)("TGI-only mode %s is refused with the mode named", (mode) => {
        expect(() => serverArgs({ ...vllm, quantize: mode })).toThrow(new Error(`vLLM cannot run quantize mode ${mode}`));
    });
});

describe("queue depth query", () => {
    it("sums TGI's queue size or vLLM's waiting requests over the variant's pods", () => {
        expect(queueDepthQuery("tgi", "fp16")).toBe('sum(tgi_queue_size{mlserve_io_variant="fp16"})');
        expect(queueDepthQuery("vllm", "v")).toBe('sum(vllm:num_requests_waiting{mlserve_io_variant="v"})');
    });
});

describe("variant errors", () => {
    it("a default variant has none, on any GPU or none known", () => {
        expect(variantErrors(variant(), undefined)).toEqual([]);
        expect(variantErrors(variant(), T4)).toEqual([]);
        expect(variantErrors(variant({ engine: "vllm" }), L4)).toEqual([]);
    });

    it("dtype with a quantize mode names both keys and the two fixes; dtype alone is fine", () => {
        expect(variantErrors(variant({ dtype: "float16", quantize: "eetq" }), undefined)).toEqual([
            { field: "dtype", message: 'cannot be combined with quantize "eetq" (the engine picks the compute dtype of a quantized model); remove dtype or set quantize to "none"' },
        ]);
        expect(variantErrors(variant({ dtype: "float16" }), undefined)).toEqual([]);
    });

    it("vLLM with a TGI-only mode lists every mode vLLM can run", () => {
        expect(variantErrors(variant({ engine: "vllm", quantize: "eetq" }), undefined)).toEqual([
            { field: "quantize", message: '"eetq" is a TGI mode vLLM cannot run; with engine vllm use one of: none, awq, gptq, marlin, compressed-tensors, bitsandbytes-nf4, fp8' },
        ]);
        expect(variantErrors(variant({ engine: "vllm", quantize: "bitsandbytes-nf4" }), undefined)).toEqual([]);
        // The same mode is fine on TGI.
        expect(variantErrors(variant({ quantize: "eetq" }), undefined)).toEqual([]);
    });

    it("maxInputTokens must be below maxTotalTokens: equal is an error, one below is not", () => {
        expect(variantErrors(variant({ maxInputTokens: 4096, maxTotalTokens: 4096 }), undefined)).toEqual([
            { field: "maxInputTokens", message: "must be below maxTotalTokens (4096): the total includes the generated tokens" },
        ]);
        expect(variantErrors(variant({ maxInputTokens: 4095, maxTotalTokens: 4096 }), undefined)).toEqual([]);
    });

    it("TGI's prefill budget must hold one prompt: equal is fine, one less is an error; vLLM has no such rule", () => {
        expect(variantErrors(variant({ maxInputTokens: 2048, maxBatchPrefillTokens: 2048 }), undefined)).toEqual([]);
        expect(variantErrors(variant({ maxInputTokens: 2048, maxBatchPrefillTokens: 2047 }), undefined)).toEqual([
            { field: "maxBatchPrefillTokens", message: "must be >= maxInputTokens (2048): TGI refuses a prefill budget smaller than one prompt" },
        ]);
        expect(variantErrors(variant({ engine: "vllm", maxInputTokens: 2048, maxBatchPrefillTokens: 2047 }), undefined)).toEqual([]);
    });

    it.each(["fp8", "marlin", "awq"] as const)("%s needs compute capability 8.0: an error on a T4, none on an A100 (exactly 8.0)", (mode) => {
        const modelId = "org/model-awq-gptq-marlin";
        expect(variantErrors(variant({ quantize: mode, modelId }), T4)).toEqual([
            { field: "quantize", message: `"${mode}" needs Marlin/AWQ kernels (compute capability 8.0+); T4 is 7.5` },
        ]);
        expect(variantErrors(variant({ quantize: mode, modelId }), gpu("X", 7.99))).toHaveLength(1);
        expect(variantErrors(variant({ quantize: mode, modelId }), A100)).toEqual([]);
        expect(variantErrors(variant({ quantize: mode, modelId }), undefined)).toEqual([]);
    });

    it("modes with their own kernels run on a T4", () => {
        for (const mode of ["eetq", "gptq", "bitsandbytes", "bitsandbytes-nf4"] as const) {
            expect(variantErrors(variant({ quantize: mode, modelId: "org/model-gptq" }), T4), mode).toEqual([]);
        }
    });

    it("several problems are reported together, in rule order", () => {
        const errors = variantErrors(variant({ engine: "vllm", quantize: "exl2", dtype: "bfloat16", maxInputTokens: 5000, maxTotalTokens: 4096 }), undefined);
        expect(errors.map((e) => e.field)).toEqual(["dtype", "quantize", "maxInputTokens"]);
    });
});

describe("variant warnings", () => {
    it("a plain unquantized variant gets none", () => {
        expect(variantWarnings(variant(), A10G)).toEqual([]);
    });

    it.each([
        ["awq", "TheBloke/Mistral-7B-Instruct-v0.2-AWQ"],
        ["awq", "org/phi-awq"],
        ["gptq", "TheBloke/Llama-2-7B-GPTQ"],
        ["marlin", "neuralmagic/llama-marlin"],
        ["marlin", "TheBloke/Llama-2-7B-GPTQ"],
        ["exl2", "turboderp/Llama-3-8B-exl2"],
    ] as const)("%s with a checkpoint named like one (%s) is quiet", (mode, modelId) => {
        expect(variantWarnings(variant({ quantize: mode, modelId }), undefined)).toEqual([]);
    });

    it.each(["awq", "gptq", "marlin", "exl2"] as const)("%s with a plain checkpoint warns on modelId that the server fails to load it", (mode) => {
        expect(variantWarnings(variant({ quantize: mode }), undefined)).toEqual([
            {
                field: "modelId",
                message: `quantize "${mode}" needs a pre-quantized checkpoint, and "microsoft/Phi-3.5-mini-instruct" does not look like one; the server fails to load if it is not`,
            },
        ]);
    });

    it("modes that quantize at load time need no special checkpoint", () => {
        for (const mode of ["eetq", "bitsandbytes-nf4", "bitsandbytes-fp4", "compressed-tensors"] as const) {
            expect(variantWarnings(variant({ quantize: mode }), undefined), mode).toEqual([]);
        }
    });

    it("fp8 on Ampere (8.0 up to below 8.9) warns it saves memory, not compute; on Ada (8.9) and unknown GPUs it does not", () => {
        const ampere = (model: string) => ({ field: "quantize", message: `fp8 on ${model} (Ampere) runs FP8 weights with FP16 compute (Marlin kernels), not native FP8: it saves memory, not compute` });
        expect(variantWarnings(variant({ quantize: "fp8" }), A10G)).toEqual([ampere("A10G")]);
        expect(variantWarnings(variant({ quantize: "fp8" }), A100)).toEqual([ampere("A100")]);
        expect(variantWarnings(variant({ quantize: "fp8" }), gpu("Y", 8.89))).toEqual([ampere("Y")]);
        expect(variantWarnings(variant({ quantize: "fp8" }), L4)).toEqual([]);
        expect(variantWarnings(variant({ quantize: "fp8" }), T4)).toEqual([]);
        expect(variantWarnings(variant({ quantize: "fp8" }), undefined)).toEqual([]);
        expect(variantWarnings(variant({ quantize: "eetq" }), A10G)).toEqual([]);
    });

    it("bitsandbytes 8-bit warns it is the slowest mode", () => {
        expect(variantWarnings(variant({ quantize: "bitsandbytes" }), undefined)).toEqual([
            { field: "quantize", message: "bitsandbytes 8-bit disables CUDA graphs and is deprecated upstream in favour of eetq; expect it to be the slowest mode" },
        ]);
    });
});
