/**
 * The report tool on real result files: tests/loadtest/fixtures/local-run was
 * written by loadtest/run.py (profiles seed,sweep) against the stand-ins, and is
 * read here as a campaign's results would be. Expectations are recomputed from
 * the raw files, not taken from the report.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { chartSpecs, renderCharts } from "../../loadtest/report/charts";
import { buildReport, parseArgs } from "../../loadtest/report/cli";
import { loadResults, type AsyncJob, type LlmSample, type VegetaResult } from "../../loadtest/report/load";
import { decodeFloorMs } from "../../loadtest/report/reference";
import { html, markdown, tables } from "../../loadtest/report/render";
import { histogramMeanDelta, parsePrometheusText, percentile, percentiles } from "../../loadtest/report/stats";
import { summarize } from "../../loadtest/report/summarize";

const FIXTURE = path.join(__dirname, "fixtures", "local-run");
const results = loadResults(FIXTURE);
const rows = summarize(results.runs, results.manifest);
const lines = <T>(rel: string) =>
    fs
        .readFileSync(path.join(FIXTURE, rel), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as T);
const runDir = (tool: string, target: string, step?: string) => results.manifest.runs.find((r) => r.tool === tool && r.target === target && (step ? r.step === step : !r.step))!.dir;
/** Nearest rank, written out again: the ceil(p% of n)-th smallest. */
const nearestRank = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.ceil((p / 100) * xs.length) - 1];

describe("stats", () => {
    it("percentiles are nearest-rank over every sample", () => {
        const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose
        expect(percentiles(xs)).toEqual({ p50: 50, p95: 95, p98: 98, p99: 99 });
        expect(percentile([7], 99)).toBe(7);
        expect(percentile([], 50)).toBeUndefined();
        expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    });

    it("histogram deltas give the mean over the run only, per label", () => {
        const before = parsePrometheusText('# HELP x\nrequest_predict_seconds_sum{model_name="a"} 1\nrequest_predict_seconds_count{model_name="a"} 10\nrequest_predict_seconds_sum{model_name="b"} 5\nrequest_predict_seconds_count{model_name="b"} 5\n');
        const after = parsePrometheusText('request_predict_seconds_sum{model_name="a"} 4\nrequest_predict_seconds_count{model_name="a"} 20\nrequest_predict_seconds_sum{model_name="b"} 5\nrequest_predict_seconds_count{model_name="b"} 5\n');
        expect(histogramMeanDelta(before, after, "request_predict_seconds", 'model_name="a"')).toEqual({ mean: 0.3, count: 10 });
        expect(histogramMeanDelta(before, after, "request_predict_seconds", 'model_name="b"')).toEqual({ mean: undefined, count: 0 });
        expect(histogramMeanDelta(before, after, "request_predict_seconds").mean).toBeCloseTo(0.3, 10);
    });

    it("the decode floor is weight bytes over bandwidth (Phi-3.5-mini, 3.82 B parameters, on an A10G's 600 GB/s: 12.7 / 6.4 / 3.2 ms by hand)", () => {
        expect(decodeFloorMs("microsoft/Phi-3.5-mini-instruct", "none", 600)).toBeCloseTo(12.7, 1);
        expect(decodeFloorMs("microsoft/Phi-3.5-mini-instruct", "eetq", 600)).toBeCloseTo(6.4, 1);
        expect(decodeFloorMs("microsoft/Phi-3.5-mini-instruct", "bitsandbytes-nf4", 600)).toBeCloseTo(3.2, 1);
        expect(decodeFloorMs("some/unknown-model", "none", 600)).toBeUndefined();
    });
});

