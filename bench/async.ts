/**
 * `npm run bench:async [-- --jobs N --runs R --clients C]`: throughput of the async path on loopback.
 *
 * Each run makes two measurements against the same local SQS/S3 server (fauxqs,
 * its own process on 127.0.0.1), on fresh queues:
 *   1. the raw queue ceiling: SendMessage (C clients) / ReceiveMessage(10) /
 *      DeleteMessageBatch with the SDK alone, in this process;
 *   2. the pipeline, each service its own process as deployed: HTTP submits from
 *      C concurrent clients (with Idempotency-Keys) to the gateway -> queue -> two
 *      workers -> fake TGI with zero latency -> outcome in S3 -> deleted message.
 * It prints, as median and spread (min-max) over the runs: msg/s and jobs/s, their
 * ratio, the submit p50/p99, the SQS and S3 requests per job (the services' own
 * aws_requests_total), and CPU per job by process.
 *
 * fauxqs answers S3's conditional writes as plain writes (the tests check the
 * 412s against moto's S3); the requests, and so the work, are the same.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { FakeTgi } from "../testing/local/fakeTgi";
import { createJobResources } from "../testing/local/resources";
import { freePorts, processCpuSeconds, spawnService, startFauxqsProcess, waitForHttp, type ServiceProcess } from "../testing/local/servers";
import { awsClients } from "../services/shared/aws";

const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(`--${name}`);
    const v = i > 0 ? Number(process.argv[i + 1]) : fallback;
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} takes a whole number >= 1`);
    return v;
};
const JOBS = arg("jobs", 2000);
const RUNS = arg("runs", 5);
const CLIENTS = arg("clients", 8);
const WORKERS = 2;
const WORKER_CONCURRENCY = 32;

/** Run `n` tasks, `width` at a time. */
async function pool(n: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
    let next = 0;
    await Promise.all(
        Array.from({ length: width }, async () => {
            while (next < n) await task(next++);
        }),
    );
}

/** Nearest-rank percentile of sorted samples. */
export const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
const median = (xs: number[]) => pct([...xs].sort((a, b) => a - b), 50);
const spread = (xs: number[], digits: number) => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;

/** Sum of a Prometheus counter's samples whose labels include `match`, from /metrics text. */
export function counterSum(metrics: string, name: string, match: Record<string, string> = {}): Map<string, number> {
    const out = new Map<string, number>();
    for (const line of metrics.split("\n")) {
        const m = new RegExp(`^${name}\\{([^}]*)\\} ([0-9.e+]+)$`).exec(line);
        if (!m) continue;
        const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
        if (Object.entries(match).some(([k, v]) => labels[k] !== v)) continue;
        const key = Object.entries(labels).filter(([k]) => !(k in match)).map(([, v]) => v).join(" ");
        out.set(key, (out.get(key) ?? 0) + Number(m[2]));
    }
    return out;
}

interface RunResult {
    raw: number;
    pipeline: number;
    p50: number;
    p99: number;
    submitSeconds: number;
    /** Requests per job by "SERVICE Operation". */
    ops: Map<string, number>;
    /** CPU ms per job by process. */
    cpu: Map<string, number>;
    /** CPU ms per message of the raw queue run: [this process, fauxqs]. */
    rawCpu: [number, number];
    modelCalls: number;
}

const scrape = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

