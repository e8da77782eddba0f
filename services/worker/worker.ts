/**
 * The async worker: long-polls the queue in batches, runs each job against its
 * model endpoint with bounded concurrency, writes the result, and only then
 * deletes the message. Nothing is acknowledged before it is done, so a crash
 * loses nothing (the message comes back).
 *
 * Exactly one model run per job, whatever SQS or clients repeat: before calling
 * the model a delivery claims the job (results/<id>.json written with
 * If-None-Match, naming its SQS message). Another message for the same job (a
 * duplicate submit) sees the claim and is acknowledged without a call; a
 * redelivery of the claiming message takes the claim over (If-Match), because
 * SQS redelivers only after the holder stopped extending its visibility. The
 * outcome replaces the claim with If-Match, so a holder that lost its claim
 * writes nothing.
 *
 * Visibility: a heartbeat extends every received message from the moment it is
 * received (one batch call for all of them), not after the first S3 call.
 *
 * Failures: transient ones (timeouts, 5xx, 429, connection errors) are retried
 * with backoff inside the delivery, then by redelivery (the reason is kept on the
 * claim); on the last delivery (maxReceiveCount) the job is reported failed and
 * dead-lettered with the reason. Permanent ones (4xx, malformed message, unknown
 * variant) are reported failed and dead-lettered at once. If a worker dies on
 * the last delivery, SQS moves the message to the DLQ itself: the DLQ consumer
 * (every worker runs one) ends such jobs failed with the reason.
 */
import { hostname } from "node:os";
import {
    ChangeMessageVisibilityBatchCommand,
    ChangeMessageVisibilityCommand,
    DeleteMessageBatchCommand,
    ReceiveMessageCommand,
    SendMessageCommand,
    type Message,
    type SQSClient,
} from "@aws-sdk/client-sqs";
import pino, { type Logger } from "pino";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { Batcher, chunks } from "../shared/batch";
import { sqsSafeText } from "../shared/sqsText";
import { jobMessageSchema, keys, type ClaimRecord, type JobMessage, type JobState, type JobStore, type ResultRecord } from "../shared/jobs";
import { deadLetterReason, decideClaim, redeliveryDelaySeconds } from "./decide";

export interface WorkerOptions {
    sqs: SQSClient;
    store: JobStore;
    queueUrl: string;
    dlqUrl: string;
    /** Variant name -> model base URL (TGI /generate). */
    endpoints: Record<string, string>;
    /** Jobs in flight at once. Default 8. */
    concurrency?: number;
    /** Long-poll wait, 0-20 s. Default 20. */
    waitTimeSeconds?: number;
    /** Visibility timeout the heartbeat keeps renewing while a job runs. Default 60 s. */
    visibilityTimeoutSeconds?: number;
    /** The queue's redrive maxReceiveCount: the delivery on which a job is reported failed. Default 5. */
    maxReceiveCount?: number;
    /** Per model call. Default 120 s. */
    modelTimeoutMs?: number;
    /** Model call attempts per delivery. Default 3. */
    attempts?: number;
    /** First retry delay; doubles each attempt. Default 500 ms. */
    backoffMs?: number;
    /** Consume the DLQ (end dead-lettered jobs failed). Default true. */
    consumeDlq?: boolean;
    /** A DLQ message already accounted for is looked at again after this long (it stays in the DLQ for operators). Default 12 h, the SQS maximum. */
    dlqRecheckSeconds?: number;
    logger?: Logger;
    registry?: Registry;
    /** Identifies this worker in results. Default: host name and pid. */
    workerId?: string;
}

export class PermanentError extends Error {}
export class TransientError extends Error {}

export interface StopReport {
    /** Jobs that finished during the grace period. */
    finished: number;
    /** Jobs still running when the grace period ended (their messages will be redelivered). */
    abandoned: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
    });

const errorText = (err: unknown) => ((err as Error)?.message ?? String(err)).slice(0, 500);

type Options = Required<Omit<WorkerOptions, "logger" | "registry" | "workerId">>;

