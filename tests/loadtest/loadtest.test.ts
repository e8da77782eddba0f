/**
 * The load tests for real: loadtest/run.py drives locust, vegeta and ghz (the
 * pinned builds) against stand-in servers that inject known delays, and the
 * async gateway (the real one, on fauxqs + moto), all on 127.0.0.1, for a few
 * seconds each. The report must recover the injected time split and TTFT within
 * 5%, and its page must open in headless Chromium with every chart drawn.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildReport } from "../../loadtest/report/cli";
import { loadResults } from "../../loadtest/report/load";
import { summarize, type Row } from "../../loadtest/report/summarize";
import { INJECTED, standinAnswers } from "../../loadtest/standins/stack";
import { startMotoServer, type LocalServer } from "../../testing/local/servers";
import { checkPage } from "./browser";
import { checkTools, runLoadtest, startStandins, type Standins } from "./harness";

const within5 = (got: number | undefined, want: number) => {
    expect(got, `expected about ${want}`).toBeDefined();
    expect(Math.abs(got! - want) / want, `${got} is not within 5% of ${want}`).toBeLessThanOrEqual(0.05);
};
const tgiTtft = INJECTED.tgi.validationMs + INJECTED.tgi.queueMs + INJECTED.tgi.prefillMs;
const vllmTtft = INJECTED.vllm.validationMs + INJECTED.vllm.queueMs + INJECTED.vllm.prefillMs;

let standins: Standins;
const work = fs.mkdtempSync(path.join(os.tmpdir(), "mlserve-loadtest-"));
const seedDir = path.join(work, "seed");
let rows: Row[];
const row = (target: string) => rows.find((r) => r.target === target && !r.sweep)!;

beforeAll(async () => {
    checkTools();
    standins = await startStandins(true);
}, 90_000);

afterAll(async () => {
    await standins?.stop();
    fs.rmSync(work, { recursive: true, force: true });
});

describe("seed profile: locust on the LLM variants, vegeta and ghz on the rest", () => {
    beforeAll(async () => {
        const r = await runLoadtest([
            "--targets", standins.outputsFile, "--profile", "seed", "--run-id", "ci-seed", "--out", seedDir,
            "--duration", "5", "--users", "10", "--spawn-rate", "10", "--rate", "10", "--warmup", "40",
            "--select", "variant:fp16,variant:vllm,kserve:sst2-v1,kserve:sst2-v2,kserve:sst2-grpc,modelApi,asyncGateway",
        ]);
        expect(r.code, r.stderr + r.stdout).toBe(0);
        const results = loadResults(seedDir);
        rows = summarize(results.runs, results.manifest);
    }, 180_000);

    it("records what ran: tools at their pinned versions, every target, the run id", () => {
        const m = loadResults(seedDir).manifest;
        expect(m.runId).toBe("ci-seed");
        expect(m.tools).toMatchObject({ locust: "2.47.0", vegeta: "v12.13.0", ghz: "v0.121.0" });
        expect(m.runs.map((r) => `${r.tool} ${r.target}`)).toEqual([
            "locust variant:fp16",
            "locust variant:vllm",
            "vegeta kserve:sst2-v1",
            "vegeta kserve:sst2-v2",
            "ghz kserve:sst2-grpc",
            "vegeta modelApi",
            "vegeta asyncGateway",
        ]);
        expect(m.runs.every((r) => r.exitCode === 0)).toBe(true);
    });

    it("recovers the injected TTFT and TPOT of streaming TGI and vLLM within 5%", () => {
        within5(row("variant:fp16").ttft.p50, tgiTtft);
        within5(row("variant:fp16").tpotP50, INJECTED.tgi.perTokenMs);
        within5(row("variant:vllm").ttft.p50, vllmTtft);
        within5(row("variant:vllm").tpotP50, INJECTED.vllm.perTokenMs);
        expect(row("variant:fp16").requests).toBeGreaterThan(30);
        expect(row("variant:fp16").errors).toBe(0);
    });

    it("recovers TGI's time split from the timing headers within 5%", () => {
        const results = loadResults(seedDir);
        const generate = results.runs[0]!.samples!.filter((s) => s.kind === "generate" && s.ok);
        expect(generate.length).toBeGreaterThan(10);
        // Inference = prefill + one step per further token, for the tokens each request got.
        const wantInference = generate.reduce((a, s) => a + INJECTED.tgi.prefillMs + (s.outputTokens - 1) * INJECTED.tgi.perTokenMs, 0) / generate.length;
        const split = Object.fromEntries(row("variant:fp16").split!.map((s) => [s.phase, s.ms]));
        within5(split["validation + tokenization"], INJECTED.tgi.validationMs);
        within5(split["queue"], INJECTED.tgi.queueMs);
        within5(split["inference"], wantInference);
        // The rest of the client's latency: loopback and the client itself.
        expect(split["network + client"]).toBeGreaterThanOrEqual(0);
        expect(split["network + client"]).toBeLessThan(0.05 * (INJECTED.tgi.validationMs + INJECTED.tgi.queueMs + wantInference));
    });

    it("recovers the KServe model server's preprocess / predict / postprocess split over REST v1, v2 and gRPC within 5%", () => {
        for (const target of ["kserve:sst2-v1", "kserve:sst2-v2", "kserve:sst2-grpc", "modelApi"]) {
            const split = Object.fromEntries(row(target).split!.map((s) => [s.phase, s.ms]));
            within5(split.preprocess, INJECTED.kserve.preprocessMs);
            within5(split.predict, INJECTED.kserve.predictMs);
            within5(split.postprocess, INJECTED.kserve.postprocessMs);
            within5(row(target).latency.p50, INJECTED.kserve.preprocessMs + INJECTED.kserve.predictMs + INJECTED.kserve.postprocessMs);
        }
    });

    it("holds the open-loop rate: vegeta and ghz send rate × duration requests", () => {
        for (const target of ["kserve:sst2-v1", "kserve:sst2-v2", "kserve:sst2-grpc", "modelApi", "asyncGateway"]) {
            expect(row(target).requests, target).toBe(50);
            expect(row(target).errors, target).toBe(0);
        }
    });

    it("follows async jobs from submit to completion through the real gateway and worker", () => {
        const a = row("asyncGateway");
        expect(a.submit?.p50).toBeDefined();
        expect(a.latencies).toHaveLength(50);
        // A job cannot finish before the model's own time for it (the fake TGI's phases, one token at least).
        expect(a.latency.p50!).toBeGreaterThan(tgiTtft);
        expect(a.latency.p50!).toBeGreaterThan(a.submit!.p50!);
    });

    it("scores answers in SQLite: execution accuracy and exact match as the stand-in's answers were made", () => {
        const results = loadResults(seedDir);
        const expect_ = new Map(standinAnswers().map((a) => [String(a.id), a.expect]));
        for (const [i, target] of [[0, "variant:fp16"], [1, "variant:vllm"]] as const) {
            const ok = results.runs[i]!.samples!.filter((s) => s.ok);
            const kinds = ok.map((s) => expect_.get(String(s.row)));
            const q = row(target).quality!;
            expect(q.answers).toBe(ok.length);
            expect(q.executionAccuracy).toBeCloseTo(kinds.filter((k) => k !== "wrong").length / ok.length, 10);
            expect(q.exactMatch).toBeCloseTo(kinds.filter((k) => k === "exact").length / ok.length, 10);
        }
    });

    it("reads GPU utilisation and memory from Prometheus when it is reachable, and prices tokens", () => {
        const r = row("variant:fp16");
        expect(r.gpuUtilPercent).toBe(INJECTED.gpu.utilPercent);
        expect(r.gpuMemoryUsedMiB).toBe(INJECTED.gpu.memoryUsedMiB);
        expect(r.outputTokensPerS).toBeGreaterThan(0);
        // g5.4xlarge at $1.624/h: $/M tokens = 1.624 / 3600 / tokens per second × 1e6.
        expect(r.usdPerMillionTokens).toBeCloseTo((1.624 / 3600 / r.outputTokensPerS!) * 1e6, 6);
        expect(r.decodeFloorMs).toBeCloseTo(12.7, 1);
        expect(r.reference?.p50).toBe(5600);
    });

    it("writes report.md and a report.html that opens in headless Chromium with every chart drawn", async () => {
        const out = await buildReport(seedDir, { banner: "Local run against stand-in servers" });
        const md = fs.readFileSync(out.md, "utf8");
        expect(md).toContain("| variant:fp16 |");
        expect(md).toContain("reference (TGI 2.3.0");
        const page = await checkPage(out.html);
        expect(page.consoleErrors).toEqual([]);
        expect(page.charts.map((c) => c.id).sort()).toEqual(["latency-distribution", "rest-vs-grpc", "time-split", "ttft-distribution"]);
        for (const c of page.charts) {
            expect(c.marks, c.id).toBeGreaterThan(0);
            expect(c.width * c.height, c.id).toBeGreaterThan(0);
        }
    }, 60_000);
});

describe("sweep profile", () => {
    it("steps the open-loop rate, stops at saturation, and charts latency against offered load", async () => {
        const dir = path.join(work, "sweep");
        const r = await runLoadtest([
            "--targets", standins.outputsFile, "--profile", "sweep", "--run-id", "ci-sweep", "--out", dir,
            "--rates", "5,20", "--duration", "2", "--sweep-max-p99-ms", "620", "--select", "kserve:sst2-v2,kserve:sst2-grpc,variant:fp16",
        ]);
        expect(r.code, r.stderr + r.stdout).toBe(0);
        const results = loadResults(dir);
        const steps = summarize(results.runs, results.manifest).map((x) => `${x.target} ${x.rate} ${x.saturated ? "saturated" : ""}`.trim());
        // KServe takes ~500 ms here; a TGI request at least 650 (4+ tokens): over the 620 ms bound at the first step, so its sweep stops there.
        expect(steps).toEqual(["kserve:sst2-v2 5", "kserve:sst2-v2 20", "kserve:sst2-grpc 5", "kserve:sst2-grpc 20", "variant:fp16 5 saturated"]);
        const out = await buildReport(dir);
        const page = await checkPage(out.html);
        expect(page.consoleErrors).toEqual([]);
        expect(page.charts.find((c) => c.id === "latency-vs-load")?.marks).toBeGreaterThan(0);
    }, 120_000);
});

describe("locust scaled out", () => {
    it("a master and a worker pod: the worker's raw samples reach the master's samples.jsonl", async () => {
        const dir = path.join(work, "scaled");
        const common = ["--targets", standins.outputsFile, "--select", "variant:fp16"];
        const master = runLoadtest([...common, "--profile", "seed", "--run-id", "ci-scaled", "--out", dir, "--duration", "3", "--users", "4", "--spawn-rate", "4", "--warmup", "0", "--locust-expect-workers", "1"]);
        const worker = runLoadtest(["worker", "--master-host", "127.0.0.1", ...common]);
        const [m, w] = await Promise.all([master, worker]);
        expect(m.code, m.stderr + m.stdout).toBe(0);
        expect(w.code, w.stderr + w.stdout).toBe(0);
        const results = loadResults(dir);
        const samples = results.runs[0]!.samples!;
        // locust's own count of the e2e entry (merged from the worker) equals the samples the master wrote.
        const stats = JSON.parse(fs.readFileSync(path.join(dir, results.runs[0]!.run.dir, "locust.json"), "utf8")) as Array<{ name: string; num_requests: number }>;
        const streamed = stats.find((e) => e.name === "e2e")!.num_requests;
        expect(streamed).toBeGreaterThan(0);
        expect(samples.filter((s) => s.kind === "stream")).toHaveLength(streamed);
    }, 90_000);
});

describe("rate profile to S3", () => {
    let moto: LocalServer;
    beforeAll(async () => {
        moto = await startMotoServer();
    }, 60_000);
    afterAll(async () => {
        await moto?.stop();
    });

    it("uploads raw results and the manifest under benchmarks/<run id>/, and the report reads them back from S3", async () => {
        const creds = { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "us-east-1", AWS_DEFAULT_REGION: "us-east-1", AWS_ENDPOINT_URL_S3: moto.endpoint };
        const s3 = new S3Client({ region: "us-east-1", endpoint: moto.endpoint, forcePathStyle: true, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
        await s3.send(new CreateBucketCommand({ Bucket: "bench-results" }));
        const r = await runLoadtest(
            ["--targets", standins.outputsFile, "--profile", "rate", "--run-id", "ci-rate", "--out", "s3://bench-results", "--duration", "2", "--rate", "10", "--select", "variant:fp16"],
            creds,
        );
        expect(r.code, r.stderr + r.stdout).toBe(0);
        expect(r.stdout).toContain('"results": "s3://bench-results/benchmarks/ci-rate/"');
        const saved = { ...process.env };
        Object.assign(process.env, creds);
        try {
            const out = await buildReport("s3://bench-results/benchmarks/ci-rate", { out: path.join(work, "from-s3") });
            const md = fs.readFileSync(out.md, "utf8");
            expect(md).toContain("vegeta (open loop, 10/s)");
            // TGI /generate through vegeta: the timing headers give the split here too.
            const results = loadResults(out.resultsDir);
            expect(results.manifest.runId).toBe("ci-rate");
            const [fp16] = summarize(results.runs, results.manifest);
            expect(fp16!.requests).toBe(20);
            const split = Object.fromEntries(fp16!.split!.map((s) => [s.phase, s.ms]));
            within5(split["queue"], INJECTED.tgi.queueMs);
            within5(split["validation + tokenization"], INJECTED.tgi.validationMs);
        } finally {
            process.env = saved;
        }
    }, 60_000);
});