describe("summaries of the recorded run", () => {
    it("has a row per run, in the manifest's order", () => {
        expect(rows.map((r) => `${r.tool} ${r.target}${r.step ? ` ${r.step}` : ""}`)).toEqual(results.manifest.runs.map((r) => `${r.tool} ${r.target}${r.step ? ` ${r.step}` : ""}`));
        expect(rows.filter((r) => r.sweep).length).toBeGreaterThan(0);
    });

    it("LLM rows: counts, exact percentiles, TTFT and TPOT from the raw samples", () => {
        const samples = lines<LlmSample>(`${runDir("locust", "variant:fp16")}/samples.jsonl`);
        const ok = samples.filter((s) => s.ok);
        const r = rows.find((x) => x.target === "variant:fp16" && x.tool === "locust")!;
        expect(r.requests).toBe(samples.length);
        expect(r.errors).toBe(samples.length - ok.length);
        expect(r.latency.p95).toBe(nearestRank(ok.map((s) => s.e2eMs), 95));
        const stream = ok.filter((s) => s.kind === "stream");
        expect(r.ttft.p50).toBe(nearestRank(stream.map((s) => s.ttftMs!), 50));
        expect(r.tpotP50).toBe(nearestRank(stream.map((s) => s.tpotMs!), 50));
        const tokens = ok.reduce((a, s) => a + s.outputTokens, 0);
        expect(r.outputTokensPerS! * r.durationS).toBeCloseTo(tokens, 6);
        // By hand from this fixture's samples.jsonl: window = max(t + e2e) - min(t) = 3.3772 s, 180 tokens.
        expect(tokens).toBe(180);
        expect(r.durationS).toBeCloseTo(3.3772, 3);
        expect(r.outputTokensPerS!).toBeCloseTo(53.3, 1);
        expect(r.usdPerMillionTokens).toBeCloseTo((1.624 / 3600 / r.outputTokensPerS!) * 1e6, 6);
        expect(r.reference).toMatchObject({ name: "default", p50: 5600 });
        expect(rows.find((x) => x.target === "variant:vllm" && x.tool === "locust")!.reference).toBeUndefined();
    });

    it("TGI split: phases add up to the mean client latency of the /generate requests (TGI's headers are whole ms)", () => {
        const gen = lines<LlmSample>(`${runDir("locust", "variant:fp16")}/samples.jsonl`).filter((s) => s.ok && s.kind === "generate");
        const r = rows.find((x) => x.target === "variant:fp16" && x.tool === "locust")!;
        const sum = r.split!.reduce((a, s) => a + s.ms, 0);
        // network + client is client latency − x-total-time; the three phases are rounded separately from the total.
        expect(Math.abs(sum - gen.reduce((a, s) => a + s.e2eMs, 0) / gen.length)).toBeLessThanOrEqual(1.5);
        const queue = r.split!.find((s) => s.phase === "queue")!.ms;
        expect(queue).toBeCloseTo(gen.reduce((a, s) => a + s.headers!["x-queue-time"]!, 0) / gen.length, 6);
    });

    it("KServe split: the model server's histograms between the scrapes, the rest is network and client", () => {
        const d = runDir("vegeta", "kserve:sst2-v2");
        const before = parsePrometheusText(fs.readFileSync(path.join(FIXTURE, d, "metrics-before.prom"), "utf8"));
        const after = parsePrometheusText(fs.readFileSync(path.join(FIXTURE, d, "metrics-after.prom"), "utf8"));
        const r = rows.find((x) => x.target === "kserve:sst2-v2" && !x.sweep)!;
        const predict = histogramMeanDelta(before, after, "request_predict_seconds");
        expect(predict.count).toBe(r.requests);
        expect(r.split!.find((s) => s.phase === "predict")!.ms).toBeCloseTo(predict.mean! * 1000, 6);
        expect(r.split!.reduce((a, s) => a + s.ms, 0)).toBeCloseTo(r.meanMs!, 6);
    });

    it("open-loop rows count every vegeta and ghz result, errors included", () => {
        const veg = lines<VegetaResult>(`${runDir("vegeta", "kserve:sst2-v1")}/results.jsonl`);
        const r = rows.find((x) => x.target === "kserve:sst2-v1" && !x.sweep)!;
        expect(r.requests).toBe(veg.length);
        expect(r.errors).toBe(veg.filter((v) => v.code < 200 || v.code >= 300 || v.error).length);
        expect(r.latency.p99).toBe(nearestRank(veg.map((v) => v.latency / 1e6), 99));
        const ghz = JSON.parse(fs.readFileSync(path.join(FIXTURE, runDir("ghz", "kserve:sst2-grpc"), "ghz.json"), "utf8"));
        const g = rows.find((x) => x.target === "kserve:sst2-grpc" && !x.sweep)!;
        expect(g.requests).toBe(ghz.count);
        expect(g.latency.p50).toBe(nearestRank(ghz.details.map((x: { latency: number }) => x.latency / 1e6), 50));
    });

    it("vLLM through vegeta: output tokens from the OpenAI-style usage in each body", () => {
        const d = runDir("vegeta", "variant:vllm", "step01");
        const veg = lines<VegetaResult>(`${d}/results.jsonl`);
        const tokens = veg.reduce((a, v) => a + (JSON.parse(Buffer.from(v.body!, "base64").toString()) as { usage: { completion_tokens: number } }).usage.completion_tokens, 0);
        const r = rows.find((x) => x.target === "variant:vllm" && x.step === "step01")!;
        expect(tokens).toBeGreaterThan(0);
        expect(r.outputTokensPerS! * r.durationS).toBeCloseTo(tokens, 6);
    });

    it("async rows run from the submit to the poll that saw the job done", () => {
        const d = runDir("vegeta", "asyncGateway");
        const jobs = new Map(lines<AsyncJob>(`${d}/jobs.jsonl`).map((j) => [j.jobId, j]));
        const veg = lines<VegetaResult>(`${d}/results.jsonl`);
        const want = veg.map((v) => {
            const j = jobs.get((JSON.parse(Buffer.from(v.body!, "base64").toString()) as { jobId: string }).jobId)!;
            return (j.finished! - Date.parse(v.timestamp) / 1000) * 1000;
        });
        const r = rows.find((x) => x.target === "asyncGateway" && !x.sweep)!;
        expect(r.latency.p50).toBeCloseTo(nearestRank(want, 50)!, 6);
        expect(r.submit!.p50).toBe(nearestRank(veg.map((v) => v.latency / 1e6), 50));
    });

    it("GPU columns come from the Prometheus figures saved with each run", () => {
        const p = JSON.parse(fs.readFileSync(path.join(FIXTURE, runDir("locust", "variant:fp16"), "prometheus.json"), "utf8"));
        const r = rows.find((x) => x.target === "variant:fp16" && x.tool === "locust")!;
        expect([r.gpuUtilPercent, r.gpuMemoryUsedMiB]).toEqual([p.gpuUtilPercent, p.gpuMemoryUsedMiB]);
    });
});

