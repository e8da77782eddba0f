/**
 * A vitest reporter for mutation runs only (vitest.mutation.config.mts): a test
 * file that fails to load becomes one failed test.
 *
 * Why: Stryker's vitest runner (9.6.1) builds a mutant's result from the tests
 * vitest collected. A mutant that makes a module throw while it is imported (for
 * example `{}` for the schema that parses kserveRuntimes.json at load) leaves the
 * importing test files with no test at all, so no test failed and the mutant was
 * reported Survived although every test that imports the module fails. With this
 * reporter such a file holds one failed test carrying the load error, and the
 * mutant is Killed. A file that loaded is left as it is.
 */
import type { RunnerTestFile } from "vitest";
import type { Reporter, Vitest } from "vitest/node";

export const LOAD_FAILURE_TEST = "(the test file failed to load)";

/** Adds the failed test to each file that failed with no test collected; returns how many. */
export function markLoadFailures(files: readonly RunnerTestFile[]): number {
    let marked = 0;
    for (const file of files) {
        if (file.result?.state !== "fail" || file.tasks.length > 0) continue;
        // Only what Stryker reads of a test (type, name, mode, result, file, suite); vitest
        // builds the rest of a Test itself and nothing reads this one after the run.
        file.tasks.push({
            type: "test",
            id: `${file.id}_load`,
            name: LOAD_FAILURE_TEST,
            mode: "run",
            file,
            suite: file,
            meta: {},
            result: { state: "fail", errors: file.result.errors ?? [{ message: "the test file failed to load" }] },
        } as unknown as RunnerTestFile["tasks"][number]);
        marked++;
    }
    return marked;
}

export class LoadFailuresAsFailedTests implements Reporter {
    private vitest: Vitest | undefined;

    onInit(vitest: Vitest): void {
        this.vitest = vitest;
    }

    onTestRunEnd(): void {
        if (this.vitest) markLoadFailures(this.vitest.state.getFiles());
    }
}
