/**
 * The async job model shared by gateway and worker: the SQS message, the S3
 * layout, and the job store. A job is one object per state under a prefix:
 *   jobs/<id>.json      written once by the gateway at submit (If-None-Match: the first submit wins)
 *   requests/<id>.json  the request payload, when too large for an SQS message
 *   results/<id>.json   the worker's claim ("running", held by one SQS message), then
 *                       replaced (If-Match on the claim) by the outcome: done or failed
 * Status is derived: a terminal result means done/failed, anything else pending.
 */
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { z } from "zod";

/** SQS allows 256 KiB per message; bigger payloads go to S3 and the message carries the key. */
export const INLINE_PAYLOAD_LIMIT_BYTES = 192 * 1024;

export const jobMessageSchema = z.strictObject({
    v: z.literal(1),
    jobId: z.string().regex(/^j-[0-9a-f]{32}$/),
    variant: z.string().min(1),
    request: z.record(z.string(), z.unknown()).optional(),
    requestKey: z.string().optional(),
    submittedAt: z.string(),
});
export type JobMessage = z.infer<typeof jobMessageSchema>;

export interface JobRecord {
    jobId: string;
    variant: string;
    submittedAt: string;
    idempotencyKey?: string;
    /** sha256 of variant + request: a reused Idempotency-Key with another request is refused. */
    requestHash: string;
    requestKey?: string;
}

/** A worker holds the job: one SQS message (by id) owns it until it writes the outcome. */
export interface ClaimRecord {
    jobId: string;
    status: "running";
    messageId: string;
    receiveCount: number;
    worker: string;
    claimedAt: string;
    /** The last delivery's failure, kept for the reason if the message ends in the DLQ. */
    lastError?: string;
}

export interface ResultRecord {
    jobId: string;
    status: "done" | "failed";
    result?: unknown;
    error?: string;
    attempts: number;
    completedAt: string;
    worker: string;
    /** The SQS message whose delivery wrote it (absent when the DLQ consumer did). */
    messageId?: string;
}

export type JobState = ClaimRecord | ResultRecord;

export const isTerminal = (s: JobState | undefined): s is ResultRecord => s?.status === "done" || s?.status === "failed";

export const keys = {
    job: (id: string) => `jobs/${id}.json`,
    request: (id: string) => `requests/${id}.json`,
    result: (id: string) => `results/${id}.json`,
};

export const JOB_ID = /^j-[0-9a-f]{32}$/;

/** S3's answer for a missing key: NotFound (HEAD), NoSuchKey (GET), or a bare 404. */
export function isNotFound(err: unknown): boolean {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    return e?.name === "NotFound" || e?.name === "NoSuchKey" || e?.$metadata?.httpStatusCode === 404;
}

/** 412: the condition did not hold; 409: S3's answer to a concurrent conditional write on the same key. */
export function isConditionFailed(err: unknown): boolean {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    return e?.name === "PreconditionFailed" || e?.$metadata?.httpStatusCode === 412 || e?.name === "ConditionalRequestConflict" || e?.$metadata?.httpStatusCode === 409;
}

export interface Versioned<T> {
    value: T;
    etag: string;
}

export class JobStore {
    constructor(
        private readonly s3: S3Client,
        readonly bucket: string,
    ) {}

    async putJson(key: string, value: unknown): Promise<void> {
        await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: JSON.stringify(value), ContentType: "application/json" }));
    }

    /** Write only if the key does not exist (S3 conditional write): the ETag, or "exists". */
    async create(key: string, value: unknown): Promise<string | "exists"> {
        return this.conditionalPut(key, value, { IfNoneMatch: "*" }, "exists");
    }

    /** Replace only if the object is still the version read (ETag): the new ETag, or "changed". */
    async replace(key: string, value: unknown, etag: string): Promise<string | "changed"> {
        return this.conditionalPut(key, value, { IfMatch: etag }, "changed");
    }

    private async conditionalPut<F extends string>(key: string, value: unknown, condition: { IfNoneMatch?: string; IfMatch?: string }, failed: F): Promise<string | F> {
        try {
            const out = await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: JSON.stringify(value), ContentType: "application/json", ...condition }));
            return out.ETag ?? "";
        } catch (err) {
            if (isConditionFailed(err)) return failed;
            throw err;
        }
    }

    async read<T>(key: string): Promise<Versioned<T> | undefined> {
        try {
            const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
            return { value: JSON.parse(await out.Body!.transformToString()) as T, etag: out.ETag ?? "" };
        } catch (err) {
            if (isNotFound(err)) return undefined;
            throw err;
        }
    }

    async getJson<T>(key: string): Promise<T | undefined> {
        return (await this.read<T>(key))?.value;
    }

    async delete(key: string): Promise<void> {
        await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    }

    async exists(key: string): Promise<boolean> {
        try {
            await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
            return true;
        } catch (err) {
            if (isNotFound(err)) return false;
            throw err;
        }
    }
}
