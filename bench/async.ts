/**
 * `npm run bench:async [-- --jobs N --runs R --clients C]`: throughput of the async path on loopback.
 *
 * Each run makes two measurements against the same local SQS/S3 server (fauxqs,
 * its own process on 127.0.0.1), on fresh queues:
 *   1. the raw queue ceiling: SendMessage (C clients) / ReceiveMessage(10) /
 *      DeleteMessageBatch with the SDK alone;
 *   2. the pipeline: HTTP submit to the gateway (C concurrent clients) -> queue ->
 *      worker -> fake TGI with zero latency -> result in S3 -> deleted message.
 * It prints, as median and spread (min-max) over the runs: msg/s and jobs/s,
 * their ratio, the submit p50/p99, and the queue and store operations per job
 * counted on the SDK clients.
 *
 * fauxqs answers S3's conditional writes as plain writes (the tests check the
 * 412s against moto's S3); the calls, and so the work, are the same.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { S3Client } from "@aws-sdk/client-s3";
import pino from "pino";
import { buildGateway } from "../services/gateway/app";
import { FakeTgi } from "../services/local/fakeTgi";
import { createJobResources } from "../services/local/resources";
import { startFauxqsProcess } from "../services/local/servers";
import { awsClients } from "../services/shared/aws";
import { JobStore } from "../services/shared/jobs";
import { Worker } from "../services/worker/worker";

const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(`--${name}`);
    const v = i > 0 ? Number(process.argv[i + 1]) : fallback;
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} takes a whole number >= 1`);
    return v;
};
const JOBS = arg("jobs", 2000);
const RUNS = arg("runs", 5);
const CLIENTS = arg("clients", 8);
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

/** Counts every SDK call a client makes, by service and command (the "operations per job"). */
type Ops = Map<string, number>;
function counted<T extends SQSClient | S3Client>(client: T, service: string, ops: Ops): T {
    (client.middlewareStack as SQSClient["middlewareStack"]).add(
        (next, context) => async (args) => {
            const name = `${service} ${context.commandName?.replace(/Command$/, "")}`;
            ops.set(name, (ops.get(name) ?? 0) + 1);
            return next(args);
        },
        { step: "initialize", name: "countOps" },
    );
    return client;
}

export const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const median = (xs: number[]) => pct([...xs].sort((a, b) => a - b), 50);
const spread = (xs: number[], digits: number) => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;

/** CPU seconds used so far by this process and by the fauxqs process (Linux /proc; 0 elsewhere). */
function cpuSeconds(pid: number): { self: number; fauxqs: number } {
    const u = process.cpuUsage();
    let fauxqs = 0;
    try {
        const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
        fauxqs = (Number(f[11]) + Number(f[12])) / 100;
    } catch {
        // not Linux: CPU split not shown
    }
    return { self: (u.user + u.system) / 1e6, fauxqs };
}

interface RunResult {
    /** CPU ms per message / job: [this process, fauxqs] for the raw queue and the pipeline. */
    cpu: { raw: [number, number]; pipeline: [number, number] };
    raw: number;
    pipeline: number;
    p50: number;
    p99: number;
    submitSeconds: number;
    ops: Ops;
    modelCalls: number;
}

