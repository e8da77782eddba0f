/**
 * The async path for real: gateway and worker against fauxqs (SQS + S3 wire
 * protocol) and a fake TGI server, all on 127.0.0.1, bounded in count and time.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { PurgeQueueCommand, ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildGateway, jobIdFor } from "../../services/gateway/app";
import { JobStore, keys, type ResultRecord } from "../../services/shared/jobs";
import { Worker, type WorkerOptions } from "../../services/worker/worker";
import { REPO_ROOT } from "../../infra/plan/render";
import { FakeTgi, listKeys, startLocalAws, waitFor, type LocalAws } from "./localAws";

const MAX_RECEIVE = 3;
let aws: LocalAws;
let model: FakeTgi;
let gateway: FastifyInstance;
let gatewayUrl: string;
let store: JobStore;
const workers: Worker[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
    aws = await startLocalAws({ maxReceiveCount: MAX_RECEIVE, visibilityTimeoutSeconds: 2 });
    model = await new FakeTgi().start();
    store = new JobStore(aws.s3, aws.bucket);
    gateway = buildGateway({ sqs: aws.sqs, store, queueUrl: aws.queueUrl, variants: ["fp16", "eetq"], maxBodyBytes: 1024 * 1024 });
    gatewayUrl = await gateway.listen({ port: 0, host: "127.0.0.1" });
});

afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop(5000)));
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
    // A long poll cut off by stop() can still take a message on the server side (as on real SQS);
    // wait out the poll so it cannot take the next test's messages.
    await new Promise((r) => setTimeout(r, 1200));
    // Each test starts from empty queues: leftovers (dead-letter candidates) would blur its counts.
    await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: aws.queueUrl }));
    await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: aws.dlqUrl }));
});

afterAll(async () => {
    await gateway.close();
    await model.stop();
    await aws.stop();
});

function startWorker(o: Partial<WorkerOptions> = {}): Worker {
    const w = new Worker({
        sqs: aws.sqs,
        store,
        queueUrl: aws.queueUrl,
        dlqUrl: aws.dlqUrl,
        endpoints: { fp16: model.url, eetq: model.url },
        waitTimeSeconds: 1,
        visibilityTimeoutSeconds: 2,
        maxReceiveCount: MAX_RECEIVE,
        modelTimeoutMs: 1000,
        attempts: 2,
        backoffMs: 20,
        logger: pino({ level: "silent" }),
        ...o,
    });
    void w.start();
    workers.push(w);
    return w;
}

async function submit(body: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${gatewayUrl}/v1/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function status(jobId: string) {
    const res = await fetch(`${gatewayUrl}/v1/jobs/${jobId}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const finished = (jobId: string, timeoutMs = 20_000) =>
    waitFor(`job ${jobId}`, async () => {
        const s = await status(jobId);
        return s.body.status === "done" || s.body.status === "failed" ? s.body : undefined;
    }, timeoutMs);

/** Receive every visible message of a queue (they reappear after the visibility timeout). */
async function drain(queueUrl: string): Promise<Array<{ body: string; reason?: string }>> {
    const all: Array<{ body: string; reason?: string }> = [];
    for (;;) {
        const out = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: all.length ? 0 : 1, MessageAttributeNames: ["All"] }));
        if (!out.Messages?.length) return all;
        all.push(...out.Messages.map((m) => ({ body: m.Body ?? "", reason: m.MessageAttributes?.reason?.StringValue })));
    }
}

const job = (inputs: string, variant = "fp16") => ({ variant, request: { inputs, parameters: { max_new_tokens: 16 } } });
let seq = 0;
const unique = (tag = "") => `prompt ${seq++} ${tag}`.trim();

describe("happy path", () => {
    it("submit returns 202 with an id at once; the worker runs it; status says done with the result", async () => {
        startWorker();
        const inputs = unique();
        const s = await submit(job(inputs));
        expect(s.status).toBe(202);
        expect(s.body).toMatchObject({ status: "pending", jobId: expect.stringMatching(/^j-[0-9a-f]{32}$/) });
        const pending = await status(String(s.body.jobId));
        expect(["pending", "done"]).toContain(pending.body.status);
        const done = await finished(String(s.body.jobId));
        expect(done).toMatchObject({ status: "done", result: { generated_text: `echo: ${inputs}` } });
        expect(model.calls.get(inputs)).toBe(1);
    });

    it("a payload over the SQS limit travels through S3", async () => {
        startWorker();
        const inputs = `${unique()} ${"x".repeat(300 * 1024)}`;
        const s = await submit(job(inputs));
        expect(s.status).toBe(202);
        expect(await store.exists(keys.request(String(s.body.jobId)))).toBe(true);
        expect(await finished(String(s.body.jobId))).toMatchObject({ status: "done" });
    });
});

