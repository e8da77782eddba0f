/** infra/config/lifecycle.ts: `mlserve:lifecycle`. */
import { describe, expect, it } from "vitest";
import { lifecycleSchema } from "../../infra/config/lifecycle";

const problems = (input: unknown) => lifecycleSchema.safeParse(input).error?.issues.map((i) => ({ path: i.path.join("."), message: i.message })) ?? [];

describe("mlserve:lifecycle", () => {
    it("an owner alone takes the documented defaults", () => {
        expect(lifecycleSchema.parse({ owner: "me@example.com" })).toEqual({
            owner: "me@example.com",
            parked: false,
            parkedSystemNodes: 1,
            monthlyBudgetUsd: 1500,
            alertEmails: [],
            idleGpuAlarmMinutes: 60,
        });
    });

    it("a missing owner says how to set it; a bad one says what is allowed", () => {
        expect(problems({})).toEqual([{ path: "owner", message: "is required: who owns this stack, e.g. `pulumi config set --path mlserve:lifecycle.owner you@example.com`" }]);
        const bad = "must be an email or handle (letters, digits, . _ + @ -)";
        for (const owner of ["a", "x".repeat(65), "me you", "me/you", " me"]) expect(problems({ owner })).toEqual([{ path: "owner", message: bad }]);
        for (const owner of ["ab", "x".repeat(64), "first.last+ml@example-corp.com", "team_ml"]) expect(problems({ owner })).toEqual([]);
        expect(problems({ owner: 42 })).toEqual([{ path: "owner", message: "Invalid input: expected string, received number" }]);
    });

    it("expiresAt takes an ISO date or date-time, with a zone", () => {
        const good = ["2026-12-31", "2026-12-31T18:00Z", "2026-12-31T18:00:00Z", "2026-12-31T18:00:00.123Z", "2026-12-31T18:00:00+02:00", "2026-12-31T18:00:00-05:30"];
        for (const expiresAt of good) expect(problems({ owner: "me", expiresAt })).toEqual([]);
        const msg = "must be an ISO 8601 date or date-time such as 2026-12-31 or 2026-12-31T18:00:00Z";
        const bad = ["next friday", "2026-12-31T18:00:00", "2026-13-45", "2026-1-31", "x2026-12-31", "2026-12-31x", "2026-12-31T18:00:00+0200", "2026-12-31T18Z", "26-12-31", " 2026-12-31", "12026-12-31"];
        for (const expiresAt of bad) expect(problems({ owner: "me", expiresAt })).toEqual([{ path: "expiresAt", message: msg }]);
    });

    it("bounds: parkedSystemNodes 1-10, monthlyBudgetUsd above 0 up to 1,000,000, idleGpuAlarmMinutes 0-1440", () => {
        const ok = [{ parkedSystemNodes: 1 }, { parkedSystemNodes: 10 }, { monthlyBudgetUsd: 0.01 }, { monthlyBudgetUsd: 1_000_000 }, { idleGpuAlarmMinutes: 0 }, { idleGpuAlarmMinutes: 1440 }];
        for (const o of ok) expect(problems({ owner: "me", ...o })).toEqual([]);
        expect(problems({ owner: "me", parkedSystemNodes: 0 })).toEqual([{ path: "parkedSystemNodes", message: "Too small: expected number to be >=1" }]);
        expect(problems({ owner: "me", parkedSystemNodes: 11 })).toEqual([{ path: "parkedSystemNodes", message: "Too big: expected number to be <=10" }]);
        expect(problems({ owner: "me", monthlyBudgetUsd: 0 })).toEqual([{ path: "monthlyBudgetUsd", message: "Too small: expected number to be >0" }]);
        expect(problems({ owner: "me", monthlyBudgetUsd: 1_000_001 })).toEqual([{ path: "monthlyBudgetUsd", message: "Too big: expected number to be <=1000000" }]);
        expect(problems({ owner: "me", idleGpuAlarmMinutes: -1 })).toEqual([{ path: "idleGpuAlarmMinutes", message: "Too small: expected number to be >=0" }]);
        expect(problems({ owner: "me", idleGpuAlarmMinutes: 1441 })).toEqual([{ path: "idleGpuAlarmMinutes", message: "Too big: expected number to be <=1440" }]);
    });

    it("alert emails must be email addresses", () => {
        expect(problems({ owner: "me", alertEmails: ["ops@example.com", "not-an-email"] })).toEqual([{ path: "alertEmails.1", message: "must be an email address" }]);
    });
});
