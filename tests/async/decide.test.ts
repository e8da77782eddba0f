/** The async path's pure pieces: claim and dead-letter decisions, SQS-safe JSON, error classes, batching. */
import { describe, expect, it } from "vitest";
import { classifyError } from "../../services/gateway/app";
import { jsonDepth } from "../../services/gateway/request";
import { sqsSafeJson, sqsSafeText } from "../../services/shared/sqsText";
import { Batcher, chunks } from "../../services/shared/batch";
import type { ClaimRecord, ResultRecord } from "../../services/shared/jobs";
import { deadLetterReason, decideClaim, redeliveryDelaySeconds } from "../../services/worker/decide";

const claim = (messageId: string, receiveCount: number, lastError?: string): ClaimRecord => ({ jobId: "j-1", status: "running", messageId, receiveCount, worker: "w", claimedAt: "t", ...(lastError ? { lastError } : {}) });
const result = (status: "done" | "failed"): ResultRecord => ({ jobId: "j-1", status, attempts: 1, completedAt: "t", worker: "w" });

describe("who runs a job", () => {
    it.each([
        ["a finished job", result("done"), "m1", 1, "finished"],
        ["a failed job", result("failed"), "m1", 5, "finished"],
        ["a job held by another message (a duplicate submit)", claim("m2", 1), "m1", 1, "duplicate"],
        ["a job held by an earlier delivery of this message (its holder stopped)", claim("m1", 1), "m1", 2, "takeover"],
        ["a job held by a concurrent delivery of this message", claim("m1", 2), "m1", 2, "wait"],
    ] as const)("%s", (_what, existing, messageId, receiveCount, decision) => {
        expect(decideClaim(existing, messageId, receiveCount)).toBe(decision);
    });
});

describe("what a dead letter means for its job", () => {
    it("a job with an outcome is already accounted for", () => {
        expect(deadLetterReason(result("done"), "m1", 5)).toBeUndefined();
        expect(deadLetterReason(result("failed"), "m1", 5)).toBeUndefined();
    });
    it("a job held by another message is that message's to finish", () => {
        expect(deadLetterReason(claim("m2", 1), "m1", 5)).toBeUndefined();
    });
    it("otherwise failed, with the best reason known", () => {
        expect(deadLetterReason(claim("m1", 5, "model call failed 3 times: HTTP 503"), "m1", 5)).toBe("gave up after 5 deliveries: model call failed 3 times: HTTP 503");
        expect(deadLetterReason(claim("m1", 5, "old"), "m1", 5, "from the attribute")).toBe("gave up after 5 deliveries: from the attribute");
        expect(deadLetterReason(claim("m1", 5), "m1", 5)).toMatch(/^gave up after 5 deliveries: the last worker stopped without reporting/);
        expect(deadLetterReason(undefined, "m1", 3)).toMatch(/^gave up after 3 deliveries: /);
    });
    it("redelivery backoff doubles and is capped", () => {
        expect([1, 2, 3, 6, 7, 20].map((n) => redeliveryDelaySeconds(n))).toEqual([2, 4, 8, 60, 60, 60]);
    });
});

describe("SQS-safe JSON", () => {
    it("escapes U+FFFE and U+FFFF and nothing else; the JSON value is unchanged", () => {
        const value = { a: "x\ufffey\uffffz", b: "é \u0001 \ud800", "k\uffff": 1 };
        const text = sqsSafeJson(value);
        expect(text).not.toMatch(/[\ufffe\uffff]/);
        expect(text).toContain("\\ufffe");
        expect(JSON.parse(text)).toEqual(value);
        expect(sqsSafeJson({ plain: "ascii" })).toBe(JSON.stringify({ plain: "ascii" }));
    });
    it("free text for attributes: what SQS refuses becomes U+FFFD, the rest (emoji included) unchanged", () => {
        expect(sqsSafeText("ok \u0001 \ufffe \ud800 x \udc00 \u{1F600} \t\n")).toBe("ok \ufffd \ufffd \ufffd x \ufffd \u{1F600} \t\n");
    });
    it("measures nesting without recursion, stopping early", () => {
        expect(jsonDepth("x")).toBe(0);
        expect(jsonDepth({ a: [1, { b: {} }] })).toBe(4);
        let deep: unknown = [];
        for (let i = 0; i < 100_000; i++) deep = [deep];
        expect(jsonDepth(deep)).toBe(33);
    });
});

describe("error classes", () => {
    it("503 only for the queue or store failing; content refusals 400; our own bugs 500", () => {
        expect(classifyError(Object.assign(new Error("x"), { name: "ServiceUnavailable", $metadata: {}, $fault: "server" }))).toEqual({ status: 503 });
        expect(classifyError(Object.assign(new Error("x"), { name: "QueueDoesNotExist", $metadata: {}, $fault: "client" }))).toEqual({ status: 503 });
        expect(classifyError(Object.assign(new Error("x"), { code: "ECONNREFUSED" }))).toEqual({ status: 503 });
        expect(classifyError(Object.assign(new Error("x"), { name: "InvalidMessageContents", $metadata: {} }))).toEqual({ status: 400, reason: "InvalidMessageContents" });
        expect(classifyError(new RangeError("Maximum call stack size exceeded"))).toEqual({ status: 500 });
        expect(classifyError(new TypeError("x is undefined"))).toEqual({ status: 500 });
    });
});

describe("batching", () => {
    it("coalesces up to 10 entries per call and settles each entry by its own result", async () => {
        const calls: number[][] = [];
        const b = new Batcher<number>(async (items) => {
            calls.push(items);
            return items.map((n) => (n === 13 ? new Error("thirteen") : undefined));
        }, 10, 5);
        const settled = await Promise.allSettled(Array.from({ length: 25 }, (_, i) => b.add(i)));
        expect(calls.map((c) => c.length)).toEqual([10, 10, 5]);
        expect(settled.filter((s) => s.status === "rejected")).toHaveLength(1);
        expect((settled[13] as PromiseRejectedResult).reason.message).toBe("thirteen");
        expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    });
});
