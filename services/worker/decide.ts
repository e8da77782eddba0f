/**
 * Pure decisions of the worker: who may run a job, and what a dead-lettered
 * message means for its job. Kept free of I/O so every branch is tested directly.
 */
import { isTerminal, type ClaimRecord, type JobState } from "../shared/jobs";

export type ClaimDecision =
    /** The job has its outcome: acknowledge this message, call nothing. */
    | "finished"
    /** Another message (a duplicate submit) holds the job; that message finishes it or dead-letters: acknowledge this one. */
    | "duplicate"
    /** An earlier delivery of this same message held it: SQS redelivered it, so that holder stopped (died or timed out). */
    | "takeover"
    /** A concurrent delivery of this same message holds it: leave the message alone (do not acknowledge). */
    | "wait";

export function decideClaim(existing: JobState, messageId: string, receiveCount: number): ClaimDecision {
    if (isTerminal(existing)) return "finished";
    if (existing.messageId !== messageId) return "duplicate";
    return existing.receiveCount < receiveCount ? "takeover" : "wait";
}

/**
 * A message in the DLQ: its job must end failed with a reason, unless it already
 * has an outcome. Returns the failure reason to write, or undefined when the job
 * is already accounted for.
 */
export function deadLetterReason(existing: JobState | undefined, messageId: string, maxReceiveCount: number, attributeReason?: string): string | undefined {
    if (isTerminal(existing)) return undefined;
    // Held by another message (this one was a duplicate submit): that message finishes the job or dead-letters itself.
    if (existing && existing.messageId !== messageId) return undefined;
    const last = attributeReason ?? (existing as ClaimRecord | undefined)?.lastError;
    const base = `gave up after ${maxReceiveCount} deliveries`;
    return last ? `${base}: ${last}` : `${base}: the last worker stopped without reporting (killed, or lost its lease)`;
}

/** Delay before a failed delivery comes back: doubles per delivery, capped. */
export const redeliveryDelaySeconds = (receiveCount: number, capSeconds = 60) => Math.min(capSeconds, 2 ** receiveCount);
