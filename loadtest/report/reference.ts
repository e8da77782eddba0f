/**
 * Figures the report sets beside ours, each labelled with where it comes from.
 * Source: the seed measurement this project was started from (recorded before mlserve existed,
 * never re-measured here), and the Phi-3.5-mini weight sizes behind the decode floor
 * (3.82 B parameters, Microsoft's model card; the A10G's ~600 GB/s, NVIDIA's A10 datasheet).
 */
import type { QuantizeMode } from "../../components/workloads/llm/engines";

/** TGI 2.3.0, Phi-3.5-mini, g5.4xlarge, 100 concurrent users (locust), text-to-SQL prompts, default max_new_tokens. ms. */
export const REFERENCE_SEED: { label: string; source: string; byQuantize: Partial<Record<QuantizeMode, { name: string; p50: number; p95: number; p98: number }>> } = {
    label: "reference (TGI 2.3.0, g5.4xlarge, 100 users; not measured here)",
    source: "the seed measurement mlserve was started from (locust, TGI defaults)",
    byQuantize: {
        none: { name: "default", p50: 5600, p95: 6200, p98: 6300 },
        eetq: { name: "eetq", p50: 5000, p95: 5700, p98: 5900 },
        fp8: { name: "fp8", p50: 5000, p95: 5800, p98: 6000 },
        "bitsandbytes-nf4": { name: "nf4", p50: 8500, p95: 9200, p98: 9400 },
        "bitsandbytes-fp4": { name: "fp4", p50: 8600, p95: 9300, p98: 9400 },
        bitsandbytes: { name: "bitsandbytes 8-bit", p50: 13000, p95: 14000, p98: 14000 },
    },
};

/** Parameters of the models the fleet serves (weights = parameters × bytes per parameter). */
export const MODEL_PARAMETERS: Record<string, number> = {
    "microsoft/Phi-3.5-mini-instruct": 3.82e9,
};

/** Bytes per weight parameter as stored for decode: 16-bit, 8-bit and 4-bit modes. */
export const BYTES_PER_PARAMETER: Record<QuantizeMode, number> = {
    none: 2,
    eetq: 1,
    bitsandbytes: 1,
    fp8: 1,
    "compressed-tensors": 1,
    "bitsandbytes-nf4": 0.5,
    "bitsandbytes-fp4": 0.5,
    awq: 0.5,
    gptq: 0.5,
    marlin: 0.5,
    exl2: 0.5,
};

/**
 * Decode floor at batch 1: every generated token reads all weights once, so a token
 * cannot take less than weight bytes ÷ GPU memory bandwidth. ms, or undefined for an
 * unknown model.
 */
export function decodeFloorMs(model: string | undefined, quantize: QuantizeMode | undefined, bandwidthGBps: number | undefined): number | undefined {
    const params = model ? MODEL_PARAMETERS[model] : undefined;
    if (!params || !bandwidthGBps) return undefined;
    return ((params * BYTES_PER_PARAMETER[quantize ?? "none"]) / (bandwidthGBps * 1e9)) * 1000;
}
