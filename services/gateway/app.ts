/**
 * The async gateway: POST /v1/jobs enqueues a job and answers 202 at once;
 * GET /v1/jobs/:id reports pending, done (with the result) or failed (with the
 * reason). Every client mistake is a 4xx with a message; a 5xx only means the
 * queue or store is down (503, retry).
 */
import { createHash, randomUUID } from "node:crypto";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { z } from "zod";
import { INLINE_PAYLOAD_LIMIT_BYTES, JOB_ID, JobStore, keys, type JobMessage, type JobRecord, type ResultRecord } from "../shared/jobs";

export interface GatewayOptions {
    sqs: SQSClient;
    store: JobStore;
    queueUrl: string;
    /** Variants a job may target (the worker has their endpoints). */
    variants: string[];
    /** Largest accepted request body. Default 4 MiB. */
    maxBodyBytes?: number;
    logger?: FastifyServerOptions["logger"];
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

export function buildGateway(o: GatewayOptions): FastifyInstance {
    const app = Fastify({ logger: o.logger ?? false, bodyLimit: o.maxBodyBytes ?? 4 * 1024 * 1024 });
    const registry = new Registry();
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
    const variants = new Set(o.variants);
    // JSON only: a text/plain body gets a 415 instead of being parsed as a string.
    app.removeContentTypeParser("text/plain");

    app.addHook("onResponse", async (req, reply) => {
        latency.labels(req.routeOptions.url ?? "unknown", String(reply.statusCode)).observe(reply.elapsedTime / 1000);
    });

    const fail = (reason: string, status: number, message: string, extra: Record<string, unknown> = {}) => {
        rejected.labels(reason).inc();
        return { status, body: { error: message, ...extra } };
    };

    // Fastify's own client errors (bad JSON, too large, wrong content type) with clear messages, never a 500.
    app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, _req, reply) => {
        const status = err.statusCode ?? 500;
        if (status >= 500) {
            app.log.error({ err }, "gateway error");
            return reply.code(503).send({ error: "the job queue or store is unavailable; retry with the same Idempotency-Key" });
        }
        const messages: Record<string, string> = {
            FST_ERR_CTP_INVALID_JSON_BODY: "the body is not valid JSON",
            FST_ERR_CTP_EMPTY_JSON_BODY: "the body is empty; send a JSON object with variant and request",
            FST_ERR_CTP_BODY_TOO_LARGE: `the body is larger than ${o.maxBodyBytes ?? 4 * 1024 * 1024} bytes`,
            FST_ERR_CTP_INVALID_MEDIA_TYPE: "send the body as Content-Type: application/json",
        };
        const r = fail(err.code ?? "client", status, messages[err.code ?? ""] ?? err.message);
        return reply.code(r.status).send(r.body);
    });

    app.get("/healthz", async () => ({ status: "ok" }));
    app.get("/metrics", async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));

    app.post("/v1/jobs", async (req, reply) => {
        const parsed = submitSchema.safeParse(req.body);
        if (!parsed.success) {
            const r = fail("invalid", 400, "invalid job", { problems: parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`) });
            return reply.code(r.status).send(r.body);
        }
        const { variant, request } = parsed.data;
        if (!variants.has(variant)) {
            const r = fail("unknown_variant", 422, `unknown variant "${variant}"`, { knownVariants: [...variants].sort() });
            return reply.code(r.status).send(r.body);
        }
        const keyHeader = req.headers["idempotency-key"];
        let key: string | undefined;
        if (keyHeader !== undefined) {
            const k = idempotencyKey.safeParse(keyHeader);
            if (!k.success) {
                const r = fail("invalid_idempotency_key", 400, `Idempotency-Key ${k.error.issues[0]!.message}`);
                return reply.code(r.status).send(r.body);
            }
            key = k.data;
        }
        const jobId = jobIdFor(key);
        const statusUrl = `/v1/jobs/${jobId}`;
        const existing = key !== undefined ? await o.store.getJson<JobRecord>(keys.job(jobId)) : undefined;
        if (existing?.enqueued) {
            submitted.labels(variant, "true").inc();
            return reply.code(200).send({ jobId, status: "accepted", statusUrl, duplicate: true });
        }
        // A new job, or a retry of one whose message may not have reached the queue (the worker
        // ignores a second delivery of a finished job, so sending again is safe).
        const submittedAt = existing?.submittedAt ?? new Date().toISOString();
        const requestText = JSON.stringify(request);
        const inline = Buffer.byteLength(requestText) <= INLINE_PAYLOAD_LIMIT_BYTES;
        const record: JobRecord = { jobId, variant, submittedAt, enqueued: false, ...(key ? { idempotencyKey: key } : {}), ...(inline ? {} : { requestKey: keys.request(jobId) }) };
        if (!inline) await o.store.putJson(keys.request(jobId), request);
        // The job record first: a status query after the 202 must never say "not found".
        await o.store.putJson(keys.job(jobId), record);
        const message: JobMessage = { v: 1, jobId, variant, submittedAt, ...(inline ? { request } : { requestKey: keys.request(jobId) }) };
        try {
            await o.sqs.send(new SendMessageCommand({ QueueUrl: o.queueUrl, MessageBody: JSON.stringify(message) }));
        } catch (err) {
            // Not enqueued: do not leave a job that would stay pending forever.
            await o.store.delete(keys.job(jobId)).catch(() => undefined);
            throw err;
        }
        await o.store.putJson(keys.job(jobId), { ...record, enqueued: true });
        submitted.labels(variant, "false").inc();
        return reply.code(202).header("location", statusUrl).send({ jobId, status: "pending", statusUrl });
    });

    app.get<{ Params: { id: string } }>("/v1/jobs/:id", async (req, reply) => {
        const { id } = req.params;
        if (!JOB_ID.test(id)) {
            const r = fail("invalid_id", 400, "a job id looks like j- followed by 32 hex characters");
            return reply.code(r.status).send(r.body);
        }
        const result = await o.store.getJson<ResultRecord>(keys.result(id));
        if (result) {
            return reply.send(
                result.status === "done"
                    ? { jobId: id, status: "done", result: result.result, completedAt: result.completedAt }
                    : { jobId: id, status: "failed", error: result.error, completedAt: result.completedAt },
            );
        }
        if (await o.store.exists(keys.job(id))) return reply.send({ jobId: id, status: "pending" });
        const r = fail("not_found", 404, `no job ${id}`);
        return reply.code(r.status).send(r.body);
    });

    return app;
}
