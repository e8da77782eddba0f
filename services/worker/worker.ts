/**
 * The async worker: long-polls the queue in batches, runs each job against its
 * model endpoint with bounded concurrency, writes the result, and only then
 * deletes the message. Nothing is acknowledged before it is done, so a crash
 * loses nothing (the message comes back); a result that already exists makes a
 * redelivered message a no-op, so nothing is done twice.
 *
 * Failures: transient ones (timeouts, 5xx, 429, connection errors) are retried
 * with backoff inside the job, then by redelivery; on the last delivery
 * (maxReceiveCount) the job is reported failed and SQS moves the message to the
 * DLQ. Permanent ones (4xx, malformed message, unknown variant) are reported
 * failed and dead-lettered at once.
 */
import { hostname } from "node:os";
import {
    ChangeMessageVisibilityCommand,
    DeleteMessageCommand,
    ReceiveMessageCommand,
    SendMessageCommand,
    type Message,
    type SQSClient,
} from "@aws-sdk/client-sqs";
import pino, { type Logger } from "pino";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { jobMessageSchema, keys, type JobMessage, type JobStore, type ResultRecord } from "../shared/jobs";

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

export class Worker {
    private readonly o: Required<Omit<WorkerOptions, "logger" | "registry" | "workerId">>;
    private readonly log: Logger;
    private readonly id: string;
    private readonly inflight = new Set<Promise<void>>();
    private readonly poll = new AbortController();
    private stopping = false;
    private loop?: Promise<void>;
    private readonly metrics: {
        jobs: Counter<"outcome">;
        duration: Histogram<"outcome">;
        modelCalls: Counter<"result">;
        inflight: Gauge;
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
            ...opts,
        } as Worker["o"];
        this.log = opts.logger ?? pino({ level: "info" });
        this.id = opts.workerId ?? `${hostname()}:${process.pid}`;
        this.registry = opts.registry ?? new Registry();
        const registers = [this.registry];
        this.metrics = {
            jobs: new Counter({ name: "worker_jobs_total", help: "Deliveries handled, by outcome", labelNames: ["outcome"], registers }),
            duration: new Histogram({ name: "worker_job_duration_seconds", help: "Time per delivery", labelNames: ["outcome"], buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300], registers }),
            modelCalls: new Counter({ name: "worker_model_calls_total", help: "Model calls, by result", labelNames: ["result"], registers }),
            inflight: new Gauge({ name: "worker_jobs_in_flight", help: "Jobs running now", registers }),
        };
    }

    /** Start polling; resolves when stop() has been called and polling has ended. */
    start(): Promise<void> {
        this.loop ??= this.run();
        return this.loop;
    }

    /** Stop polling, let in-flight jobs finish within `graceMs`, report what was left. */
    async stop(graceMs: number): Promise<StopReport> {
        this.stopping = true;
        this.poll.abort();
        await this.loop?.catch(() => undefined);
        const running = this.inflight.size;
        const settled = Promise.allSettled([...this.inflight]).then(() => "done" as const);
        const outcome = await Promise.race([settled, sleep(graceMs).then(() => "timeout" as const)]);
        const abandoned = outcome === "done" ? 0 : this.inflight.size;
        this.log.info({ finished: running - abandoned, abandoned }, "worker stopped");
        return { finished: running - abandoned, abandoned };
    }

    private async run(): Promise<void> {
        while (!this.stopping) {
            const free = this.o.concurrency - this.inflight.size;
            if (free <= 0) {
                await Promise.race(this.inflight);
                continue;
            }
            let messages: Message[] = [];
            try {
                const out = await this.o.sqs.send(
                    new ReceiveMessageCommand({
                        QueueUrl: this.o.queueUrl,
                        MaxNumberOfMessages: Math.min(10, free),
                        WaitTimeSeconds: this.o.waitTimeSeconds,
                        VisibilityTimeout: this.o.visibilityTimeoutSeconds,
                        MessageSystemAttributeNames: ["ApproximateReceiveCount"],
                    }),
                    { abortSignal: this.poll.signal },
                );
                messages = out.Messages ?? [];
            } catch (err) {
                if (this.stopping) break;
                this.log.warn({ err: (err as Error).message }, "receive failed; retrying");
                await sleep(1000, this.poll.signal);
                continue;
            }
            for (const m of messages) {
                const job = this.handle(m).catch((err) => this.log.error({ err: (err as Error).message }, "job handler failed; the message will be redelivered"));
                this.inflight.add(job);
                this.metrics.inflight.set(this.inflight.size);
                void job.finally(() => {
                    this.inflight.delete(job);
                    this.metrics.inflight.set(this.inflight.size);
                });
            }
        }
    }

    private async handle(m: Message): Promise<void> {
        const started = Date.now();
        const done = (outcome: string) => {
            this.metrics.jobs.labels(outcome).inc();
            this.metrics.duration.labels(outcome).observe((Date.now() - started) / 1000);
        };
        const receiveCount = Number(m.Attributes?.ApproximateReceiveCount ?? "1");
        let job: JobMessage;
        try {
            job = jobMessageSchema.parse(JSON.parse(m.Body ?? ""));
        } catch (err) {
            await this.deadLetter(m, `malformed message: ${(err as Error).message.slice(0, 300)}`);
            return done("malformed");
        }
        const log = this.log.child({ jobId: job.jobId, variant: job.variant, receiveCount });
        // Redelivery of a finished job (at-least-once delivery): acknowledge, do nothing.
        if (await this.o.store.exists(keys.result(job.jobId))) {
            await this.delete(m);
            log.info("duplicate delivery of a finished job");
            return done("duplicate");
        }
        const heartbeat = setInterval(
            () => void this.extend(m, this.o.visibilityTimeoutSeconds).catch((err) => log.warn({ err: (err as Error).message }, "visibility extension failed")),
            Math.max(1000, (this.o.visibilityTimeoutSeconds * 1000) / 3),
        );
        try {
            const request = job.request ?? (job.requestKey ? await this.o.store.getJson<Record<string, unknown>>(job.requestKey) : undefined);
            if (!request) throw new PermanentError(`request payload ${job.requestKey ?? "(inline)"} is missing`);
            const result = await this.callModel(job.variant, request);
            await this.writeResult({ jobId: job.jobId, status: "done", result, attempts: receiveCount, completedAt: new Date().toISOString(), worker: this.id });
            await this.delete(m);
            log.info({ ms: Date.now() - started }, "job done");
            done("done");
        } catch (err) {
            const reason = (err as Error).message;
            if (err instanceof PermanentError) {
                await this.writeResult({ jobId: job.jobId, status: "failed", error: reason, attempts: receiveCount, completedAt: new Date().toISOString(), worker: this.id });
                await this.deadLetter(m, reason);
                log.warn({ reason }, "job failed permanently; dead-lettered");
                return done("failed");
            }
            if (receiveCount >= this.o.maxReceiveCount) {
                // The last delivery: report it; SQS moves the message to the DLQ on the next receive.
                await this.writeResult({ jobId: job.jobId, status: "failed", error: `gave up after ${receiveCount} deliveries: ${reason}`, attempts: receiveCount, completedAt: new Date().toISOString(), worker: this.id });
                await this.extend(m, 0);
                log.warn({ reason }, "job failed after its last delivery");
                return done("failed");
            }
            // Let it come back later, with backoff across deliveries.
            await this.extend(m, Math.min(60, 2 ** receiveCount)).catch(() => undefined);
            log.warn({ reason }, "job will be retried");
            done("retry");
        } finally {
            clearInterval(heartbeat);
        }
    }

    /** POST /generate with retries on transient failures. */
    private async callModel(variant: string, request: Record<string, unknown>): Promise<unknown> {
        const base = this.o.endpoints[variant];
        if (!base) throw new PermanentError(`no endpoint for variant "${variant}"`);
        let last = "";
        for (let attempt = 1; attempt <= this.o.attempts; attempt++) {
            try {
                const res = await fetch(`${base.replace(/\/$/, "")}/generate`, {
                    method: "POST",
                    headers: { "content-type": "application/json" },
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
                last = (err as Error).name === "TimeoutError" ? `timed out after ${this.o.modelTimeoutMs} ms` : (err as Error).message;
            }
            if (attempt < this.o.attempts) await sleep(this.o.backoffMs * 2 ** (attempt - 1));
        }
        throw new TransientError(`model call failed ${this.o.attempts} times: ${last}`);
    }

    private writeResult(r: ResultRecord): Promise<void> {
        return this.o.store.putJson(keys.result(r.jobId), r);
    }

    private async delete(m: Message): Promise<void> {
        await this.o.sqs.send(new DeleteMessageCommand({ QueueUrl: this.o.queueUrl, ReceiptHandle: m.ReceiptHandle }));
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
                MessageAttributes: { reason: { DataType: "String", StringValue: reason.slice(0, 1000) } },
            }),
        );
        await this.delete(m);
    }
}
