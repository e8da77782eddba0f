/**
 * The async path for real: gateway and worker against fauxqs (SQS), moto (S3,
 * with conditional writes) and a fake TGI server, all on 127.0.0.1, bounded in
 * count and time.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { PurgeQueueCommand, ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { S3Client } from "@aws-sdk/client-s3";
import { buildGateway, jobIdFor, requestHash } from "../../services/gateway/app";
import { readCalls } from "../../testing/local/fakeTgi";
import { freePort } from "../../testing/local/servers";
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

const callLog = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "mlserve-async-")), "calls.jsonl");

beforeAll(async () => {
    aws = await startLocalAws({ maxReceiveCount: MAX_RECEIVE, visibilityTimeoutSeconds: 2 });
    model = await new FakeTgi({ log: callLog }).start();
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
        // Dead letters already accounted for come back after 1 s, so tests can read the DLQ.
        dlqRecheckSeconds: 1,
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

/** An HTTP proxy that holds each request `delayMs` before passing it on: a slow S3. */
async function slowProxy(target: string, delayMs: number): Promise<{ url: string; close(): Promise<void> }> {
    const t = new URL(target);
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () =>
            setTimeout(() => {
                const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (u) => {
                    res.writeHead(u.statusCode ?? 502, u.headers);
                    u.pipe(res);
                });
                up.on("error", () => res.destroy());
                up.end(Buffer.concat(chunks));
            }, delayMs),
        );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

/** Send raw bytes and return what the server answered before closing (bounded). */
function rawRequest(text: string, port = Number(new URL(gatewayUrl).port), timeoutMs = 5000): Promise<string> {
    return new Promise((resolve) => {
        let got = "";
        const socket = net.connect(port, "127.0.0.1", () => socket.write(text));
        const t = setTimeout(() => (socket.destroy(), resolve(got)), timeoutMs);
        socket.on("data", (d) => (got += String(d)));
        socket.on("error", () => undefined);
        socket.on("close", () => (clearTimeout(t), resolve(got)));
    });
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
    it("a retried submit with the same Idempotency-Key is the same job (200, duplicate) and runs once", async () => {
        startWorker();
        const key = `retry-${Date.now()}-${seq++}`;
        const body = job(unique());
        const first = await submit(body, { "idempotency-key": key });
        const again = await submit(body, { "idempotency-key": key });
        expect(first.status).toBe(202);
        expect(again).toMatchObject({ status: 200, body: { jobId: first.body.jobId, duplicate: true } });
        expect(await finished(String(first.body.jobId))).toMatchObject({ status: "done" });
        expect(model.calls.get(body.request.inputs)).toBe(1);
    });

    it("overlapping submits with the same Idempotency-Key: the first wins atomically; one model call, one result write", async () => {
        startWorker({ concurrency: 16 });
        const key = `race-${Date.now()}-${seq++}`;
        const body = job(unique("[latency=300]"));
        const answers = await Promise.all(Array.from({ length: 12 }, () => submit(body, { "idempotency-key": key })));
        const jobId = jobIdFor(key);
        expect(answers.map((a) => a.body.jobId)).toEqual(Array(12).fill(jobId));
        expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
        expect(answers.filter((a) => a.status === 200 && a.body.duplicate === true)).toHaveLength(11);
        expect(await finished(jobId)).toMatchObject({ status: "done" });
        // Every message the duplicates sent has been handled (acknowledged without a call).
        await waitFor("queue empty", async () => ((await drain(aws.queueUrl)).some((m) => m.body.includes(jobId)) ? undefined : true), 15_000, 500);
        const calls = readCalls(callLog).calls.filter((c) => c.job === jobId);
        expect(calls.filter((c) => c.status === 200)).toHaveLength(1);
        expect(model.calls.get(body.request.inputs)).toBe(1);
    });

    it("a reused Idempotency-Key with a different request is refused (422), not answered with the other job", async () => {
        const key = `reuse-${Date.now()}-${seq++}`;
        expect((await submit(job(unique()), { "idempotency-key": key })).status).toBe(202);
        const other = await submit(job(unique()), { "idempotency-key": key });
        expect(other.status).toBe(422);
        expect(other.body.error).toMatch(/Idempotency-Key was already used for a different request/);
    });

    it("a retry after an enqueue that may not have happened (gateway died after writing the job) sends the job again, and it completes", async () => {
        startWorker();
        const key = `lost-${Date.now()}-${seq++}`;
        const jobId = jobIdFor(key);
        const body = job(unique());
        // As if a gateway died between writing the job and sending its message: the same submit's record.
        const probe = buildGateway({ sqs: aws.sqs, store, queueUrl: `${aws.queueUrl}-missing`, variants: ["fp16"] });
        expect((await probe.inject({ method: "POST", url: "/v1/jobs", payload: body, headers: { "idempotency-key": `${key}-probe` } })).statusCode).toBe(503);
        await probe.close();
        const record = { jobId, variant: "fp16", submittedAt: new Date().toISOString(), idempotencyKey: key, requestHash: requestHash("fp16", JSON.stringify(body.request)) };
        await store.putJson(keys.job(jobId), record);
        expect(await status(jobId)).toMatchObject({ status: 200, body: { status: "pending" } });
        const retry = await submit(body, { "idempotency-key": key });
        expect(retry).toMatchObject({ status: 200, body: { jobId, duplicate: true } });
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
        await waitFor("duplicate handled", async () => ((await w.registry.getSingleMetric("worker_jobs_total")!.get()).values.some((v) => v.labels.outcome === "finished") ? true : undefined));
        expect(model.calls.get(inputs)).toBe(1);
        expect(await store.getJson<ResultRecord>(keys.result(jobId))).toEqual(before);
        expect((await listKeys(aws.s3, aws.bucket, keys.result(jobId))).length).toBe(1);
    });

    it("a second message for a job another delivery is running: acknowledged without a model call", async () => {
        startWorker({ modelTimeoutMs: 5000 });
        const inputs = unique("[latency=1500]");
        const s = await submit(job(inputs));
        const jobId = String(s.body.jobId);
        await waitFor("model call in flight", async () => (model.calls.get(inputs) ? true : undefined));
        await aws.sqs.send(new SendMessageCommand({ QueueUrl: aws.queueUrl, MessageBody: JSON.stringify({ v: 1, jobId, variant: "fp16", request: job(inputs).request, submittedAt: new Date().toISOString() }) }));
        expect(await finished(jobId)).toMatchObject({ status: "done" });
        await waitFor("queue empty", async () => ((await drain(aws.queueUrl)).some((m) => m.body.includes(jobId)) ? undefined : true), 10_000, 500);
        expect(model.calls.get(inputs)).toBe(1);
    });
});

