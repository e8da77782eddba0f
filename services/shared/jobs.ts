/**
 * The async job model shared by gateway and worker: the SQS message, the S3
 * layout, and the job store. A job is one object per state under a prefix:
 *   jobs/<id>.json      written by the gateway at submit (the job exists)
 *   requests/<id>.json  the request payload, when too large for an SQS message
 *   results/<id>.json   written once by the worker: status done or failed
 * Status is derived: a result means done/failed, a job without one is pending.
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
    requestKey?: string;
    /** Set once the queue accepted the message; a retried submit re-sends until it is. */
    enqueued: boolean;
}

export interface ResultRecord {
    jobId: string;
    status: "done" | "failed";
    result?: unknown;
    error?: string;
    attempts: number;
    completedAt: string;
    worker: string;
}

export const keys = {
    job: (id: string) => `jobs/${id}.json`,
    request: (id: string) => `requests/${id}.json`,
    result: (id: string) => `results/${id}.json`,
};

export const JOB_ID = /^j-[0-9a-f]{32}$/;

function isNotFound(err: unknown): boolean {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    return e?.name === "NotFound" || e?.name === "NoSuchKey" || e?.$metadata?.httpStatusCode === 404;
}

export class JobStore {
    constructor(
        private readonly s3: S3Client,
        readonly bucket: string,
    ) {}

    async putJson(key: string, value: unknown): Promise<void> {
        await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: JSON.stringify(value), ContentType: "application/json" }));
    }

    async getJson<T>(key: string): Promise<T | undefined> {
        try {
            const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
            return JSON.parse(await out.Body!.transformToString()) as T;
        } catch (err) {
            if (isNotFound(err)) return undefined;
            throw err;
        }
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
