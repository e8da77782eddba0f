/**
 * Vitest config for mutation runs only (`npm run test:mutation`, stryker.config.mjs).
 *
 * Stryker reruns the tests that cover a mutant once per mutant, so this suite
 * holds only the fast unit tests of the rule modules: plain function calls, no
 * Pulumi-mock stack render (about 1 s each, and a render covers nearly every
 * config mutant), no helm, no local AWS or other processes, no network.
 * `npm test` still runs every file through vitest.config.mts.
 *
 * Left out on purpose (they mix unit tests with renders in one file, and a
 * file-level beforeAll render would run again for every mutant they cover):
 * tests/policy/policy.test.ts, tests/lifecycle/lifecycle.test.ts,
 * tests/kserve/models.test.ts, tests/kserve/runtimes.test.ts,
 * tests/llm/fleet.test.ts, tests/modelapi/modelApi.test.ts,
 * tests/optimization/optimization.test.ts, tests/benchmark/benchmark.test.ts,
 * tests/addons/addons.test.ts. To count a unit test toward the mutation score,
 * put it in a file of its own named `*.unit.test.ts` (picked up below) or in one
 * of the files listed here, with no render or process in the file. Call the code
 * under test inside `it` (or beforeEach), not in a describe body, at the top of the
 * file or in beforeAll: what runs there counts as "static" coverage, and each mutant
 * it reaches then reruns every related test file instead of the few tests that
 * cover it (one parseStackConfig in a describe body of tests/config/load.unit.test.ts
 * made the rule functions static: 118 of infra/config/fleet.ts's 164 mutants instead
 * of 82).
 */
import { defineConfig } from "vitest/config";
import { LoadFailuresAsFailedTests } from "./testing/mutation/loadFailures";

export default defineConfig({
    test: {
        include: [
            "tests/config/rules.test.ts",
            "tests/config/schema.test.ts",
            "tests/async/decide.test.ts",
            "tests/plan/cost.test.ts",
            "tests/**/*.unit.test.ts",
        ],
        testTimeout: 10_000,
        // One worker keeps node_modules loaded across Stryker's runs (@pulumi/pulumi alone
        // takes about a second to import, once per file and mutant otherwise). The rule
        // modules are still evaluated afresh for each run: measured on infra/config/fleet.ts
        // (164 mutants), every mutant isolation kills is killed here too, static ones
        // included, in 2m10s instead of 4m55s (two mutants that "timed out" under load with
        // isolation, neither a loop, survive).
        isolate: false,
        // A mutant that breaks a module's import must count as killed, not survived (see the file).
        reporters: ["default", new LoadFailuresAsFailedTests()],
    },
});
