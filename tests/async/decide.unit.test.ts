/**
 * The worker's decisions beyond tests/async/decide.test.ts: a dead letter for a
 * job its own delivery already finished, and the redelivery backoff at its cap.
 */
import { describe, expect, it } from "vitest";
import type { ClaimRecord, ResultRecord } from "../../services/shared/jobs";
import { deadLetterReason, decideClaim, redeliveryDelaySeconds } from "../../services/worker/decide";

/** The outcome written by delivery `messageId` (the worker records it on the result). */
const resultBy = (status: "done" | "failed", messageId: string): ResultRecord => ({ jobId: "j-1", status, attempts: 1, completedAt: "t", worker: "w", messageId });
const claimBy = (messageId: string, receiveCount: number): ClaimRecord => ({ jobId: "j-1", status: "running", messageId, receiveCount, worker: "w", claimedAt: "t" });

describe("a message that finished its job, then reached the DLQ anyway (its delete was lost)", () => {
    it("leaves the outcome alone: no failure reason, whatever the attribute says", () => {
        expect(deadLetterReason(resultBy("done", "m1"), "m1", 5)).toBeUndefined();
        expect(deadLetterReason(resultBy("failed", "m1"), "m1", 5, "model call failed")).toBeUndefined();
    });

    it("and a redelivery of it is acknowledged without running the job again", () => {
        expect(decideClaim(resultBy("done", "m1"), "m1", 9)).toBe("finished");
    });

    it("a claim by the same message is failed with the attribute's reason, over the claim's last error", () => {
        expect(deadLetterReason({ ...claimBy("m1", 5), lastError: "HTTP 503" }, "m1", 5, "HTTP 422: bad grammar")).toBe("gave up after 5 deliveries: HTTP 422: bad grammar");
        expect(deadLetterReason(claimBy("m1", 5), "m1", 5)).toBe("gave up after 5 deliveries: the last worker stopped without reporting (killed, or lost its lease)");
    });
});

describe("redelivery backoff", () => {
    it("2^n seconds, capped at 60 or at the cap given", () => {
        expect([0, 1, 5, 6].map((n) => redeliveryDelaySeconds(n))).toEqual([1, 2, 32, 60]);
        expect(redeliveryDelaySeconds(3, 8)).toBe(8);
        expect(redeliveryDelaySeconds(3, 9)).toBe(8);
        expect(redeliveryDelaySeconds(4, 9)).toBe(9);
    });
});
