/**
 * The report's charts: Vega-Lite specs rendered to static SVG in Node (vega's
 * headless "none" renderer), so report.html needs no script and no network.
 * A chart is made only when it has data.
 */
import type { Row } from "./summarize";

export interface Chart {
    id: string;
    title: string;
    svg: string;
}

type Spec = Record<string, unknown>;

/** At most `n` evenly spaced values (keeps the page small; every value is still in the tables' percentiles). */
function thin(values: number[], n = 1500): number[] {
    if (values.length <= n) return values;
    const sorted = [...values].sort((a, b) => a - b);
    return Array.from({ length: n }, (_, i) => sorted[Math.floor((i * (sorted.length - 1)) / (n - 1))]!);
}

const label = (r: Row) => (r.step ? `${r.target} ${r.step}` : r.target);

export function chartSpecs(rows: Row[]): Array<{ id: string; title: string; spec: Spec }> {
    const out: Array<{ id: string; title: string; spec: Spec }> = [];
    const base = { $schema: "https://vega.github.io/schema/vega-lite/v6.json", width: 560, config: { font: "sans-serif" } };
    const single = rows.filter((r) => !r.sweep);

    // One box per target over its raw values (min–max whiskers).
    const boxes = (id: string, title: string, pick: (r: Row) => number[], axis: Record<string, unknown>) => {
        const values = single.flatMap((r) => thin(pick(r)).map((ms) => ({ target: label(r), ms })));
        if (!values.length) return;
        out.push({
            id,
            title,
            spec: {
                ...base,
                data: { values },
                mark: { type: "boxplot", extent: "min-max" },
                encoding: { y: { field: "target", type: "nominal", title: null }, x: { field: "ms", type: "quantitative", ...axis } },
            },
        });
    };
    boxes("latency-distribution", "Latency distribution per target (ms, log scale)", (r) => r.latencies, { scale: { type: "log" }, title: "latency (ms)" });
    boxes("ttft-distribution", "Time to first token per variant (ms)", (r) => r.ttfts, { title: "TTFT (ms)" });
    const sweep = rows
        .filter((r) => r.sweep && r.rate !== undefined)
        .flatMap((r) => (["p50", "p99"] as const).flatMap((p) => (r.latency[p] !== undefined ? [{ target: r.target, stat: p, series: `${r.target} ${p}`, rate: r.rate, ms: r.latency[p] }] : [])));
    if (sweep.length) {
        out.push({
            id: "latency-vs-load",
            title: "Latency vs offered load (sweep, open loop)",
            spec: {
                ...base,
                data: { values: sweep },
                mark: { type: "line", point: true },
                encoding: {
                    x: { field: "rate", type: "quantitative", title: "offered rate (requests/s)" },
                    y: { field: "ms", type: "quantitative", scale: { type: "log" }, title: "latency (ms)" },
                    color: { field: "series", type: "nominal", title: null },
                },
            },
        });
    }
    const protocols = single
        .filter((r) => r.kind === "rest-v1" || r.kind === "rest-v2" || r.kind === "grpc-v2")
        .flatMap((r) => (["p50", "p95", "p99"] as const).flatMap((p) => (r.latency[p] !== undefined ? [{ target: `${r.target} (${r.kind})`, stat: p, ms: r.latency[p] }] : [])));
    if (protocols.length) {
        out.push({
            id: "rest-vs-grpc",
            title: "REST vs gRPC: latency percentiles (ms)",
            spec: {
                ...base,
                data: { values: protocols },
                mark: "bar",
                encoding: {
                    y: { field: "target", type: "nominal", title: null, axis: { labelLimit: 320 } },
                    yOffset: { field: "stat" },
                    x: { field: "ms", type: "quantitative", title: "latency (ms)" },
                    color: { field: "stat", type: "nominal", title: "percentile" },
                },
            },
        });
    }
    const split = single.flatMap((r) => (r.split ?? []).map((s, order) => ({ target: label(r), phase: s.phase, ms: Math.max(0, s.ms), order })));
    if (split.length) {
        out.push({
            id: "time-split",
            title: "Where the time goes (mean ms per request)",
            spec: {
                ...base,
                data: { values: split },
                mark: "bar",
                encoding: {
                    y: { field: "target", type: "nominal", title: null },
                    x: { field: "ms", type: "quantitative", stack: "zero", title: "mean ms" },
                    color: { field: "phase", type: "nominal", title: "phase", sort: null, legend: { labelLimit: 320 } },
                    order: { field: "order" },
                },
            },
        });
    }
    return out;
}

export async function renderCharts(rows: Row[]): Promise<Chart[]> {
    // ESM-only packages with top-level await: loaded with import(), not require().
    const vega = await import("vega");
    // vega-lite's types need moduleResolution node16+ (this project uses "node"): typed by hand here.
    const vegaLite = "vega-lite";
    const { compile } = (await import(vegaLite)) as { compile: (spec: unknown) => { spec: import("vega").Spec } };
    const charts: Chart[] = [];
    for (const c of chartSpecs(rows)) {
        const view = new vega.View(vega.parse(compile(c.spec).spec), { renderer: "none" });
        charts.push({ id: c.id, title: c.title, svg: await view.toSVG() });
        view.finalize();
    }
    return charts;
}
