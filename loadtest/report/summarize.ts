/** One row per run (per sweep step), with every column the report shows. Pure. */
import { GPU_INSTANCE_TYPES, isGpuInstanceType } from "../../components/platform/cluster/instanceTypes";
import type { QuantizeMode } from "../../components/workloads/llm/engines";
import { EC2_HOURLY_USD } from "../../infra/cost/prices";
import type { Manifest, Quality, RunData, RunRecord } from "./load";
import { decodeFloorMs, REFERENCE_SEED } from "./reference";
import { histogramMeanDelta, mean, parsePrometheusText, percentiles, type Percentiles } from "./stats";

/** Mean ms per phase; the phases of one row add up to its mean client latency. */
export type Split = Array<{ phase: string; ms: number }>;

export interface Row {
    target: string;
    /** What was measured: e.g. "locust (closed, 100 users)", "vegeta (open, 10/s)". */
    load: string;
    tool: RunRecord["tool"];
    kind: RunRecord["kind"];
    engine?: string;
    quantize?: string;
    model?: string;
    /** Offered rate (open loop). */
    rate?: number;
    step?: string | null;
    sweep: boolean;
    saturated: boolean;
    requests: number;
    errors: number;
    durationS: number;
    rps: number;
    latency: Percentiles;
    meanMs?: number;
    ttft: Percentiles;
    tpotP50?: number;
    outputTokensPerS?: number;
    split?: Split;
    gpuUtilPercent?: number | null;
    gpuMemoryUsedMiB?: number | null;
    usdPerMillionTokens?: number;
    decodeFloorMs?: number;
    tpotOverFloor?: number;
    quality?: Quality;
    reference?: { name: string; p50: number; p95: number; p98: number };
    /** Raw latencies (ms) for the distribution chart. */
    latencies: number[];
    ttfts: number[];
    /** Async: submit latency percentiles (the row's latency is to completion). */
    submit?: Percentiles;
}

const TGI_PHASES: Array<[string, string]> = [
    ["validation + tokenization", "x-validation-time"],
    ["queue", "x-queue-time"],
    ["inference", "x-inference-time"],
];

/** TGI's own split from its timing headers; the rest of the client's latency is network + client. */
function tgiSplit(items: Array<{ e2eMs: number; headers: Record<string, number> }>): Split | undefined {
    const withHeaders = items.filter((s) => s.headers["x-total-time"] !== undefined);
    if (!withHeaders.length) return undefined;
    const split: Split = [{ phase: "network + client", ms: mean(withHeaders.map((s) => s.e2eMs - s.headers["x-total-time"]!))! }];
    for (const [phase, h] of TGI_PHASES) split.push({ phase, ms: mean(withHeaders.map((s) => s.headers[h] ?? 0))! });
    return split;
}

/** KServe model server's step histograms between the scrapes before and after the run. */
function kserveSplit(d: RunData, clientMeanMs: number | undefined): Split | undefined {
    if (!d.metricsBefore || !d.metricsAfter || clientMeanMs === undefined) return undefined;
    const before = parsePrometheusText(d.metricsBefore);
    const after = parsePrometheusText(d.metricsAfter);
    const steps = (["preprocess", "predict", "postprocess"] as const).map((s) => ({ phase: s, ...histogramMeanDelta(before, after, `request_${s}_seconds`) }));
    if (steps.every((s) => s.mean === undefined)) return undefined;
    const server = steps.map((s) => ({ phase: s.phase, ms: (s.mean ?? 0) * 1000 }));
    return [{ phase: "network + client + queue-proxy", ms: clientMeanMs - server.reduce((a, b) => a + b.ms, 0) }, ...server];
}

function vegetaHeaders(h: Record<string, string[]> | undefined): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(h ?? {})) if (k.toLowerCase().startsWith("x-")) out[k.toLowerCase()] = Number(v[0]);
    return out;
}

function completionTokens(body: string | undefined): number {
    try {
        const j = JSON.parse(Buffer.from(body ?? "", "base64").toString("utf8")) as { usage?: { completion_tokens?: number } };
        return j.usage?.completion_tokens ?? 0;
    } catch {
        return 0;
    }
}

