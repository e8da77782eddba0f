/** `mlserve:async`: the SQS-backed async inference path (gateway, queue, worker). */
import { z } from "zod";
import { pinnedImage } from "./platformSchema";

export const asyncSchema = z.strictObject({
    enabled: z.boolean().default(true),
    /** Pinned image refs; a missing one is built from services/Dockerfile into ECR by the stack. */
    images: z.strictObject({ gateway: pinnedImage.optional(), worker: pinnedImage.optional() }).prefault({}),
    /** Variants jobs may target (default: every mlserve:variants entry). */
    variants: z.array(z.string().min(1)).optional(),
    /** Deliveries before a message moves to the dead-letter queue (and its job is reported failed). */
    maxReceiveCount: z.int().min(1).max(100).default(5),
    /** Worst-case model latency per attempt; the queue's visibility timeout is sized from it. */
    modelTimeoutSeconds: z.int().min(1).max(3600).default(120),
    /** Model call attempts per delivery. */
    attempts: z.int().min(1).max(10).default(3),
    messageRetentionDays: z.int().min(1).max(14).default(4),
    /** Results, payloads and job markers expire after this many days (S3 lifecycle). */
    resultRetentionDays: z.int().min(1).max(3650).default(7),
    worker: z
        .strictObject({
            concurrency: z.int().min(1).max(256).default(8),
            /** 0 = scale to zero when the queue is empty. */
            minReplicas: z.int().min(0).max(100).default(0),
            maxReplicas: z.int().min(1).max(100).default(4),
            /** KEDA target: visible + in-flight messages per replica. */
            messagesPerReplica: z.int().min(1).max(1000).default(5),
            /** Messages needed to wake from zero. */
            activationMessages: z.int().min(0).max(1000).default(0),
        })
        .prefault({}),
    gateway: z
        .strictObject({
            minReplicas: z.int().min(1).max(100).default(2),
            maxReplicas: z.int().min(1).max(100).default(5),
            targetCpuUtilizationPercent: z.int().min(1).max(100).default(70),
        })
        .prefault({}),
});

export type AsyncConfig = z.infer<typeof asyncSchema>;