async function runOnce(endpoint: string, fauxqsPid: number, run: number): Promise<RunResult> {
    const { sqs, s3 } = awsClients({ region: "us-east-1", endpoint });
    const self = () => (process.cpuUsage().user + process.cpuUsage().system) / 1e6;

    // 1. Raw queue ceiling.
    const raw = await createJobResources(sqs, s3, { maxReceiveCount: 5, visibilityTimeoutSeconds: 30, suffix: `raw-${run}` });
    let consumed = 0;
    const rawCpu0 = [self(), processCpuSeconds(fauxqsPid) ?? 0];
    const rawStart = performance.now();
    const consumer = pool(4, 4, async () => {
        while (consumed < JOBS) {
            const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: raw.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
            const ms = out.Messages ?? [];
            if (ms.length === 0) continue;
            await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: raw.queueUrl, Entries: ms.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }));
            consumed += ms.length;
        }
    });
    await pool(JOBS, CLIENTS, async (i) => {
        await sqs.send(new SendMessageCommand({ QueueUrl: raw.queueUrl, MessageBody: JSON.stringify({ i, inputs: "x" }) }));
    });
    await consumer;
    const rawRate = JOBS / ((performance.now() - rawStart) / 1000);
    const rawCpu: [number, number] = [((self() - rawCpu0[0]!) * 1000) / JOBS, (((processCpuSeconds(fauxqsPid) ?? 0) - rawCpu0[1]!) * 1000) / JOBS];

    // 2. The pipeline: gateway and workers in their own processes.
    const res = await createJobResources(sqs, s3, { maxReceiveCount: 5, visibilityTimeoutSeconds: 30, suffix: `pipeline-${run}` });
    const model = await new FakeTgi().start();
    const env = { AWS_REGION: "us-east-1", AWS_ENDPOINT_URL: endpoint, QUEUE_URL: res.queueUrl, DLQ_URL: res.dlqUrl, BUCKET: res.bucket, LOG_LEVEL: "warn" };
    const [gatewayPort, ...workerPorts] = (await freePorts(1 + WORKERS)) as [number, ...number[]];
    const procs: Array<[string, ServiceProcess, number]> = [["gateway", spawnService("services/gateway/main.ts", { ...env, VARIANTS: "fp16", PORT: String(gatewayPort), HOST: "127.0.0.1" }), gatewayPort]];
    workerPorts.forEach((port, i) =>
        procs.push([`worker ${i + 1}`, spawnService("services/worker/main.ts", { ...env, MODEL_ENDPOINTS: JSON.stringify({ fp16: model.url }), CONCURRENCY: String(WORKER_CONCURRENCY), METRICS_PORT: String(port) }), port]),
    );
    try {
        for (const [name, p, port] of procs) await waitForHttp(`http://127.0.0.1:${port}/healthz`, name, p);
        const done = async () => {
            let n = 0;
            for (const port of workerPorts) n += [...counterSum(await scrape(port), "worker_jobs_total", { outcome: "done" }).values()].reduce((a, b) => a + b, 0);
            return n;
        };
        const cpu0 = new Map([...procs.map(([name, p]) => [name, processCpuSeconds(p.pid!) ?? 0] as const), ["fauxqs", processCpuSeconds(fauxqsPid) ?? 0], ["bench (clients, fake TGI)", self()]]);
        const latencies: number[] = [];
        const url = `http://127.0.0.1:${gatewayPort}`;
        const start = performance.now();
        await pool(JOBS, CLIENTS, async (i) => {
            const t = performance.now();
            // With an Idempotency-Key, as clients should send (the atomic path: conditional write, then send).
            const r = await fetch(`${url}/v1/jobs`, {
                method: "POST",
                headers: { "content-type": "application/json", "idempotency-key": `bench-${run}-${i}` },
                body: JSON.stringify({ variant: "fp16", request: { inputs: `job ${i}`, parameters: { max_new_tokens: 16 } } }),
            });
            if (r.status !== 202) throw new Error(`submit ${i}: HTTP ${r.status} ${await r.text()}`);
            await r.arrayBuffer();
            latencies.push(performance.now() - t);
        });
        const submitSeconds = (performance.now() - start) / 1000;
        const deadline = Date.now() + 300_000;
        while ((await done()) < JOBS) {
            if (Date.now() > deadline) throw new Error(`only ${await done()} of ${JOBS} jobs done after 300 s`);
            // Scraping costs the workers CPU: often enough to time the end within a few percent, no more.
            await new Promise((r) => setTimeout(r, 250));
        }
        const pipelineRate = JOBS / ((performance.now() - start) / 1000);
        const cpuNow = new Map([...procs.map(([name, p]) => [name, processCpuSeconds(p.pid!) ?? 0] as const), ["fauxqs", processCpuSeconds(fauxqsPid) ?? 0], ["bench (clients, fake TGI)", self()]]);
        const cpu = new Map([...cpuNow].map(([k, v]) => [k, ((v - cpu0.get(k)!) * 1000) / JOBS]));
        const ops = new Map<string, number>();
        for (const [, , port] of procs) for (const [k, v] of counterSum(await scrape(port), "aws_requests_total")) ops.set(k, (ops.get(k) ?? 0) + v / JOBS);
        latencies.sort((a, b) => a - b);
        return { raw: rawRate, pipeline: pipelineRate, p50: pct(latencies, 50), p99: pct(latencies, 99), submitSeconds, ops, cpu, rawCpu, modelCalls: model.totalCalls };
    } catch (err) {
        for (const [name, p] of procs) console.error(`${name} output:\n${p.output()}`);
        throw err;
    } finally {
        for (const [, p] of procs) p.kill("SIGKILL");
        await model.stop();
    }
}

