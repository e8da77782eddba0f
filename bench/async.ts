/**
 * `npm run bench:async [-- --jobs N]`: throughput of the async path on loopback.
 *
 * Two measurements in the same run, against the same local SQS/S3 server
 * (fauxqs, its own process on 127.0.0.1) on this machine:
 *   1. raw queue ceiling: SendMessage / ReceiveMessage(10) / DeleteMessageBatch with
 *      the SDK alone, the same concurrency as the pipeline;
 *   2. the pipeline: HTTP submit to the gateway -> queue -> worker -> fake TGI with
 *      zero latency -> result object in S3 -> deleted message.
 * Prints jobs/s of each, their ratio, and the gateway's p50/p99 submit latency.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import pino from "pino";
import { buildGateway } from "../services/gateway/app";
import { FakeTgi } from "../services/local/fakeTgi";
import { createJobResources } from "../services/local/resources";
import { awsClients } from "../services/shared/aws";
import { JobStore } from "../services/shared/jobs";
import { Worker } from "../services/worker/worker";

const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const JOBS = arg("jobs", 2000);
const CONCURRENCY = arg("concurrency", 32);

async function freePort(): Promise<number> {
    const srv = net.createServer().listen(0, "127.0.0.1");
    await once(srv, "listening");
    const port = (srv.address() as net.AddressInfo).port;
    srv.close();
    return port;
}

async function startFauxqsProcess() {
    const port = await freePort();
    const cli = path.join(__dirname, "..", "node_modules", "fauxqs", "dist", "cli.js");
    const child = spawn(process.execPath, [cli], { env: { ...process.env, FAUXQS_PORT: String(port), FAUXQS_LOGGER: "false" }, stdio: "ignore" });
    const endpoint = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
        try {
            if ((await fetch(`${endpoint}/health`)).ok) return { endpoint, stop: () => child.kill("SIGTERM") };
        } catch {
            // not up yet
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    child.kill("SIGKILL");
    throw new Error("fauxqs did not start");
}

/** Run `n` tasks, `width` at a time. */
async function pool(n: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
    let next = 0;
    await Promise.all(Array.from({ length: width }, async () => {
        while (next < n) await task(next++);
    }));
}

function fauxqsVersion(): string {
    const file = path.join(__dirname, "..", "node_modules", "fauxqs", "package.json");
    return (JSON.parse(fs.readFileSync(file, "utf8")) as { version: string }).version;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function main() {
    const fauxqs = await startFauxqsProcess();
    const { sqs, s3 } = awsClients({ region: "us-east-1", endpoint: fauxqs.endpoint });
    try {
        // 1. Raw queue ceiling.
        const raw = await createJobResources(sqs, s3, { maxReceiveCount: 5, visibilityTimeoutSeconds: 30, suffix: "raw" });
        let consumed = 0;
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
        await pool(JOBS, CONCURRENCY, async (i) => {
            await sqs.send(new SendMessageCommand({ QueueUrl: raw.queueUrl, MessageBody: JSON.stringify({ i, inputs: "x" }) }));
        });
        await consumer;
        const rawSeconds = (performance.now() - rawStart) / 1000;

        // 2. The pipeline.
        const res = await createJobResources(sqs, s3, { maxReceiveCount: 5, visibilityTimeoutSeconds: 30, suffix: "pipeline" });
        const model = await new FakeTgi().start();
        const store = new JobStore(s3, res.bucket);
        const gateway = buildGateway({ sqs, store, queueUrl: res.queueUrl, variants: ["fp16"] });
        const url = await gateway.listen({ port: 0, host: "127.0.0.1" });
        const silent = pino({ level: "silent" });
        const workers = [1, 2].map(
            () => new Worker({ sqs, store, queueUrl: res.queueUrl, dlqUrl: res.dlqUrl, endpoints: { fp16: model.url }, concurrency: CONCURRENCY, waitTimeSeconds: 1, logger: silent }),
        );
        const done = async () => {
            let n = 0;
            for (const w of workers) n += (await w.registry.getSingleMetric("worker_jobs_total")!.get()).values.filter((v) => v.labels.outcome === "done").reduce((a, v) => a + v.value, 0);
            return n;
        };
        for (const w of workers) void w.start();
        const latencies: number[] = [];
        const start = performance.now();
        await pool(JOBS, CONCURRENCY, async (i) => {
            const t = performance.now();
            const r = await fetch(`${url}/v1/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ variant: "fp16", request: { inputs: `job ${i}` } }) });
            if (r.status !== 202) throw new Error(`submit ${i}: HTTP ${r.status}`);
            await r.arrayBuffer();
            latencies.push(performance.now() - t);
        });
        while ((await done()) < JOBS) await new Promise((r) => setTimeout(r, 20));
        const pipelineSeconds = (performance.now() - start) / 1000;
        await Promise.all(workers.map((w) => w.stop(5000)));
        await gateway.close();
        await model.stop();

        latencies.sort((a, b) => a - b);
        const rawRate = JOBS / rawSeconds;
        const rate = JOBS / pipelineSeconds;
        const cpu = os.cpus()[0]?.model ?? "unknown CPU";
        console.log(`machine: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, fauxqs ${fauxqsVersion()} (own process) on 127.0.0.1`);
        console.log(`jobs: ${JOBS}, concurrency: ${CONCURRENCY} (submit), ${CONCURRENCY} per worker × 2 workers`);
        console.log(`raw queue ceiling (send + receive + delete, SDK only): ${rawRate.toFixed(0)} msg/s (${rawSeconds.toFixed(2)} s)`);
        console.log(`pipeline (gateway -> queue -> worker -> fake TGI -> S3 result): ${rate.toFixed(0)} jobs/s (${pipelineSeconds.toFixed(2)} s)`);
        console.log(`ratio pipeline / raw queue: ${(rate / rawRate).toFixed(2)}`);
        console.log(`gateway submit latency: p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms`);
        console.log(`model calls: ${model.totalCalls} for ${JOBS} jobs`);
    } finally {
        fauxqs.stop();
    }
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