describe("gateway input validation: 4xx with a clear message, never a 500", () => {
    it.each([
        ["malformed JSON", "{not json", 400, /not valid JSON/],
        ["an empty body", "", 400, /empty/],
        ["a missing variant", { request: { inputs: "x" } }, 400, /variant: is required/],
        ["a missing request", { variant: "fp16" }, 400, /request: is required/],
        ["an unknown field", { variant: "fp16", request: {}, priority: 1 }, 400, /priority/],
    ])("%s", async (_what, body, code, message) => {
        const r = await submit(body);
        expect(r.status).toBe(code);
        expect(JSON.stringify(r.body)).toMatch(message);
    });

    it("an unknown variant is 422 and lists the known ones", async () => {
        const r = await submit(job("x", "awq"));
        expect(r).toEqual({ status: 422, body: { error: 'unknown variant "awq"', knownVariants: ["eetq", "fp16"] } });
    });

    it("an oversized body is 413; a wrong content type 415; a bad Idempotency-Key 400", async () => {
        expect((await submit(job("x".repeat(2 * 1024 * 1024)))).status).toBe(413);
        const res = await fetch(`${gatewayUrl}/v1/jobs`, { method: "POST", headers: { "content-type": "text/plain" }, body: "hello" });
        expect(res.status).toBe(415);
        expect((await submit(job("x"), { "idempotency-key": "has spaces in it" })).status).toBe(400);
    });

    it("status of an invalid id is 400, of an unknown id 404", async () => {
        expect((await status("nope")).status).toBe(400);
        expect(await status(`j-${"0".repeat(32)}`)).toEqual({ status: 404, body: { error: `no job j-${"0".repeat(32)}` } });
    });

    it("health and Prometheus metrics", async () => {
        expect(await (await fetch(`${gatewayUrl}/healthz`)).json()).toEqual({ status: "ok" });
        const metrics = await (await fetch(`${gatewayUrl}/metrics`)).text();
        expect(metrics).toMatch(/gateway_jobs_submitted_total\{variant="fp16",duplicate="false"\} \d+/);
        expect(metrics).toMatch(/gateway_requests_rejected_total\{reason="unknown_variant"\} \d+/);
    });
});

describe("idempotency and duplicates", () => {
    it("a retried submit with the same Idempotency-Key is the same job, enqueued once", async () => {
        const key = `retry-${Date.now()}-${seq++}`;
        const first = await submit(job(unique()), { "idempotency-key": key });
        const again = await submit(job(unique()), { "idempotency-key": key });
        expect(first.status).toBe(202);
        expect(again).toMatchObject({ status: 200, body: { jobId: first.body.jobId, duplicate: true } });
        const messages = await drain(aws.queueUrl);
        expect(messages.filter((m) => m.body.includes(String(first.body.jobId)))).toHaveLength(1);
    });

    it("a retry after an enqueue that may not have happened sends the job again, and it completes", async () => {
        startWorker();
        const key = `lost-${Date.now()}-${seq++}`;
        const jobId = jobIdFor(key);
        // As if the gateway crashed between writing the job and sending its message.
        await store.putJson(keys.job(jobId), { jobId, variant: "fp16", submittedAt: new Date().toISOString(), idempotencyKey: key, enqueued: false });
        const retry = await submit(job(unique()), { "idempotency-key": key });
        expect(retry).toMatchObject({ status: 202, body: { jobId } });
        expect(await finished(jobId)).toMatchObject({ status: "done" });
    });

    it("when the queue refuses the message: 503 with a retry hint, and no job left pending forever", async () => {
        const broken = buildGateway({ sqs: aws.sqs, store, queueUrl: `${aws.queueUrl}-missing`, variants: ["fp16"] });
        const key = `broken-${seq++}`;
        const res = await broken.inject({ method: "POST", url: "/v1/jobs", payload: job(unique()), headers: { "idempotency-key": key } });
        expect(res.statusCode).toBe(503);
        expect(res.json()).toEqual({ error: "the job queue or store is unavailable; retry with the same Idempotency-Key" });
        expect(await store.exists(keys.job(jobIdFor(key)))).toBe(false);
        await broken.close();
    });

    it("a message delivered twice yields one result and one model call", async () => {
        const w = startWorker();
        const inputs = unique();
        const s = await submit(job(inputs));
        const jobId = String(s.body.jobId);
        await finished(jobId);
        const before = (await store.getJson<ResultRecord>(keys.result(jobId)))!;
        // SQS delivers at least once: the same message again.
        await aws.sqs.send(new SendMessageCommand({ QueueUrl: aws.queueUrl, MessageBody: JSON.stringify({ v: 1, jobId, variant: "fp16", request: job(inputs).request, submittedAt: new Date().toISOString() }) }));
        await waitFor("duplicate handled", async () => ((await w.registry.getSingleMetric("worker_jobs_total")!.get()).values.some((v) => v.labels.outcome === "duplicate") ? true : undefined));
        expect(model.calls.get(inputs)).toBe(1);
        expect(await store.getJson<ResultRecord>(keys.result(jobId))).toEqual(before);
        expect((await listKeys(aws.s3, aws.bucket, keys.result(jobId))).length).toBe(1);
    });
});

