/** Exact statistics from raw samples, and Prometheus text-format histogram deltas. Pure. */

/** Nearest-rank percentile of `values` (p in 0..100): the smallest value with at least p% of the values at or below it. */
export function percentile(values: readonly number[], p: number): number | undefined {
    if (values.length === 0) return undefined;
    const sorted = [...values].sort((a, b) => a - b);
    const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
    return sorted[rank - 1];
}

export function mean(values: readonly number[]): number | undefined {
    return values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined;
}

export interface Percentiles {
    p50?: number;
    p95?: number;
    p98?: number;
    p99?: number;
}

export function percentiles(values: readonly number[]): Percentiles {
    return { p50: percentile(values, 50), p95: percentile(values, 95), p98: percentile(values, 98), p99: percentile(values, 99) };
}

/** `name{labels} value` samples of a Prometheus text exposition, keyed by the whole series text before the value. */
export function parsePrometheusText(text: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const line of text.split("\n")) {
        if (!line || line.startsWith("#")) continue;
        const m = /^(\S+?(?:\{.*\})?)\s+(\S+)(?:\s+\d+)?$/.exec(line.trim());
        if (m) out.set(m[1]!, Number(m[2]));
    }
    return out;
}

/** Sum over every series of `metric` (any labels), optionally only those whose labels contain `labelFilter`. */
function total(series: Map<string, number>, metric: string, labelFilter?: string): number {
    let sum = 0;
    for (const [k, v] of series) {
        const name = k.split("{")[0];
        if (name === metric && (!labelFilter || k.includes(labelFilter))) sum += v;
    }
    return sum;
}

/** Mean of a histogram over the interval between two scrapes: Δ_sum / Δ_count (undefined if nothing was observed). */
export function histogramMeanDelta(before: Map<string, number>, after: Map<string, number>, histogram: string, labelFilter?: string): { mean?: number; count: number } {
    const count = total(after, `${histogram}_count`, labelFilter) - total(before, `${histogram}_count`, labelFilter);
    const sum = total(after, `${histogram}_sum`, labelFilter) - total(before, `${histogram}_sum`, labelFilter);
    return { mean: count > 0 ? sum / count : undefined, count };
}
