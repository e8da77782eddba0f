/**
 * Reads a results directory written by loadtest/run.py (or downloads one from
 * s3://bucket/benchmarks/<run id>/ first): the manifest and each run's raw files.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";

export interface RunRecord {
    dir: string;
    tool: "locust" | "vegeta" | "ghz";
    target: string;
    kind: "llm" | "rest-v1" | "rest-v2" | "grpc-v2" | "async";
    url: string;
    engine?: string;
    model?: string;
    quantize?: string;
    protocol?: string;
    startedAt: number;
    endedAt: number;
    exitCode: number;
    rate?: number;
    users?: number;
    durationS?: number;
    step?: string | null;
    sweep?: boolean;
    saturated?: boolean;
}

export interface Manifest {
    schema: number;
    runId: string;
    profile: string;
    startedAt: number;
    finishedAt: number;
    host?: string;
    tools: Record<string, string>;
    gpuInstanceType: string;
    params: Record<string, unknown>;
    dataset: { source: string; rows: number };
    targets: Array<Record<string, unknown>>;
    runs: RunRecord[];
}

/** One LLM request as the locustfile kept it. */
export interface LlmSample {
    kind: "stream" | "generate";
    t: number;
    ok: boolean;
    status: number;
    e2eMs: number;
    ttftMs?: number | null;
    tpotMs?: number | null;
    outputTokens: number;
    headers?: Record<string, number>;
    row: string | number;
    error?: string | null;
}

/** One vegeta result line (`vegeta encode --to json`). */
export interface VegetaResult {
    code: number;
    timestamp: string;
    latency: number;
    error: string;
    body?: string;
    headers?: Record<string, string[]>;
}

export interface GhzResult {
    count: number;
    details?: Array<{ timestamp: string; latency: number; error: string; status: string }>;
    statusCodeDistribution?: Record<string, number>;
}

export interface AsyncJob {
    jobId: string;
    submitted: number;
    finished: number | null;
    status: string;
}

export interface Quality {
    answers: number;
    scored: number;
    referenceErrors: number;
    answerErrors: number;
    executionAccuracy: number | null;
    exactMatch: number | null;
}

export interface RunData {
    run: RunRecord;
    samples?: LlmSample[];
    vegeta?: VegetaResult[];
    ghz?: GhzResult;
    jobs?: AsyncJob[];
    quality?: Record<string, Quality>;
    prometheus?: { gpuUtilPercent?: number | null; gpuMemoryUsedMiB?: number | null };
    metricsBefore?: string;
    metricsAfter?: string;
}

export interface Results {
    dir: string;
    manifest: Manifest;
    runs: RunData[];
}

const jsonl = <T>(file: string): T[] =>
    fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as T);

export function loadResults(dir: string): Results {
    const manifestPath = path.join(dir, "manifest.json");
    if (!fs.existsSync(manifestPath)) throw new Error(`${dir}: no manifest.json (not a results directory of loadtest/run.py)`);
    const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as Manifest;
    const runs = manifest.runs.map((run): RunData => {
        const d = path.join(dir, run.dir);
        const f = (name: string) => path.join(d, name);
        const has = (name: string) => fs.existsSync(f(name));
        return {
            run,
            samples: has("samples.jsonl") ? jsonl<LlmSample>(f("samples.jsonl")) : undefined,
            vegeta: has("results.jsonl") ? jsonl<VegetaResult>(f("results.jsonl")) : undefined,
            ghz: has("ghz.json") ? (JSON.parse(fs.readFileSync(f("ghz.json"), "utf8")) as GhzResult) : undefined,
            jobs: has("jobs.jsonl") ? jsonl<AsyncJob>(f("jobs.jsonl")) : undefined,
            quality: has("quality.json") ? (JSON.parse(fs.readFileSync(f("quality.json"), "utf8")) as Record<string, Quality>) : undefined,
            prometheus: has("prometheus.json") ? (JSON.parse(fs.readFileSync(f("prometheus.json"), "utf8")) as RunData["prometheus"]) : undefined,
            metricsBefore: has("metrics-before.prom") ? fs.readFileSync(f("metrics-before.prom"), "utf8") : undefined,
            metricsAfter: has("metrics-after.prom") ? fs.readFileSync(f("metrics-after.prom"), "utf8") : undefined,
        };
    });
    return { dir, manifest, runs };
}

/** Copies s3://bucket/prefix/ to a new local directory (AWS_ENDPOINT_URL_S3 and the usual credentials apply). */
export async function downloadResults(url: string, s3 = new S3Client({ forcePathStyle: !!process.env.AWS_ENDPOINT_URL_S3 })): Promise<string> {
    const u = new URL(url);
    const bucket = u.host;
    const prefix = u.pathname.replace(/^\/+/, "").replace(/\/?$/, "/");
    const dest = fs.mkdtempSync(path.join(os.tmpdir(), "mlserve-report-"));
    let token: string | undefined;
    let n = 0;
    do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of page.Contents ?? []) {
            const rel = o.Key!.slice(prefix.length);
            if (!rel || rel.includes("..")) continue;
            const obj = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
            fs.mkdirSync(path.dirname(path.join(dest, rel)), { recursive: true });
            fs.writeFileSync(path.join(dest, rel), await obj.Body!.transformToByteArray());
            n++;
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    if (n === 0) throw new Error(`${url}: no objects under that prefix`);
    return dest;
}