describe("failures", () => {
    it("model 5xx is retried and the job completes", async () => {
        startWorker({ attempts: 3 });
        const inputs = unique("[fail=2]");
        const s = await submit(job(inputs));
        expect(await finished(String(s.body.jobId))).toMatchObject({ status: "done" });
        expect(model.calls.get(inputs)).toBe(3);
    });

    it("a model timeout is retried (by redelivery) and the job completes when the model answers", async () => {
        startWorker({ attempts: 1, modelTimeoutMs: 300 });
        // Slower than the timeout on every call: gives up after the last delivery, reports failed, and dead-letters.
        const slow = await submit(job(unique("[latency=800]")));
        const fine = await submit(job(unique("[latency=50]")));
        expect(await finished(String(fine.body.jobId))).toMatchObject({ status: "done" });
        const failed = await finished(String(slow.body.jobId), 30_000);
        expect(failed).toMatchObject({ status: "failed", error: expect.stringMatching(/gave up after 3 deliveries: .*timed out after 300 ms/) });
        const dlq = await waitFor("dead letter", async () => {
            const m = await drain(aws.dlqUrl);
            return m.some((x) => x.body.includes(String(slow.body.jobId))) ? m : undefined;
        }, 15_000);
        expect(dlq.length).toBeGreaterThan(0);
    });

    it("a poison request goes to the DLQ with its reason, the job is failed, and other jobs are unaffected", async () => {
        startWorker();
        const poison = await submit(job(unique("[status=422]")));
        const others = await Promise.all([1, 2, 3].map(() => submit(job(unique()))));
        expect(await finished(String(poison.body.jobId))).toMatchObject({ status: "failed", error: expect.stringMatching(/model rejected the request: HTTP 422/) });
        for (const o of others) expect(await finished(String(o.body.jobId))).toMatchObject({ status: "done" });
        const dlq = await drain(aws.dlqUrl);
        expect(dlq.find((m) => m.body.includes(String(poison.body.jobId)))?.reason).toMatch(/HTTP 422/);
    });

    it("a malformed message is dead-lettered without stopping the worker", async () => {
        startWorker();
        await aws.sqs.send(new SendMessageCommand({ QueueUrl: aws.queueUrl, MessageBody: "not a job" }));
        const ok = await submit(job(unique()));
        expect(await finished(String(ok.body.jobId))).toMatchObject({ status: "done" });
        const dlq = await waitFor("malformed in DLQ", async () => {
            const m = await drain(aws.dlqUrl);
            return m.find((x) => x.body === "not a job");
        });
        expect(dlq.reason).toMatch(/malformed message/);
    });
});

