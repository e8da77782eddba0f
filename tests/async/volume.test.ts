/**
 * 1,000 jobs through gateway, queue and two workers beside a CPU hog (busy
 * child processes, one per core): none lost, none run twice. The visibility
 * timeout is short (2 s) on purpose; the heartbeat runs from receipt, so a
 * loaded machine delays jobs, never duplicates them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as os from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildGateway } from "../../services/gateway/app";
import { JobStore, keys, type ResultRecord } from "../../services/shared/jobs";
import { Worker } from "../../services/worker/worker";
import { FakeTgi, listKeys, startLocalAws, waitFor, type LocalAws } from "./localAws";

const N = 1000;
let aws: LocalAws;
let model: FakeTgi;
let gateway: FastifyInstance;
let gatewayUrl: string;
let store: JobStore;
const hogs: ChildProcess[] = [];

beforeAll(async () => {
    aws = await startLocalAws({ maxReceiveCount: 3, visibilityTimeoutSeconds: 2 });
    model = await new FakeTgi().start();
    store = new JobStore(aws.s3, aws.bucket);
    gateway = buildGateway({ sqs: aws.sqs, store, queueUrl: aws.queueUrl, variants: ["fp16"] });
    gatewayUrl = await gateway.listen({ port: 0, host: "127.0.0.1" });
});

afterAll(async () => {
    for (const h of hogs) h.kill("SIGKILL");
    await gateway?.close();
    await model?.stop();
    await aws?.stop();
});

describe("volume under CPU contention", () => {
    it("1,000 jobs beside a CPU hog: none lost, none run twice, the queue drained", async () => {
        // One busy loop per core (bounded: killed in afterAll, and each exits by itself after 5 minutes).
        for (let i = 0; i < Math.min(2, os.availableParallelism()); i++) {
            hogs.push(spawn(process.execPath, ["-e", "const end = Date.now() + 300000; while (Date.now() < end) {}"], { stdio: "ignore" }));
        }
        const lag = monitorEventLoopDelay({ resolution: 20 });
        lag.enable();
        const workers = [1, 2].map(
            () =>
                new Worker({ sqs: aws.sqs, store, queueUrl: aws.queueUrl, dlqUrl: aws.dlqUrl, endpoints: { fp16: model.url }, concurrency: 32, waitTimeSeconds: 1, visibilityTimeoutSeconds: 2, maxReceiveCount: 3, modelTimeoutMs: 10_000, logger: pino({ level: "silent" }) }),
        );
        for (const w of workers) void w.start();
        const tag = `bulk-${Date.now()}`;
        const ids: string[] = [];
        try {
            for (let i = 0; i < N; i += 50) {
                const batch = await Promise.all(
                    Array.from({ length: Math.min(50, N - i) }, async (_, j) => {
                        const res = await fetch(`${gatewayUrl}/v1/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ variant: "fp16", request: { inputs: `${tag} ${i + j}` } }) });
                        return { status: res.status, body: (await res.json()) as { jobId: string } };
                    }),
                );
                for (const b of batch) {
                    expect(b.status).toBe(202);
                    ids.push(b.body.jobId);
                }
            }
            expect(new Set(ids).size).toBe(N);
            // Poll outcomes 50 reads at a time (the workers share the store), each finished job once.
            const wanted = new Set(ids.map((id) => keys.result(id)));
            const settled = new Set<string>();
            await waitFor("every job finished", async () => {
                const open = (await listKeys(aws.s3, aws.bucket, "results/")).filter((k) => wanted.has(k) && !settled.has(k));
                for (let k = 0; k < open.length; k += 50) {
                    const batch = open.slice(k, k + 50);
                    const states = await Promise.all(batch.map((key) => store.getJson<ResultRecord>(key)));
                    states.forEach((r, j) => (r?.status === "done" || r?.status === "failed") && settled.add(batch[j]!));
                }
                return settled.size >= N ? true : undefined;
            }, 240_000, 1000);
            const records = await Promise.all(ids.map((id) => store.getJson<ResultRecord>(keys.result(id))));
            expect(records.filter((r) => r?.status !== "done")).toEqual([]);
            const counts = [...Array(N).keys()].map((i) => model.calls.get(`${tag} ${i}`) ?? 0);
            expect(counts.filter((c) => c === 0).length, "jobs never run").toBe(0);
            expect(counts.filter((c) => c > 1).length, `jobs run twice (event-loop delay max ${(lag.max / 1e6).toFixed(0)} ms)`).toBe(0);
            // Every message acknowledged: nothing visible or in flight once the duplicates' deletes are through.
            await waitFor("the queue drained", async () => {
                const a = (await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: aws.queueUrl, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }))).Attributes ?? {};
                return Number(a.ApproximateNumberOfMessages) + Number(a.ApproximateNumberOfMessagesNotVisible) === 0 ? true : undefined;
            }, 30_000, 500);
        } finally {
            lag.disable();
            await Promise.all(workers.map((w) => w.stop(5000)));
        }
    }, 300_000);
});
