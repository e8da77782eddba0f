/**
 * The async gateway: POST /v1/jobs enqueues a job and answers 202 at once;
 * GET /v1/jobs/:id reports pending, done (with the result) or failed (with the
 * reason). Every client mistake is a 4xx that says what is wrong; 503 only
 * means the queue or store failed (retry with the same Idempotency-Key);
 * anything else is a 500.
 *
 * A submit is two calls: the job record written with If-None-Match (the first
 * submit of an Idempotency-Key wins atomically, however many race) and the
 * message. A repeated submit whose job has no result yet sends the message
 * again (the first may have been lost with a crashed gateway); the worker's
 * claim makes that harmless: a job runs once whatever number of messages.
 */
import { createHash, randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from "fastify";
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { z } from "zod";
import { Batcher } from "../shared/batch";
import { INLINE_PAYLOAD_LIMIT_BYTES, isTerminal, JOB_ID, JobStore, keys, type JobMessage, type JobRecord, type JobState } from "../shared/jobs";
import { sqsSafeJson } from "../shared/sqsText";
import { DEFAULT_LIMITS, generateRequestSchema, type VariantLimits } from "./request";

export interface GatewayOptions {
    sqs: SQSClient;
    store: JobStore;
    queueUrl: string;
    /** Variants a job may target (the worker has their endpoints). */
    variants: string[];
    /** Token limits per variant (its server's --max-input-tokens / --max-total-tokens); DEFAULT_LIMITS for one not listed. */
    limits?: Record<string, VariantLimits>;
    /** Largest accepted request body. Default 4 MiB. */
    maxBodyBytes?: number;
    /** Longest a client may take to send a whole request (headers and body). Default 10 s. */
    requestTimeoutMs?: number;
    logger?: FastifyServerOptions["logger"];
    /** Where its metrics go (and /metrics reads). Default: a new registry. */
    registry?: Registry;
}

const submitSchema = z.strictObject({
    variant: z.string({ error: "is required: the model variant to run, e.g. \"fp16\"" }).min(1),
    request: z.record(z.string(), z.unknown(), { error: "is required: the model request, e.g. {\"inputs\": \"...\", \"parameters\": {\"max_new_tokens\": 64}}" }),
});

const idempotencyKey = z.string().min(1).max(256).regex(/^[\x21-\x7e]+$/, "must be 1-256 visible ASCII characters");

/** A retried submit with the same Idempotency-Key maps to the same job. */
export function jobIdFor(key: string | undefined): string {
    const seed = key === undefined ? randomUUID() : `idem:${key}`;
    return `j-${createHash("sha256").update(seed).digest("hex").slice(0, 32)}`;
}

/** What a reused Idempotency-Key must match: the variant and the request as sent. */
export function requestHash(variant: string, requestJson: string): string {
    return createHash("sha256").update(`${variant}\n${requestJson}`).digest("hex");
}

/** Bodies up to this size are sent in batches of up to 10 (SQS allows 256 KiB per batch). */
const BATCHED_BODY_BYTES = 16 * 1024;

const RETRYABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_SOCKET", "UND_ERR_CONNECT_TIMEOUT"]);
/** AWS answers caused by the message's content: the same request can never succeed. */
const CONTENT_ERRORS = new Set(["InvalidMessageContents", "MessageTooLong", "InvalidParameterValue"]);

export type ErrorClass = { status: 400; reason: string } | { status: 503 } | { status: 500 };

/** 503 only for what a retry can fix: the queue or store (AWS or the network to it) failed. */
export function classifyError(err: unknown): ErrorClass {
    const e = err as { name?: string; code?: string; $metadata?: unknown; $fault?: string; cause?: { code?: string } };
    if (e?.name && CONTENT_ERRORS.has(e.name)) return { status: 400, reason: e.name };
    if (e?.$metadata !== undefined || e?.$fault !== undefined) return { status: 503 };
    if (RETRYABLE_CODES.has(e?.code ?? "") || RETRYABLE_CODES.has(e?.cause?.code ?? "") || e?.name === "TimeoutError") return { status: 503 };
    return { status: 500 };
}

export function buildGateway(o: GatewayOptions): FastifyInstance {
    const bodyLimit = o.maxBodyBytes ?? 4 * 1024 * 1024;
    const requestTimeout = o.requestTimeoutMs ?? 10_000;
    const registry = o.registry ?? new Registry();
    collectDefaultMetrics({ register: registry });
    const submitted = new Counter({ name: "gateway_jobs_submitted_total", help: "Jobs accepted, by variant and whether the Idempotency-Key matched an existing job", labelNames: ["variant", "duplicate"], registers: [registry] });
    const rejected = new Counter({ name: "gateway_requests_rejected_total", help: "Requests answered with a 4xx, by reason", labelNames: ["reason"], registers: [registry] });
    const latency = new Histogram({
        name: "gateway_request_duration_seconds",
        help: "Gateway request latency",
        labelNames: ["route", "status"],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers: [registry],
    });
    const fail = (reason: string, status: number, message: string, extra: Record<string, unknown> = {}) => {
        rejected.labels(reason).inc();
        return { status, body: { error: message, ...extra } };
    };
    const send = (reply: FastifyReply, r: { status: number; body: unknown }) => reply.code(r.status).send(r.body);

    // Errors the HTTP parser raises before Fastify sees a request (slow or oversized headers): JSON, counted, nothing echoed.
    const clientErrorHandler = (err: NodeJS.ErrnoException, socket: Socket) => {
        if (err.code === "ECONNRESET" || socket.destroyed) return;
        const [status, reason, message] =
            err.code === "ERR_HTTP_REQUEST_TIMEOUT"
                ? [408, "request_timeout", `the request was not received within ${requestTimeout} ms`]
                : err.code === "HPE_HEADER_OVERFLOW"
                  ? [431, "headers_too_large", "the request line and headers are too large"]
                  : [400, "bad_http", "the request is not valid HTTP"];
        const body = JSON.stringify(fail(reason, status, message).body);
        if (socket.writable) socket.write(`HTTP/1.1 ${status} ${reason.replace(/_/g, " ")}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        socket.destroy();
    };

    const app = Fastify({
        logger: o.logger ?? false,
        bodyLimit,
        requestTimeout,
        // Node checks request timeouts on this interval (default 30 s): check often enough to honour a short timeout.
        http: { headersTimeout: requestTimeout, connectionsCheckingInterval: Math.max(250, Math.min(1000, requestTimeout / 4)) },
        clientErrorHandler,
        // Fastify's own router errors (too-long path parameter, malformed URL) through the same handler: no path echoed.
        frameworkErrors: (err, _req, reply) => {
            const r = err.code === "FST_ERR_MAX_PARAM_LENGTH" ? fail("uri_too_long", 414, "the path is too long") : fail("bad_url", 400, "the URL is malformed");
            return send(reply, r);
        },
    });
    const variants = new Set(o.variants);
    const requestSchemas = new Map(o.variants.map((v) => [v, generateRequestSchema(o.limits?.[v] ?? DEFAULT_LIMITS)]));
    // JSON only: a text/plain body gets a 415 instead of being parsed as a string.
    app.removeContentTypeParser("text/plain");

    app.addHook("onResponse", async (req, reply) => {
        latency.labels(req.routeOptions.url ?? "unknown", String(reply.statusCode)).observe(reply.elapsedTime / 1000);
    });

    app.setNotFoundHandler((_req, reply) => send(reply, fail("no_route", 404, "no such route: the API is POST /v1/jobs and GET /v1/jobs/{id}")));

    app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, _req, reply) => {
        const status = err.statusCode ?? 0;
        if (status >= 400 && status < 500) {
            const messages: Record<string, string> = {
                FST_ERR_CTP_INVALID_JSON_BODY: "the body is not valid JSON",
                FST_ERR_CTP_EMPTY_JSON_BODY: "the body is empty; send a JSON object with variant and request",
                FST_ERR_CTP_BODY_TOO_LARGE: `the body is larger than ${bodyLimit} bytes`,
                FST_ERR_CTP_INVALID_MEDIA_TYPE: "send the body as Content-Type: application/json",
            };
            return send(reply, fail(err.code ?? "client", status, messages[err.code ?? ""] ?? err.message));
        }
        const c = classifyError(err);
        if (c.status === 400) return send(reply, fail(c.reason, 400, `the queue refused the job's content (${c.reason})`));
        app.log.error({ err }, "gateway error");
        if (c.status === 503) return reply.code(503).send({ error: "the job queue or store is unavailable; retry with the same Idempotency-Key" });
        return reply.code(500).send({ error: "internal error" });
    });

    app.get("/healthz", async () => ({ status: "ok" }));
    app.get("/metrics", async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));

    // Concurrent submits share one SendMessageBatch (fewer queue calls per job). Only small bodies: a batch
    // may carry 256 KiB in all, so 10 bodies of at most BATCHED_BODY_BYTES fit; larger ones go alone.
    const sends = new Batcher<string>(async (bodies) => {
        const out = await o.sqs.send(new SendMessageBatchCommand({ QueueUrl: o.queueUrl, Entries: bodies.map((MessageBody, i) => ({ Id: String(i), MessageBody })) }));
        const failed = new Map((out.Failed ?? []).map((f) => [f.Id, Object.assign(new Error(f.Message ?? f.Code ?? "send failed"), { name: f.Code ?? "SendFailed", $fault: f.SenderFault ? "client" : "server" })]));
        return bodies.map((_, i) => failed.get(String(i)));
    });
    const enqueue = async (message: JobMessage) => {
        const body = sqsSafeJson(message);
        if (Buffer.byteLength(body) <= BATCHED_BODY_BYTES) return sends.add(body);
        await o.sqs.send(new SendMessageCommand({ QueueUrl: o.queueUrl, MessageBody: body }));
    };

    app.post("/v1/jobs", async (req, reply) => {
        const parsed = submitSchema.safeParse(req.body);
        if (!parsed.success) {
            return send(reply, fail("invalid", 400, "invalid job", { problems: parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`) }));
        }
        const { variant, request } = parsed.data;
        if (!variants.has(variant)) return send(reply, fail("unknown_variant", 422, `unknown variant "${variant}"`, { knownVariants: [...variants].sort() }));
        const checked = requestSchemas.get(variant)!.safeParse(request);
        if (!checked.success) {
            return send(reply, fail("invalid_request", 400, `invalid request for variant "${variant}"`, { problems: checked.error.issues.map((i) => `request.${i.path.join(".")}: ${i.message}`) }));
        }
        const keyHeader = req.headers["idempotency-key"];
        let key: string | undefined;
        if (keyHeader !== undefined) {
            const k = idempotencyKey.safeParse(keyHeader);
            if (!k.success) return send(reply, fail("invalid_idempotency_key", 400, `Idempotency-Key ${k.error.issues[0]!.message}`));
            key = k.data;
        }
        const jobId = jobIdFor(key);
        const statusUrl = `/v1/jobs/${jobId}`;
        const requestText = JSON.stringify(request);
        const hash = requestHash(variant, requestText);
        const inline = Buffer.byteLength(requestText) <= INLINE_PAYLOAD_LIMIT_BYTES;
        const submittedAt = new Date().toISOString();
        const record: JobRecord = { jobId, variant, submittedAt, requestHash: hash, ...(key ? { idempotencyKey: key } : {}), ...(inline ? {} : { requestKey: keys.request(jobId) }) };
        const message: JobMessage = { v: 1, jobId, variant, submittedAt, ...(inline ? { request } : { requestKey: keys.request(jobId) }) };
        // Bounded: a second round only follows a first submit that withdrew its record meanwhile.
        for (let round = 0; round < 2; round++) {
            // The job record first: a status query after the 202 must never say "not found".
            if ((await o.store.create(keys.job(jobId), record)) === "exists") {
                const existing = await o.store.read<JobRecord>(keys.job(jobId));
                if (!existing) continue;
                if (existing.value.requestHash !== hash) {
                    return send(reply, fail("idempotency_key_reused", 422, `Idempotency-Key was already used for a different request (job ${jobId}); use a new key for a new request`));
                }
                const state = await o.store.getJson<JobState>(keys.result(jobId));
                if (!state) {
                    // The first submit's message may never have reached the queue (its gateway died): send again; the worker runs a job once.
                    if (!inline) await o.store.putJson(keys.request(jobId), request);
                    await enqueue({ ...message, submittedAt: existing.value.submittedAt });
                }
                submitted.labels(variant, "true").inc();
                const status = isTerminal(state) ? state.status : "pending";
                return reply.code(200).send({ jobId, status, statusUrl, duplicate: true });
            }
            try {
                if (!inline) await o.store.putJson(keys.request(jobId), request);
                await enqueue(message);
            } catch (err) {
                // Not enqueued (or not known to be): withdraw the record so the job is not left pending; a retry starts afresh.
                await o.store.delete(keys.job(jobId)).catch(() => undefined);
                throw err;
            }
            submitted.labels(variant, "false").inc();
            return reply.code(202).header("location", statusUrl).send({ jobId, status: "pending", statusUrl });
        }
        throw new Error(`job ${jobId}: its record appeared and vanished twice during one submit`);
    });

    app.get<{ Params: { id: string } }>("/v1/jobs/:id", async (req, reply) => {
        const { id } = req.params;
        if (!JOB_ID.test(id)) return send(reply, fail("invalid_id", 400, "a job id looks like j- followed by 32 hex characters"));
        const state = await o.store.getJson<JobState>(keys.result(id));
        if (isTerminal(state)) {
            return reply.send(
                state.status === "done"
                    ? { jobId: id, status: "done", result: state.result, completedAt: state.completedAt }
                    : { jobId: id, status: "failed", error: state.error, completedAt: state.completedAt },
            );
        }
        // A claim (a worker is running it) or a job record: pending.
        if (state || (await o.store.exists(keys.job(id)))) return reply.send({ jobId: id, status: "pending" });
        return send(reply, fail("not_found", 404, `no job ${id}`));
    });

    return app;
}