describe("process signals", () => {
    function workerProcess(extra: Record<string, string> = {}): ChildProcess {
        // `node --import tsx`: one process (the tsx CLI would run the worker in a grandchild that SIGKILL misses).
        const child = spawn(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "services/worker/main.ts")], {
            cwd: REPO_ROOT,
            env: {
                PATH: process.env.PATH ?? "",
                QUEUE_URL: aws.queueUrl,
                DLQ_URL: aws.dlqUrl,
                BUCKET: aws.bucket,
                AWS_REGION: "us-east-1",
                AWS_ENDPOINT_URL: aws.endpoint,
                MODEL_ENDPOINTS: JSON.stringify({ fp16: model.url }),
                WAIT_TIME_SECONDS: "1",
                VISIBILITY_TIMEOUT_SECONDS: "2",
                MAX_RECEIVE_COUNT: String(MAX_RECEIVE),
                METRICS_PORT: "0",
                ...extra,
            },
            stdio: ["ignore", "pipe", "pipe"],
        });
        // Drain its output (a full pipe would block it) and keep it for failure messages.
        let output = "";
        child.stdout!.on("data", (d) => (output += String(d)));
        child.stderr!.on("data", (d) => (output += String(d)));
        Object.defineProperty(child, "output", { get: () => output });
        children.push(child);
        return child;
    }
    const exited = (c: ChildProcess) => new Promise<number | null>((resolve) => (c.exitCode !== null ? resolve(c.exitCode) : c.once("exit", (code) => resolve(code))));

    it("a worker killed mid-job (SIGKILL): the job still completes, once", async () => {
        const inputs = unique("[latency=1500]");
        const victim = workerProcess();
        const s = await submit(job(inputs));
        await waitFor("model call in flight", async () => (model.calls.get(inputs) ? true : undefined), 20_000).catch((e: Error) => {
            throw new Error(`${e.message}; worker output: ${JSON.stringify((victim as unknown as { output: string }).output.slice(-2000))}`);
        });
        victim.kill("SIGKILL");
        await exited(victim);
        startWorker({ modelTimeoutMs: 5000 });
        const done = await finished(String(s.body.jobId), 20_000);
        expect(done).toMatchObject({ status: "done", result: { generated_text: `echo: ${inputs}` } });
        expect((await listKeys(aws.s3, aws.bucket, keys.result(String(s.body.jobId)))).length).toBe(1);
        expect(model.calls.get(inputs)).toBe(2);
    });

    it("SIGTERM: stops polling, finishes the in-flight job, exits 0; the message is not redelivered", async () => {
        const inputs = unique("[latency=1500]");
        const child = workerProcess({ SHUTDOWN_GRACE_MS: "10000" });
        const s = await submit(job(inputs));
        await waitFor("model call in flight", async () => (model.calls.get(inputs) ? true : undefined), 20_000).catch((e: Error) => {
            throw new Error(`${e.message}; worker output: ${JSON.stringify((child as unknown as { output: string }).output.slice(-2000))}`);
        });
        child.kill("SIGTERM");
        expect(await exited(child)).toBe(0);
        const result = await store.getJson<ResultRecord>(keys.result(String(s.body.jobId)));
        expect(result).toMatchObject({ status: "done" });
        // Nothing comes back after the visibility timeout: it was deleted, not abandoned.
        await new Promise((r) => setTimeout(r, 2500));
        expect((await drain(aws.queueUrl)).filter((m) => m.body.includes(String(s.body.jobId)))).toEqual([]);
        expect(model.calls.get(inputs)).toBe(1);
    });
});

describe("volume", () => {
    it("1,000 jobs through gateway, queue and two workers: none lost, none duplicated", async () => {
        const N = 1000;
        startWorker({ concurrency: 32 });
        startWorker({ concurrency: 32 });
        const ids: string[] = [];
        const tag = `bulk-${Date.now()}`;
        for (let i = 0; i < N; i += 50) {
            const batch = await Promise.all(Array.from({ length: Math.min(50, N - i) }, (_, j) => submit(job(`${tag} ${i + j}`))));
            for (const b of batch) {
                expect(b.status).toBe(202);
                ids.push(String(b.body.jobId));
            }
        }
        expect(new Set(ids).size).toBe(N);
        const results = await waitFor("all results", async () => {
            const keysNow = await listKeys(aws.s3, aws.bucket, "results/");
            const mine = keysNow.filter((k) => ids.includes(k.slice("results/".length, -".json".length)));
            return mine.length >= N ? mine : undefined;
        }, 120_000, 500);
        expect(results).toHaveLength(N);
        const records = await Promise.all(ids.map((id) => store.getJson<ResultRecord>(keys.result(id))));
        expect(records.every((r) => r?.status === "done")).toBe(true);
        for (let i = 0; i < N; i++) expect(model.calls.get(`${tag} ${i}`), `job ${i}`).toBeGreaterThanOrEqual(1);
        const duplicatedCalls = [...Array(N).keys()].filter((i) => (model.calls.get(`${tag} ${i}`) ?? 0) > 1).length;
        expect(duplicatedCalls).toBe(0);
        expect((await drain(aws.queueUrl)).filter((m) => m.body.includes(tag))).toEqual([]);
    }, 180_000);
});