export function summarizeRun(d: RunData, m: Manifest): Row {
    const r = d.run;
    const gpu = isGpuInstanceType(m.gpuInstanceType) ? GPU_INSTANCE_TYPES[m.gpuInstanceType] : undefined;
    const spanS = Math.max(1e-9, r.endedAt - r.startedAt);
    let latencies: number[] = [];
    let ttfts: number[] = [];
    let tpots: number[] = [];
    let requests = 0;
    let errors = 0;
    let tokens = 0;
    let durationS = r.durationS ?? spanS;
    let split: Split | undefined;
    let submit: Percentiles | undefined;
    if (d.samples) {
        const ok = d.samples.filter((s) => s.ok);
        requests = d.samples.length;
        errors = requests - ok.length;
        latencies = ok.map((s) => s.e2eMs);
        ttfts = ok.filter((s) => s.kind === "stream" && s.ttftMs !== null && s.ttftMs !== undefined).map((s) => s.ttftMs!);
        tpots = ok.filter((s) => s.kind === "stream" && s.tpotMs !== null && s.tpotMs !== undefined).map((s) => s.tpotMs!);
        tokens = ok.reduce((a, s) => a + s.outputTokens, 0);
        // Closed loop: the measured window is from the first request's start to the last one's end.
        const start = Math.min(...d.samples.map((s) => s.t));
        const end = Math.max(...d.samples.map((s) => s.t + s.e2eMs / 1000));
        if (d.samples.length) durationS = end - start;
        split = tgiSplit(ok.filter((s) => s.kind === "generate" && s.headers).map((s) => ({ e2eMs: s.e2eMs, headers: s.headers! })));
    } else if (d.jobs && d.vegeta) {
        requests = d.vegeta.length;
        const accepted = d.vegeta.filter((v) => v.code === 200 || v.code === 202);
        submit = percentiles(accepted.map((v) => v.latency / 1e6));
        const done = d.jobs.filter((j) => j.status === "done" && j.finished !== null);
        errors = requests - done.length;
        // To completion: from the submit's start (= its answer − its latency) to the poll that saw it done.
        const byId = new Map(d.jobs.map((j) => [j.jobId, j]));
        latencies = accepted
            .map((v) => {
                const body = v.body ? (JSON.parse(Buffer.from(v.body, "base64").toString("utf8")) as { jobId?: string }) : {};
                const j = body.jobId ? byId.get(body.jobId) : undefined;
                return j && j.status === "done" && j.finished !== null ? (j.finished - Date.parse(v.timestamp) / 1000) * 1000 : undefined;
            })
            .filter((x): x is number => x !== undefined);
    } else if (d.vegeta) {
        requests = d.vegeta.length;
        const ok = d.vegeta.filter((v) => v.code >= 200 && v.code < 300 && !v.error);
        errors = requests - ok.length;
        latencies = ok.map((v) => v.latency / 1e6);
        if (r.kind === "llm") {
            const items = ok.map((v) => ({ e2eMs: v.latency / 1e6, headers: vegetaHeaders(v.headers) }));
            split = tgiSplit(items);
            // TGI says how many tokens in a header; an OpenAI-style answer (vLLM) in usage.completion_tokens.
            tokens = ok.reduce((a, v) => a + (vegetaHeaders(v.headers)["x-generated-tokens"] ?? completionTokens(v.body)), 0);
        }
    } else if (d.ghz) {
        const details = d.ghz.details ?? [];
        requests = d.ghz.count;
        const ok = details.filter((x) => x.status === "OK" && !x.error);
        errors = requests - ok.length;
        latencies = ok.map((x) => x.latency / 1e6);
    }
    const meanMs = mean(latencies);
    if (r.kind.startsWith("rest") || r.kind === "grpc-v2") split = kserveSplit(d, meanMs);
    const tokensPerS = tokens > 0 ? tokens / durationS : undefined;
    const price = EC2_HOURLY_USD[m.gpuInstanceType];
    const floor = r.kind === "llm" ? decodeFloorMs(r.model, r.quantize as QuantizeMode | undefined, gpu?.gpuMemoryBandwidthGBps) : undefined;
    const tpotP50 = percentiles(tpots).p50;
    const closed = r.tool === "locust";
    return {
        target: r.target,
        load: closed ? `locust (closed loop, ${r.users ?? "?"} users)` : `${r.tool} (open loop, ${r.rate ?? "?"}/s)`,
        tool: r.tool,
        kind: r.kind,
        engine: r.engine,
        quantize: r.quantize,
        model: r.model,
        rate: r.rate,
        step: r.step,
        sweep: !!r.sweep,
        saturated: !!r.saturated,
        requests,
        errors,
        durationS,
        rps: requests / durationS,
        latency: percentiles(latencies),
        meanMs,
        ttft: percentiles(ttfts),
        tpotP50,
        outputTokensPerS: tokensPerS,
        split,
        gpuUtilPercent: d.prometheus?.gpuUtilPercent,
        gpuMemoryUsedMiB: d.prometheus?.gpuMemoryUsedMiB,
        usdPerMillionTokens: r.kind === "llm" && price && tokensPerS ? (price / 3600 / tokensPerS) * 1e6 : undefined,
        decodeFloorMs: floor,
        tpotOverFloor: floor && tpotP50 ? tpotP50 / floor : undefined,
        quality: d.quality?.[r.target],
        reference: r.kind === "llm" && r.engine === "tgi" ? REFERENCE_SEED.byQuantize[(r.quantize ?? "none") as QuantizeMode] : undefined,
        latencies,
        ttfts,
        submit,
    };
}

export function summarize(runs: RunData[], m: Manifest): Row[] {
    return runs.map((d) => summarizeRun(d, m));
}
