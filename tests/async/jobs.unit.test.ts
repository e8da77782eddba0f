/**
 * The async job model: the SQS message the gateway sends and the worker trusts,
 * the S3 key layout, which states are final, and how S3's answers are read
 * (missing key; a conditional write that lost).
 */
import { describe, expect, it } from "vitest";
import { INLINE_PAYLOAD_LIMIT_BYTES, isConditionFailed, isNotFound, isTerminal, JOB_ID, jobMessageSchema, keys, type ClaimRecord, type ResultRecord } from "../../services/shared/jobs";

const ID = "j-0123456789abcdef0123456789abcdef";
const message = { v: 1, jobId: ID, variant: "fp16", request: { inputs: "x" }, submittedAt: "2026-11-26T04:00:00.000Z" };

describe("job ids", () => {
    it("are j- and 32 lowercase hex digits, nothing around them", () => {
        expect(JOB_ID.test(ID)).toBe(true);
        expect(JOB_ID.test("j-ffffffffffffffffffffffffffffffff")).toBe(true);
        for (const bad of [
            "j-0123456789abcdef0123456789abcde", // 31 digits
            "j-0123456789abcdef0123456789abcdef0", // 33
            "j-0123456789ABCDEF0123456789ABCDEF", // upper case
            "j-0123456789abcdef0123456789abcdeg", // not hex
            "k-0123456789abcdef0123456789abcdef",
            "j0123456789abcdef0123456789abcdef",
            `x${ID}`,
            `${ID}x`,
            `${ID}\n`,
            "",
        ]) {
            expect(JOB_ID.test(bad), bad).toBe(false);
        }
    });
});

describe("the SQS message", () => {
    it("carries version 1, the job id, the variant, the request inline or its S3 key, and the submit time", () => {
        expect(jobMessageSchema.parse(message)).toEqual(message);
        const byKey = { v: 1, jobId: ID, variant: "fp16", requestKey: `requests/${ID}.json`, submittedAt: "t" };
        expect(jobMessageSchema.parse(byKey)).toEqual(byKey);
    });

    it("anything else is refused (the worker dead-letters it), naming the field", () => {
        const paths = (m: unknown) => {
            const r = jobMessageSchema.safeParse(m);
            return r.success ? [] : r.error.issues.map((i) => [i.path.join("."), i.code]);
        };
        expect(paths({ ...message, v: 2 })).toEqual([["v", "invalid_value"]]);
        expect(paths({ ...message, jobId: "j-123" })).toEqual([["jobId", "invalid_format"]]);
        expect(paths({ ...message, jobId: `${ID}0` })).toEqual([["jobId", "invalid_format"]]);
        expect(paths({ ...message, jobId: `x${ID}` })).toEqual([["jobId", "invalid_format"]]);
        expect(paths({ ...message, jobId: "j-0123456789ABCDEF0123456789ABCDEF" })).toEqual([["jobId", "invalid_format"]]);
        expect(paths({ ...message, variant: "" })).toEqual([["variant", "too_small"]]);
        expect(paths({ ...message, request: "x" })).toEqual([["request", "invalid_type"]]);
        expect(paths({ ...message, requestKey: 5 })).toEqual([["requestKey", "invalid_type"]]);
        expect(paths({ v: 1, jobId: ID, variant: "fp16" })).toEqual([["submittedAt", "invalid_type"]]);
        expect(paths({ ...message, priority: 1 })).toEqual([["", "unrecognized_keys"]]);
    });
});

describe("S3 layout and job states", () => {
    it("one object per state under its prefix", () => {
        expect(keys.job(ID)).toBe(`jobs/${ID}.json`);
        expect(keys.request(ID)).toBe(`requests/${ID}.json`);
        expect(keys.result(ID)).toBe(`results/${ID}.json`);
    });

    it("payloads above 192 KiB travel through S3 (SQS takes 256 KiB per message, with room for the envelope)", () => {
        expect(INLINE_PAYLOAD_LIMIT_BYTES).toBe(196_608);
    });

    it("done and failed are final; a claim or no record is not", () => {
        const result = (status: "done" | "failed"): ResultRecord => ({ jobId: ID, status, attempts: 1, completedAt: "t", worker: "w" });
        const claim: ClaimRecord = { jobId: ID, status: "running", messageId: "m", receiveCount: 1, worker: "w", claimedAt: "t" };
        expect([isTerminal(result("done")), isTerminal(result("failed")), isTerminal(claim), isTerminal(undefined)]).toEqual([true, true, false, false]);
    });
});

describe("reading S3's errors", () => {
    /** An AWS SDK v3 service error: a name, and the HTTP status in $metadata. */
    const sdkError = (name: string, httpStatusCode?: number) => Object.assign(new Error(name), { name, $metadata: httpStatusCode === undefined ? {} : { httpStatusCode } });

    it("a missing key: NotFound (HEAD), NoSuchKey (GET), or any 404", () => {
        expect(isNotFound(sdkError("NotFound", 404))).toBe(true);
        expect(isNotFound(sdkError("NotFound"))).toBe(true);
        expect(isNotFound(sdkError("NoSuchKey"))).toBe(true);
        expect(isNotFound(sdkError("Unknown", 404))).toBe(true);
        expect(isNotFound(sdkError("AccessDenied", 403))).toBe(false);
        expect(isNotFound(sdkError("NoSuchBucket"))).toBe(false);
        expect(isNotFound(sdkError("PreconditionFailed", 412))).toBe(false);
        // Not SDK errors at all: a network failure, or nothing.
        expect(isNotFound(new Error("socket hang up"))).toBe(false);
        expect(isNotFound(undefined)).toBe(false);
        expect(isNotFound(null)).toBe(false);
    });

    it("a conditional write that lost: PreconditionFailed/412, or ConditionalRequestConflict/409 (a concurrent write)", () => {
        expect(isConditionFailed(sdkError("PreconditionFailed", 412))).toBe(true);
        expect(isConditionFailed(sdkError("PreconditionFailed"))).toBe(true);
        expect(isConditionFailed(sdkError("Unknown", 412))).toBe(true);
        expect(isConditionFailed(sdkError("ConditionalRequestConflict"))).toBe(true);
        expect(isConditionFailed(sdkError("Unknown", 409))).toBe(true);
        expect(isConditionFailed(sdkError("NotFound", 404))).toBe(false);
        expect(isConditionFailed(sdkError("InternalError", 500))).toBe(false);
        expect(isConditionFailed(new Error("socket hang up"))).toBe(false);
        expect(isConditionFailed(undefined)).toBe(false);
        expect(isConditionFailed(null)).toBe(false);
    });
});