describe("client errors are 4xx that say why; 503 only for what a retry can fix", () => {
    it("characters SQS refuses (U+FFFE, U+FFFF) travel escaped: the job is accepted and runs with them intact", async () => {
        startWorker();
        const inputs = `${unique()} \ufffe and \uffff`;
        const s = await submit(job(inputs));
        expect(s.status).toBe(202);
        expect(await finished(String(s.body.jobId))).toMatchObject({ status: "done", result: { generated_text: `echo: ${inputs}` } });
    });

    it("absurdly deep JSON is a 400 naming the field, on the first try", async () => {
        const deep = `${"[".repeat(5000)}${"]".repeat(5000)}`;
        const r1 = await submit(`{"variant":"fp16","request":{"inputs":"x","parameters":{"grammar":{"type":"json","value":${deep}}}}}`);
        expect(r1.status).toBe(400);
        expect(JSON.stringify(r1.body)).toMatch(/request\.parameters\.grammar: must not nest deeper than 32 levels/);
        const r2 = await submit(`{"variant":"fp16","request":{"inputs":"x","extra":${deep}}}`);
        expect(r2.status).toBe(400);
        expect(JSON.stringify(r2.body)).toMatch(/extra/);
    });

    it.each([
        ["a negative max_new_tokens", { max_new_tokens: -5 }, /request\.parameters\.max_new_tokens: must be at least 1/],
        ["an absurd max_new_tokens", { max_new_tokens: 1e9 }, /request\.parameters\.max_new_tokens: must be at most 4095/],
        ["a fractional max_new_tokens", { max_new_tokens: 1.5 }, /max_new_tokens: must be a whole number/],
        ["top_p of 1", { top_p: 1 }, /request\.parameters\.top_p: must be > 0 and < 1/],
        ["temperature 0", { temperature: 0 }, /temperature: must be > 0/],
        ["five stop sequences", { stop: ["a", "b", "c", "d", "e"] }, /stop: may hold at most 4/],
        ["a misspelt parameter", { max_tokens: 10 }, /max_tokens/],
    ])("the request is checked against the engine's parameters at submit: %s is a 400", async (_what, parameters, message) => {
        const r = await submit({ variant: "fp16", request: { inputs: "x", parameters } });
        expect(r.status).toBe(400);
        expect(JSON.stringify(r.body)).toMatch(message);
    });

    it("limits come from the variant: max_new_tokens must leave room for the prompt in its max total tokens", async () => {
        const g = buildGateway({ sqs: aws.sqs, store, queueUrl: aws.queueUrl, variants: ["small"], limits: { small: { maxInputTokens: 100, maxTotalTokens: 256 } } });
        const r = await g.inject({ method: "POST", url: "/v1/jobs", payload: { variant: "small", request: { inputs: "x", parameters: { max_new_tokens: 256 } } } });
        expect(r.statusCode).toBe(400);
        expect(r.json().problems).toEqual(["request.parameters.max_new_tokens: must be at most 255 (the variant's max total tokens 256 minus at least one prompt token)"]);
        await g.close();
    });

    it("an error that is not the queue's or store's is a 500, not a 503 that invites endless retries", async () => {
        const boom = buildGateway({ sqs: aws.sqs, store: { create: () => Promise.reject(new TypeError("a bug")) } as unknown as JobStore, queueUrl: aws.queueUrl, variants: ["fp16"] });
        const r = await boom.inject({ method: "POST", url: "/v1/jobs", payload: job("x") });
        expect(r.statusCode).toBe(500);
        expect(r.json()).toEqual({ error: "internal error" });
        await boom.close();
    });

    it("unknown routes, over-long ids and oversized headers: JSON 404/414/431 through the same handler and metrics, the path never echoed", async () => {
        const secretish = "p4th-s3cr3t";
        const r404 = await fetch(`${gatewayUrl}/v2/${secretish}`);
        expect(r404.status).toBe(404);
        const b404 = await r404.text();
        expect(JSON.parse(b404)).toEqual({ error: "no such route: the API is POST /v1/jobs and GET /v1/jobs/{id}" });
        expect(b404).not.toContain(secretish);
        const r414 = await fetch(`${gatewayUrl}/v1/jobs/${secretish}${"x".repeat(300)}`);
        expect(r414.status).toBe(414);
        const b414 = await r414.text();
        expect(JSON.parse(b414)).toEqual({ error: "the path is too long" });
        expect(b414).not.toContain(secretish);
        const r431 = await rawRequest(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"y".repeat(20_000)}\r\n\r\n`);
        expect(r431).toMatch(/^HTTP\/1.1 431/);
        expect(r431).toContain('{"error":"the request line and headers are too large"}');
        const metrics = await (await fetch(`${gatewayUrl}/metrics`)).text();
        for (const reason of ["no_route", "uri_too_long", "headers_too_large"]) expect(metrics).toMatch(new RegExp(`gateway_requests_rejected_total\\{reason="${reason}"\\} [1-9]`));
    });
});

describe("timeouts and shutdown", () => {
    it("a client that sends half a body gets a 408 and loses the connection after the request timeout", async () => {
        const g = buildGateway({ sqs: aws.sqs, store, queueUrl: aws.queueUrl, variants: ["fp16"], requestTimeoutMs: 600 });
        const url = new URL(await g.listen({ port: 0, host: "127.0.0.1" }));
        const started = Date.now();
        const answer = await rawRequest(`POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"variant":`, Number(url.port), 10_000);
        expect(answer).toMatch(/^HTTP\/1.1 408/);
        expect(Date.now() - started).toBeLessThan(5000);
        await g.close();
    });

    it("SIGTERM with a client stuck mid-body: the gateway process still exits within its shutdown deadline", async () => {
        const port = await freePort();
        const child = spawn(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "services/gateway/main.ts")], {
            cwd: REPO_ROOT,
            env: { PATH: process.env.PATH ?? "", ...aws.env, VARIANTS: "fp16", PORT: String(port), HOST: "127.0.0.1", REQUEST_TIMEOUT_MS: "60000", SHUTDOWN_TIMEOUT_MS: "1500" },
            stdio: "ignore",
        });
        children.push(child);
        await waitFor("gateway up", async () => ((await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok ? true : undefined), 30_000, 200);
        const stuck = net.connect(port, "127.0.0.1");
        stuck.on("error", () => undefined);
        await new Promise((r) => stuck.once("connect", r));
        stuck.write(`POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"variant":`);
        await new Promise((r) => setTimeout(r, 300));
        const started = Date.now();
        child.kill("SIGTERM");
        const code = await new Promise<number | null>((resolve) => {
            const t = setTimeout(() => resolve(-1), 10_000);
            child.once("exit", (c) => (clearTimeout(t), resolve(c)));
        });
        expect(code).not.toBe(-1);
        expect(Date.now() - started).toBeLessThan(5000);
        stuck.destroy();
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
        startWorker({ attempts: 1, modelTimeoutMs: 300, consumeDlq: false });
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
        // No DLQ consumer here: the test reads the DLQ itself.
        startWorker({ consumeDlq: false });
        const poison = await submit(job(unique("[status=422]")));
        const others = await Promise.all([1, 2, 3].map(() => submit(job(unique()))));
        expect(await finished(String(poison.body.jobId))).toMatchObject({ status: "failed", error: expect.stringMatching(/model rejected the request: HTTP 422/) });
        for (const o of others) expect(await finished(String(o.body.jobId))).toMatchObject({ status: "done" });
        const dlq = await drain(aws.dlqUrl);
        expect(dlq.find((m) => m.body.includes(String(poison.body.jobId)))?.reason).toMatch(/HTTP 422/);
    });

    it("a malformed message is dead-lettered without stopping the worker", async () => {
        startWorker({ consumeDlq: false });
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
                ...aws.env,
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

    it("a worker killed during the last delivery: SQS dead-letters the message and the job ends failed with the reason, never pending forever", async () => {
        const inputs = unique("[hang]");
        const victim = workerProcess({ ATTEMPTS: "1", MODEL_TIMEOUT_MS: "400", BACKOFF_MS: "0" });
        const s = await submit(job(inputs));
        const jobId = String(s.body.jobId);
        // Deliveries 1 and 2 time out and come back; the worker dies while the last one hangs.
        await waitFor("the last delivery's model call", async () => (readCalls(callLog).calls.some((c) => c.job === jobId && c.delivery?.endsWith(`/${MAX_RECEIVE}`)) ? true : undefined), 30_000, 50);
        victim.kill("SIGKILL");
        await exited(victim);
        // Another worker: its receive lets SQS move the message to the DLQ, and its DLQ consumer ends the job.
        startWorker();
        expect(await finished(jobId, 30_000)).toMatchObject({ status: "failed", error: expect.stringMatching(/^gave up after 3 deliveries: .*timed out after 400 ms/) });
        await Promise.all(workers.splice(0).map((w) => w.stop(5000)));
        const dlq = await waitFor("the message in the DLQ", async () => (await drain(aws.dlqUrl)).find((m) => m.body.includes(jobId)), 10_000);
        expect(dlq.body).toContain(jobId);
    }, 60_000);

    it("S3 slower than the visibility timeout before the model call: the heartbeat, running from receipt, keeps the message; one model call", async () => {
        const proxy = await slowProxy(aws.s3Endpoint, 1500);
        const slowS3 = new S3Client({ region: "us-east-1", endpoint: proxy.url, forcePathStyle: true, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
        startWorker({ store: new JobStore(slowS3, aws.bucket), modelTimeoutMs: 5000 });
        const inputs = unique("[latency=2000]");
        const s = await submit(job(inputs));
        expect(await finished(String(s.body.jobId), 30_000)).toMatchObject({ status: "done" });
        expect(model.calls.get(inputs)).toBe(1);
        await proxy.close();
    }, 60_000);

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
