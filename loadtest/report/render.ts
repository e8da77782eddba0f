/** report.md and a self-contained report.html (tables + inline SVG charts, no script). */
import type { Chart } from "./charts";
import type { Manifest } from "./load";
import { REFERENCE_SEED } from "./reference";
import type { Row } from "./summarize";

const ms = (x: number | undefined | null) => (x === undefined || x === null || Number.isNaN(x) ? "–" : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const num = (x: number | undefined | null, digits = 1) => (x === undefined || x === null || Number.isNaN(x) ? "–" : x.toFixed(digits));
const pct = (x: number | undefined | null) => (x === undefined || x === null ? "–" : `${(x * 100).toFixed(1)}%`);

export interface Table {
    title: string;
    note?: string;
    head: string[];
    rows: string[][];
}

const rowName = (r: Row) => `${r.target}${r.step ? ` ${r.step}` : ""}`;

export function tables(rows: Row[], m: Manifest): Table[] {
    const t: Table[] = [];
    t.push({
        title: "Latency and throughput",
        note: "Percentiles are exact (nearest rank over every request kept), not locust's rounded buckets. Errors: non-2xx, transport errors, failed or unfinished async jobs.",
        head: ["target", "load", "requests", "errors", "RPS", "p50 ms", "p95 ms", "p98 ms", "p99 ms"],
        rows: rows.map((r) => [rowName(r), r.load + (r.saturated ? " (saturated)" : ""), String(r.requests), String(r.errors), num(r.rps, 2), ms(r.latency.p50), ms(r.latency.p95), ms(r.latency.p98), ms(r.latency.p99)]),
    });
    const llm = rows.filter((r) => r.kind === "llm");
    if (llm.length) {
        t.push({
            title: "LLM serving",
            note: `TTFT: first SSE event. TPOT: (end-to-end − TTFT) ÷ (tokens − 1), streaming requests (TGI's x-time-per-token includes prefill and is not TPOT). Decode floor: weight bytes ÷ GPU memory bandwidth (${m.gpuInstanceType}). $ per million output tokens: the ${m.gpuInstanceType} on-demand price (infra/cost/prices.ts) ÷ output tokens/s. GPU figures: DCGM exporter through Prometheus, when it was reachable.`,
            head: ["target", "engine / quantize", "TTFT p50", "TTFT p95", "TPOT p50", "output tok/s", "$/M out tok", "decode floor ms", "TPOT ÷ floor", "GPU util %", "GPU mem MiB"],
            rows: llm.map((r) => [
                rowName(r),
                `${r.engine ?? "?"} / ${r.quantize ?? "?"}`,
                ms(r.ttft.p50),
                ms(r.ttft.p95),
                ms(r.tpotP50),
                num(r.outputTokensPerS),
                num(r.usdPerMillionTokens, 2),
                num(r.decodeFloorMs),
                num(r.tpotOverFloor, 2),
                r.gpuUtilPercent === undefined ? "n/a (no Prometheus)" : num(r.gpuUtilPercent),
                r.gpuMemoryUsedMiB === undefined ? "n/a" : num(r.gpuMemoryUsedMiB, 0),
            ]),
        });
        t.push({
            title: "Quality and the reference",
            note: `Execution accuracy: the answer's SQL returns the same rows as the reference SQL, both run in SQLite on the row's schema and data (rows whose own SQL fails in SQLite are left out). Exact match: equal after normalisation (case outside literals, whitespace, trailing ';'). Reference columns: ${REFERENCE_SEED.label}, from ${REFERENCE_SEED.source}.`,
            head: ["target", "answers scored", "execution accuracy", "exact match", "ours p50 / p95 / p98", "reference mode", "reference p50 / p95 / p98"],
            rows: llm.map((r) => [
                rowName(r),
                r.quality ? String(r.quality.scored) : "–",
                pct(r.quality?.executionAccuracy),
                pct(r.quality?.exactMatch),
                `${ms(r.latency.p50)} / ${ms(r.latency.p95)} / ${ms(r.latency.p98)}`,
                r.reference?.name ?? "–",
                r.reference ? `${r.reference.p50} / ${r.reference.p95} / ${r.reference.p98}` : "–",
            ]),
        });
    }
    const split = rows.filter((r) => r.split);
    if (split.length) {
        t.push({
            title: "Time split (mean ms per request)",
            note: "TGI: from its x-validation-time, x-queue-time, x-inference-time and x-total-time headers (plain /generate requests); network + client = client latency − x-total-time. KServe: the model server's request_preprocess/predict/postprocess_seconds histograms between scrapes before and after the run; the rest is network, client and Knative's queue-proxy.",
            head: ["target", "phases"],
            rows: split.map((r) => [rowName(r), r.split!.map((s) => `${s.phase} ${ms(s.ms)}`).join("; ")]),
        });
    }
    const asyncRows = rows.filter((r) => r.submit);
    if (asyncRows.length) {
        t.push({
            title: "Async gateway",
            note: "Latency columns above are submit-to-completion (the poll that first saw the job done; resolution: the poll interval). Submit is the gateway's answer to POST /v1/jobs.",
            head: ["target", "submit p50 ms", "submit p99 ms"],
            rows: asyncRows.map((r) => [rowName(r), ms(r.submit!.p50), ms(r.submit!.p99)]),
        });
    }
    return t;
}

function header(m: Manifest): string[] {
    const when = new Date(m.startedAt * 1000).toISOString();
    return [
        `Run \`${m.runId}\`, profile \`${m.profile}\`, started ${when}, ${Math.round(m.finishedAt - m.startedAt)} s.`,
        `Tools: ${Object.entries(m.tools).map(([k, v]) => `${k} ${v}`).join(", ")}. GPU node type: ${m.gpuInstanceType}. Dataset: ${m.dataset.source} (${m.dataset.rows} rows).`,
    ];
}

export function markdown(rows: Row[], m: Manifest, o: { banner?: string } = {}): string {
    const lines = [`# Benchmark report: ${m.runId}`, ""];
    if (o.banner) lines.push(`> **${o.banner}**`, "");
    lines.push(...header(m), "", "Charts: see report.html beside this file.", "");
    for (const t of tables(rows, m)) {
        lines.push(`## ${t.title}`, "");
        if (t.note) lines.push(t.note, "");
        lines.push(`| ${t.head.join(" | ")} |`, `| ${t.head.map(() => "---").join(" | ")} |`);
        for (const r of t.rows) lines.push(`| ${r.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`);
        lines.push("");
    }
    return lines.join("\n");
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function html(rows: Row[], m: Manifest, charts: Chart[], o: { banner?: string } = {}): string {
    const parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        `<title>Benchmark report: ${esc(m.runId)}</title>`,
        "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.banner{background:#fff3cd;border:1px solid #e0c36a;padding:.6em 1em}.note{color:#444;font-size:90%}figure{margin:1.5em 0}</style>",
        "</head><body>",
        `<h1>Benchmark report: ${esc(m.runId)}</h1>`,
        ...(o.banner ? [`<p class="banner"><strong>${esc(o.banner)}</strong></p>`] : []),
        ...header(m).map((l) => `<p>${esc(l.replace(/`/g, ""))}</p>`),
    ];
    for (const c of charts) parts.push(`<figure class="chart" data-chart="${esc(c.id)}"><figcaption>${esc(c.title)}</figcaption>${c.svg}</figure>`);
    for (const t of tables(rows, m)) {
        parts.push(`<h2>${esc(t.title)}</h2>`);
        if (t.note) parts.push(`<p class="note">${esc(t.note)}</p>`);
        parts.push(`<table><thead><tr>${t.head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>`);
        for (const r of t.rows) parts.push(`<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`);
        parts.push("</tbody></table>");
    }
    parts.push("</body></html>");
    return parts.join("\n");
}