async function runOnce(endpoint: string, fauxqsPid: number, run: number): Promise<RunResult> {
    const { sqs, s3 } = awsClients({ region: "us-east-1", endpoint });

    // 1. Raw queue ceiling.
    const raw = await createJobResources(sqs, s3, { maxReceiveCount: 5, visibilityTimeoutSeconds: 30, suffix: `raw-${run}` });
    let consumed = 0;
    const rawCpu = cpuSeconds(fauxqsPid);
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
    const rawCpuEnd = cpuSeconds(fauxqsPid);

    // 2. The pipeline, with its own counted clients.
    const ops: Ops = new Map();
    const res = await createJobResources(sqs, s3, { maxReceiveCount: 5, visibilityTimeoutSeconds: 30, suffix: `pipeline-${run}` });
    const model = await new FakeTgi().start();
    const gw = awsClients({ region: "us-east-1", endpoint });
    const gateway = buildGateway({ sqs: counted(gw.sqs, "SQS", ops), store: new JobStore(counted(gw.s3, "S3", ops), res.bucket), queueUrl: res.queueUrl, variants: ["fp16"] });
    const url = await gateway.listen({ port: 0, host: "127.0.0.1" });
    const wk = awsClients({ region: "us-east-1", endpoint });
    const workerStore = new JobStore(counted(wk.s3, "S3", ops), res.bucket);
    const workerSqs = counted(wk.sqs, "SQS", ops);
    const silent = pino({ level: "silent" });
    const workers = [1, 2].map(
        () => new Worker({ sqs: workerSqs, store: workerStore, queueUrl: res.queueUrl, dlqUrl: res.dlqUrl, endpoints: { fp16: model.url }, concurrency: WORKER_CONCURRENCY, waitTimeSeconds: 1, consumeDlq: false, logger: silent }),
    );
    const done = async () => {
        let n = 0;
        for (const w of workers) n += (await w.registry.getSingleMetric("worker_jobs_total")!.get()).values.filter((v) => v.labels.outcome === "done").reduce((a, v) => a + v.value, 0);
        return n;
    };
    for (const w of workers) void w.start();
    const latencies: number[] = [];
    const pipeCpu = cpuSeconds(fauxqsPid);
    const start = performance.now();
    await pool(JOBS, CLIENTS, async (i) => {
        const t = performance.now();
        // With an Idempotency-Key, as clients should send (the atomic path: conditional write, then send).
        const r = await fetch(`${url}/v1/jobs`, { method: "POST", headers: { "content-type": "application/json", "idempotency-key": `bench-${run}-${i}` }, body: JSON.stringify({ variant: "fp16", request: { inputs: `job ${i}`, parameters: { max_new_tokens: 16 } } }) });
        if (r.status !== 202) throw new Error(`submit ${i}: HTTP ${r.status} ${await r.text()}`);
        await r.arrayBuffer();
        latencies.push(performance.now() - t);
    });
    const submitSeconds = (performance.now() - start) / 1000;
    const deadline = Date.now() + 300_000;
    while ((await done()) < JOBS) {
        if (Date.now() > deadline) throw new Error(`only ${await done()} of ${JOBS} jobs done after 300 s`);
        await new Promise((r) => setTimeout(r, 10));
    }
    const pipelineRate = JOBS / ((performance.now() - start) / 1000);
    const pipeCpuEnd = cpuSeconds(fauxqsPid);
    const perJobMs = (a: { self: number; fauxqs: number }, b: { self: number; fauxqs: number }): [number, number] => [((b.self - a.self) * 1000) / JOBS, ((b.fauxqs - a.fauxqs) * 1000) / JOBS];
    // Stop polling before counting: the idle long polls after the last job are not work per job.
    const opsAtEnd = new Map(ops);
    await Promise.all(workers.map((w) => w.stop(5000)));
    await gateway.close();
    await model.stop();
    latencies.sort((a, b) => a - b);
    return { cpu: { raw: perJobMs(rawCpu, rawCpuEnd), pipeline: perJobMs(pipeCpu, pipeCpuEnd) }, raw: rawRate, pipeline: pipelineRate, p50: pct(latencies, 50), p99: pct(latencies, 99), submitSeconds, ops: opsAtEnd, modelCalls: model.totalCalls };
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
        console.log(`jobs per run: ${JOBS}, runs: ${RUNS}, submit clients: ${CLIENTS} concurrent, workers: 2 × ${WORKER_CONCURRENCY}`);
        for (let run = 1; run <= RUNS; run++) {
            const r = await runOnce(fauxqs.endpoint, fauxqs.child.pid!, run);
            results.push(r);
            if (r.modelCalls !== JOBS) throw new Error(`run ${run}: ${r.modelCalls} model calls for ${JOBS} jobs`);
            console.log(`run ${run}: raw queue ${r.raw.toFixed(0)} msg/s, pipeline ${r.pipeline.toFixed(0)} jobs/s, ratio ${(r.pipeline / r.raw).toFixed(2)}, submit p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms (submit phase ${r.submitSeconds.toFixed(2)} s); CPU ms per message / job (bench process + fauxqs): raw ${r.cpu.raw[0].toFixed(2)} + ${r.cpu.raw[1].toFixed(2)}, pipeline ${r.cpu.pipeline[0].toFixed(2)} + ${r.cpu.pipeline[1].toFixed(2)}`);
        }
        const names = [...new Set(results.flatMap((r) => [...r.ops.keys()]))].sort();
        const perJob = (r: RunResult, name: string) => (r.ops.get(name) ?? 0) / JOBS;
        const total = (r: RunResult, service: string) => names.filter((n) => n.startsWith(service)).reduce((a, n) => a + perJob(r, n), 0);
        console.log(`\nmedian (min-max) over ${RUNS} runs of ${JOBS} jobs:`);
        console.log(`  raw queue ceiling (SDK send + receive + delete batch): ${spread(results.map((r) => r.raw), 0)} msg/s`);
        console.log(`  pipeline (gateway -> queue -> worker -> fake TGI -> S3 result): ${spread(results.map((r) => r.pipeline), 0)} jobs/s`);
        console.log(`  ratio pipeline / raw queue (same run): ${spread(results.map((r) => r.pipeline / r.raw), 2)}`);
        console.log(`  gateway submit latency, ${CLIENTS} concurrent clients: p50 ${spread(results.map((r) => r.p50), 1)} ms, p99 ${spread(results.map((r) => r.p99), 1)} ms`);
        console.log(`  operations per job: SQS ${spread(results.map((r) => total(r, "SQS")), 2)}, S3 ${spread(results.map((r) => total(r, "S3")), 2)}`);
        for (const n of names) console.log(`    ${n}: ${spread(results.map((r) => perJob(r, n)), 2)}`);
        console.log(`  model calls: ${JOBS} per run of ${JOBS} jobs (checked)`);
    } finally {
        await fauxqs.stop();
    }
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