export class Worker {
    private readonly o: Options;
    private readonly log: Logger;
    private readonly id: string;
    private readonly inflight = new Set<Promise<void>>();
    private readonly poll = new AbortController();
    /** Receipt handles whose visibility the heartbeat extends (received, not yet settled). */
    private readonly held = new Map<string, string>();
    private heartbeat?: NodeJS.Timeout;
    private readonly deletes: Batcher<{ queueUrl: string; receiptHandle: string }>;
    private stopping = false;
    private loops: Array<Promise<void>> = [];
    private readonly metrics: {
        jobs: Counter<"outcome">;
        duration: Histogram<"outcome">;
        modelCalls: Counter<"result">;
        inflight: Gauge;
        deadLetters: Counter<"outcome">;
    };
    readonly registry: Registry;

    constructor(opts: WorkerOptions) {
        this.o = {
            concurrency: 8,
            waitTimeSeconds: 20,
            visibilityTimeoutSeconds: 60,
            maxReceiveCount: 5,
            modelTimeoutMs: 120_000,
            attempts: 3,
            backoffMs: 500,
            consumeDlq: true,
            dlqRecheckSeconds: 43_200,
            ...opts,
        } as Options;
        this.log = opts.logger ?? pino({ level: "info" });
        this.id = opts.workerId ?? `${hostname()}:${process.pid}`;
        this.registry = opts.registry ?? new Registry();
        const registers = [this.registry];
        this.metrics = {
            jobs: new Counter({ name: "worker_jobs_total", help: "Deliveries handled, by outcome", labelNames: ["outcome"], registers }),
            duration: new Histogram({ name: "worker_job_duration_seconds", help: "Time per delivery", labelNames: ["outcome"], buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300], registers }),
            modelCalls: new Counter({ name: "worker_model_calls_total", help: "Model calls, by result", labelNames: ["result"], registers }),
            inflight: new Gauge({ name: "worker_jobs_in_flight", help: "Jobs running now", registers }),
            deadLetters: new Counter({ name: "worker_dead_letters_total", help: "DLQ messages looked at, by outcome (failed: the job was ended failed here)", labelNames: ["outcome"], registers }),
        };
        this.deletes = new Batcher(async (items) => {
            const out = await this.o.sqs.send(
                new DeleteMessageBatchCommand({ QueueUrl: items[0]!.queueUrl, Entries: items.map((x, i) => ({ Id: String(i), ReceiptHandle: x.receiptHandle })) }),
            );
            const failed = new Map((out.Failed ?? []).map((f) => [f.Id, f.Message ?? f.Code ?? "delete failed"]));
            return items.map((_, i) => (failed.has(String(i)) ? new Error(failed.get(String(i))) : undefined));
            // Deletes wait up to 10 ms for company: nothing waits on them but the next receive's capacity.
        }, 10, 10);
    }

    /** Start polling; resolves when stop() has been called and polling has ended. */
    start(): Promise<void> {
        if (this.loops.length === 0) {
            this.loops.push(this.run());
            if (this.o.consumeDlq) this.loops.push(this.runDlq());
        }
        return Promise.all(this.loops).then(() => undefined);
    }

    /** Stop polling, let in-flight jobs finish within `graceMs`, report what was left. */
    async stop(graceMs: number): Promise<StopReport> {
        this.stopping = true;
        this.poll.abort();
        await Promise.allSettled(this.loops);
        const running = this.inflight.size;
        const settled = Promise.allSettled([...this.inflight]).then(() => "done" as const);
        const outcome = await Promise.race([settled, sleep(graceMs).then(() => "timeout" as const)]);
        const abandoned = outcome === "done" ? 0 : this.inflight.size;
        clearInterval(this.heartbeat);
        this.log.info({ finished: running - abandoned, abandoned }, "worker stopped");
        return { finished: running - abandoned, abandoned };
    }

    private async receive(queueUrl: string, max: number, visibilityTimeout: number): Promise<Message[]> {
        try {
            const out = await this.o.sqs.send(
                new ReceiveMessageCommand({
                    QueueUrl: queueUrl,
                    MaxNumberOfMessages: max,
                    WaitTimeSeconds: this.o.waitTimeSeconds,
                    VisibilityTimeout: visibilityTimeout,
                    MessageSystemAttributeNames: ["ApproximateReceiveCount"],
                    MessageAttributeNames: ["reason"],
                }),
                { abortSignal: this.poll.signal },
            );
            return out.Messages ?? [];
        } catch (err) {
            if (this.stopping) return [];
            this.log.warn({ err: errorText(err) }, "receive failed; retrying");
            await sleep(1000, this.poll.signal);
            return [];
        }
    }

    private async run(): Promise<void> {
        while (!this.stopping) {
            const free = this.o.concurrency - this.inflight.size;
            if (free <= 0) {
                await Promise.race(this.inflight);
                continue;
            }
            const messages = await this.receive(this.o.queueUrl, Math.min(10, free), this.o.visibilityTimeoutSeconds);
            // Held from the moment of receipt: the heartbeat covers the S3 calls before the model call too.
            for (const m of messages) this.hold(m);
            for (const m of messages) {
                const job = this.handle(m)
                    .catch((err) => this.log.error({ err: errorText(err) }, "job handler failed; the message will be redelivered"))
                    .finally(() => this.release(m));
                this.inflight.add(job);
                this.metrics.inflight.set(this.inflight.size);
                void job.finally(() => {
                    this.inflight.delete(job);
                    this.metrics.inflight.set(this.inflight.size);
                });
            }
        }
    }

    private hold(m: Message): void {
        this.held.set(m.ReceiptHandle!, m.MessageId ?? "");
        this.heartbeat ??= setInterval(() => void this.extendHeld(), Math.max(200, (this.o.visibilityTimeoutSeconds * 1000) / 3));
    }

    private release(m: Message): void {
        this.held.delete(m.ReceiptHandle!);
    }

    /** One batch call per 10 held messages, whatever the number of jobs in flight. */
    private async extendHeld(): Promise<void> {
        const handles = [...this.held.keys()];
        await Promise.all(
            chunks(handles).map((batch) =>
                this.o.sqs
                    .send(
                        new ChangeMessageVisibilityBatchCommand({
                            QueueUrl: this.o.queueUrl,
                            Entries: batch.map((h, i) => ({ Id: String(i), ReceiptHandle: h, VisibilityTimeout: this.o.visibilityTimeoutSeconds })),
                        }),
                    )
                    .then((out) => {
                        if (out.Failed?.length) this.log.warn({ failed: out.Failed.length }, "visibility extension refused for some messages");
                    })
                    .catch((err) => this.log.warn({ err: errorText(err) }, "visibility extension failed")),
            ),
        );
    }

    private async handle(m: Message): Promise<void> {
        const started = Date.now();
        const done = (outcome: string) => {
            this.metrics.jobs.labels(outcome).inc();
            this.metrics.duration.labels(outcome).observe((Date.now() - started) / 1000);
        };
        const receiveCount = Number(m.Attributes?.ApproximateReceiveCount ?? "1");
        const messageId = m.MessageId ?? "";
        let job: JobMessage;
        try {
            job = jobMessageSchema.parse(JSON.parse(m.Body ?? ""));
        } catch (err) {
            await this.deadLetter(m, `malformed message: ${errorText(err).slice(0, 300)}`);
            return done("malformed");
        }
        const log = this.log.child({ jobId: job.jobId, variant: job.variant, receiveCount });
        const claim: ClaimRecord = { jobId: job.jobId, status: "running", messageId, receiveCount, worker: this.id, claimedAt: new Date().toISOString() };
        const etag = await this.claim(claim);
        if (typeof etag !== "string") {
            const failedHere = etag.existing?.status === "failed" && etag.existing.messageId === messageId;
            // This message's earlier delivery reported the failure but may have died before dead-lettering it.
            if (etag.decision === "finished" && failedHere) await this.deadLetter(m, etag.existing!.error ?? "failed");
            else if (etag.decision === "finished" || etag.decision === "duplicate") await this.delete(m);
            log.info({ decision: etag.decision }, "not running this delivery");
            return done(etag.decision);
        }
        const settle = async (r: ResultRecord): Promise<boolean> => {
            if ((await this.o.store.replace(keys.result(job.jobId), r, etag)) !== "changed") return true;
            // Another delivery took the claim over: it writes the outcome; this one must not touch the message.
            log.warn("lost the claim to a later delivery; leaving the outcome to it");
            done("lost_claim");
            return false;
        };
        const base = { jobId: job.jobId, attempts: receiveCount, worker: this.id, messageId };
        try {
            const request = job.request ?? (job.requestKey ? await this.o.store.getJson<Record<string, unknown>>(job.requestKey) : undefined);
            if (!request) throw new PermanentError(`request payload ${job.requestKey ?? "(inline)"} is missing`);
            const result = await this.callModel(job, request, `${messageId}/${receiveCount}`);
            if (!(await settle({ ...base, status: "done", result, completedAt: new Date().toISOString() }))) return;
            await this.delete(m);
            log.info({ ms: Date.now() - started }, "job done");
            done("done");
        } catch (err) {
            const reason = errorText(err);
            const last = receiveCount >= this.o.maxReceiveCount;
            if (err instanceof PermanentError || last) {
                const error = err instanceof PermanentError ? reason : `gave up after ${receiveCount} deliveries: ${reason}`;
                if (!(await settle({ ...base, status: "failed", error, completedAt: new Date().toISOString() }))) return;
                await this.deadLetter(m, error);
                log.warn({ reason: error }, "job failed; dead-lettered");
                return done("failed");
            }
            // Keep the reason on the claim: if this message dies in the DLQ, the job's failure names it.
            const kept = await this.o.store.replace(keys.result(job.jobId), { ...claim, lastError: reason }, etag);
            if (kept === "changed") return done("lost_claim");
            // Let it come back later, with backoff across deliveries (the heartbeat must not undo that).
            this.release(m);
            await this.extend(m, redeliveryDelaySeconds(receiveCount)).catch(() => undefined);
            log.warn({ reason }, "job will be retried");
            done("retry");
        }
    }

    /** Claim the job for this delivery: its ETag, or why this delivery must not run it. */
    private async claim(claim: ClaimRecord): Promise<string | { decision: "finished" | "duplicate" | "wait"; existing?: ResultRecord }> {
        const key = keys.result(claim.jobId);
        // Bounded: each round is a write that lost to another, which settles it for the next round.
        for (let round = 0; round < 3; round++) {
            const created = await this.o.store.create(key, claim);
            if (created !== "exists") return created;
            const existing = await this.o.store.read<JobState>(key);
            if (!existing) continue;
            const decision = decideClaim(existing.value, claim.messageId, claim.receiveCount);
            if (decision === "finished") return { decision, existing: existing.value as ResultRecord };
            if (decision !== "takeover") return { decision };
            // The earlier delivery's failure stays the reason if this one dies too.
            const lastError = (existing.value as ClaimRecord).lastError;
            const taken = await this.o.store.replace(key, { ...claim, ...(lastError ? { lastError } : {}) }, existing.etag);
            if (taken !== "changed") return taken;
        }
        return { decision: "wait" };
    }

    /** POST /generate with retries on transient failures. */
    private async callModel(job: JobMessage, request: Record<string, unknown>, delivery: string): Promise<unknown> {
        const base = this.o.endpoints[job.variant];
        if (!base) throw new PermanentError(`no endpoint for variant "${job.variant}"`);
        let last = "";
        for (let attempt = 1; attempt <= this.o.attempts; attempt++) {
            try {
                const res = await fetch(`${base.replace(/\/$/, "")}/generate`, {
                    method: "POST",
                    // Job, delivery and worker ids let model-server logs tie a call to its job (no payload in them).
                    headers: { "content-type": "application/json", "x-mlserve-job": job.jobId, "x-mlserve-delivery": delivery, "x-mlserve-worker": this.id },
                    body: JSON.stringify(request),
                    signal: AbortSignal.timeout(this.o.modelTimeoutMs),
                });
                const text = await res.text();
                if (res.ok) {
                    this.metrics.modelCalls.labels("ok").inc();
                    return JSON.parse(text) as unknown;
                }
                this.metrics.modelCalls.labels(String(res.status)).inc();
                if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
                    throw new PermanentError(`model rejected the request: HTTP ${res.status} ${text.slice(0, 200)}`);
                }
                last = `HTTP ${res.status} ${text.slice(0, 200)}`;
            } catch (err) {
                if (err instanceof PermanentError) throw err;
                this.metrics.modelCalls.labels("error").inc();
                last = (err as Error).name === "TimeoutError" ? `timed out after ${this.o.modelTimeoutMs} ms` : errorText(err);
            }
            if (attempt < this.o.attempts) await sleep(this.o.backoffMs * 2 ** (attempt - 1));
        }
        throw new TransientError(`model call failed ${this.o.attempts} times: ${last}`);
    }

    private async delete(m: Message, queueUrl = this.o.queueUrl): Promise<void> {
        this.release(m);
        await this.deletes.add({ queueUrl, receiptHandle: m.ReceiptHandle! });
    }

    private async extend(m: Message, seconds: number): Promise<void> {
        await this.o.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.o.queueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: seconds }));
    }

    /** Copy to the DLQ with the reason, then delete from the queue. */
    private async deadLetter(m: Message, reason: string): Promise<void> {
        await this.o.sqs.send(
            new SendMessageCommand({
                QueueUrl: this.o.dlqUrl,
                MessageBody: m.Body ?? "",
                MessageAttributes: { reason: { DataType: "String", StringValue: sqsSafeText(reason.slice(0, 1000)) } },
            }),
        );
        await this.delete(m);
    }

    /**
     * The DLQ consumer: every message there ends its job failed with a reason,
     * unless the job already has an outcome (idempotent). Messages stay in the DLQ
     * (for operators, and SQS redrive), hidden for dlqRecheckSeconds.
     */
    private async runDlq(): Promise<void> {
        while (!this.stopping) {
            const messages = await this.receive(this.o.dlqUrl, 10, this.o.dlqRecheckSeconds);
            for (const m of messages) {
                await this.accountDeadLetter(m).catch((err) => {
                    this.metrics.deadLetters.labels("error").inc();
                    this.log.error({ err: errorText(err) }, "dead letter not accounted yet; it will be looked at again");
                    // Soon, not after the full recheck period.
                    return this.o.sqs
                        .send(new ChangeMessageVisibilityCommand({ QueueUrl: this.o.dlqUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 5 }))
                        .catch(() => undefined);
                });
            }
        }
    }

    private async accountDeadLetter(m: Message): Promise<void> {
        const parsed = jobMessageSchema.safeParse((() => {
            try {
                return JSON.parse(m.Body ?? "") as unknown;
            } catch {
                return undefined;
            }
        })());
        if (!parsed.success) {
            // No job to end: it stays in the DLQ for an operator.
            this.metrics.deadLetters.labels("unattributable").inc();
            return;
        }
        const jobId = parsed.data.jobId;
        const key = keys.result(jobId);
        for (let round = 0; round < 3; round++) {
            const existing = await this.o.store.read<JobState>(key);
            const error = deadLetterReason(existing?.value, m.MessageId ?? "", this.o.maxReceiveCount, m.MessageAttributes?.reason?.StringValue);
            if (error === undefined) {
                this.metrics.deadLetters.labels("accounted").inc();
                return;
            }
            const failed: ResultRecord = { jobId, status: "failed", error, attempts: this.o.maxReceiveCount, completedAt: new Date().toISOString(), worker: this.id };
            const written = existing ? await this.o.store.replace(key, failed, existing.etag) : await this.o.store.create(key, failed);
            if (written !== "changed" && written !== "exists") {
                this.metrics.deadLetters.labels("failed").inc();
                this.log.warn({ jobId, reason: error }, "dead-lettered job ended failed");
                return;
            }
        }
        throw new Error(`job ${jobId}: its result kept changing while the dead letter was accounted`);
    }
}

