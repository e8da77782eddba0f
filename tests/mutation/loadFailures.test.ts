/** testing/mutation/loadFailures.ts: a test file that failed to load counts as one failed test in a mutation run. */
import type { RunnerTestFile } from "vitest";
import { describe, expect, it } from "vitest";
import { LOAD_FAILURE_TEST, markLoadFailures } from "../../testing/mutation/loadFailures";

const file = (state: "pass" | "fail" | undefined, tasks: unknown[] = []) =>
    ({ id: "f1", type: "suite", name: "tests/x.test.ts", filepath: "/repo/tests/x.test.ts", mode: "run", tasks, meta: {}, result: state && { state, errors: state === "fail" ? [{ message: "boom at import" }] : undefined } }) as unknown as RunnerTestFile;

describe("load failures as failed tests", () => {
    it("a failed file with no test gets one failed test carrying the load error", () => {
        const f = file("fail");
        expect(markLoadFailures([f])).toBe(1);
        expect(f.tasks).toEqual([expect.objectContaining({ type: "test", name: LOAD_FAILURE_TEST, mode: "run", file: f, suite: f, result: { state: "fail", errors: [{ message: "boom at import" }] } })]);
    });

    it("files that loaded, passed or failed with tests of their own, are left as they are", () => {
        const failedTest = { type: "test", name: "t", result: { state: "fail" } };
        const files = [file("pass"), file("fail", [failedTest]), file(undefined)];
        expect(markLoadFailures(files)).toBe(0);
        expect(files.map((f) => f.tasks.length)).toEqual([0, 1, 0]);
    });
});