function fauxqsVersion(): string {
    const file = path.join(__dirname, "..", "node_modules", "fauxqs", "package.json");
    return (JSON.parse(fs.readFileSync(file, "utf8")) as { version: string }).version;
}

async function main() {
    const fauxqs = await startFauxqsProcess();
    const results: RunResult[] = [];
    try {
        const cpu = os.cpus()[0]?.model ?? "unknown CPU";
        console.log(`machine: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load average ${os.loadavg()[0]!.toFixed(1)} at start, Node ${process.version}, fauxqs ${fauxqsVersion()} (own process) on 127.0.0.1`);
        console.log(`jobs per run: ${JOBS}, runs: ${RUNS}, submit clients: ${CLIENTS} concurrent, gateway: 1 process, workers: ${WORKERS} processes × ${WORKER_CONCURRENCY}`);
        for (let run = 1; run <= RUNS; run++) {
            const r = await runOnce(fauxqs.endpoint, fauxqs.child.pid!, run);
            results.push(r);
            if (r.modelCalls !== JOBS) throw new Error(`run ${run}: ${r.modelCalls} model calls for ${JOBS} jobs`);
            console.log(
                `run ${run}: raw queue ${r.raw.toFixed(0)} msg/s, pipeline ${r.pipeline.toFixed(0)} jobs/s, ratio ${(r.pipeline / r.raw).toFixed(2)}, submit p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms (submit phase ${r.submitSeconds.toFixed(2)} s)`,
            );
        }
        const names = [...new Set(results.flatMap((r) => [...r.ops.keys()]))].sort();
        const total = (r: RunResult, service: string) => names.filter((n) => n.startsWith(service)).reduce((a, n) => a + (r.ops.get(n) ?? 0), 0);
        console.log(`\nmedian (min-max) over ${RUNS} runs of ${JOBS} jobs:`);
        console.log(`  raw queue ceiling (SDK send + receive + delete batch): ${spread(results.map((r) => r.raw), 0)} msg/s`);
        console.log(`  pipeline (gateway -> queue -> worker -> fake TGI -> S3 outcome): ${spread(results.map((r) => r.pipeline), 0)} jobs/s`);
        console.log(`  ratio pipeline / raw queue (same run): ${spread(results.map((r) => r.pipeline / r.raw), 2)}`);
        console.log(`  gateway submit latency, ${CLIENTS} concurrent clients: p50 ${spread(results.map((r) => r.p50), 1)} ms, p99 ${spread(results.map((r) => r.p99), 1)} ms`);
        console.log(`  requests per job: SQS ${spread(results.map((r) => total(r, "SQS")), 2)}, S3 ${spread(results.map((r) => total(r, "S3")), 2)}`);
        for (const n of names) console.log(`    ${n}: ${spread(results.map((r) => r.ops.get(n) ?? 0), 2)}`);
        console.log(`  CPU ms per message, raw queue: this process ${spread(results.map((r) => r.rawCpu[0]), 2)}, fauxqs ${spread(results.map((r) => r.rawCpu[1]), 2)}`);
        for (const k of results[0]!.cpu.keys()) console.log(`  CPU ms per job, pipeline, ${k}: ${spread(results.map((r) => r.cpu.get(k) ?? 0), 2)}`);
        console.log(`  model calls: ${JOBS} per run of ${JOBS} jobs (checked)`);
    } finally {
        await fauxqs.stop();
    }
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