describe("rendering", () => {
    it("makes only the charts that have data", () => {
        expect(chartSpecs(rows).map((c) => c.id)).toEqual(["latency-distribution", "ttft-distribution", "latency-vs-load", "rest-vs-grpc", "time-split"]);
        const onlyRest = rows.filter((r) => r.kind === "rest-v2" && !r.sweep);
        expect(chartSpecs(onlyRest).map((c) => c.id)).toEqual(["latency-distribution", "rest-vs-grpc", "time-split"]);
        expect(chartSpecs([])).toEqual([]);
    });

    it("markdown has every column the issue asks for, and the reference labelled as such", () => {
        const md = markdown(rows, results.manifest, { banner: "Local run against stand-in servers" });
        for (const col of ["requests", "errors", "RPS", "p50 ms", "p95 ms", "p98 ms", "p99 ms", "TTFT p50", "TTFT p95", "TPOT p50", "output tok/s", "$/M out tok", "decode floor ms", "TPOT ÷ floor", "GPU util %", "GPU mem MiB", "execution accuracy", "exact match", "reference p50 / p95 / p98"]) {
            expect(md).toContain(col);
        }
        expect(md).toContain("> **Local run against stand-in servers**");
        expect(md).toContain("not measured here");
        expect(md).toContain("network + client");
        expect(md).toContain("preprocess");
        const t = tables(rows, results.manifest);
        expect(t.map((x) => x.title)).toEqual(["Latency and throughput", "LLM serving", "Quality and the reference", "Time split (mean ms per request)", "Async gateway"]);
    });

    it("the page is self-contained: inline SVG, no script, no external reference", async () => {
        const charts = await renderCharts(rows);
        const page = html(rows, results.manifest, charts, { banner: "<b>stand-ins</b>" });
        expect(page).not.toMatch(/<script/i);
        expect(page).not.toMatch(/(src|href)="https?:/);
        expect(page.match(/<figure class="chart"/g)).toHaveLength(5);
        expect(page).toContain("&lt;b&gt;stand-ins&lt;/b&gt;");
        for (const c of charts) expect(c.svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    });

    it("the CLI writes both files and refuses bad arguments", async () => {
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "mlserve-report-"));
        const r = await buildReport(FIXTURE, { out });
        expect(fs.readFileSync(r.md, "utf8")).toContain("# Benchmark report: fixture-local");
        expect(fs.statSync(r.html).size).toBeGreaterThan(10_000);
        expect(parseArgs(["dir", "--out", "x"])).toEqual({ source: "dir", out: "x" });
        expect(() => parseArgs([])).toThrow(/usage/);
        expect(() => parseArgs(["a", "b"])).toThrow(/usage/);
        expect(() => parseArgs(["a", "--nope"])).toThrow(/unknown option/);
        expect(() => loadResults(out)).toThrow(/no manifest.json/);
    });
});
