// @ts-check
/**
 * Mutation testing of the rule modules (`npm run test:mutation`): Stryker
 * mutates the files below one change at a time and reruns the unit tests of
 * vitest.mutation.config.mts that cover each change; a mutant no test notices
 * has "survived". testing/mutation/score.ts then prints the score per module
 * from reports/mutation/mutation.json and fails below 85% overall or 70% for
 * any module.
 */
import * as fs from "node:fs";

/**
 * services/shared/jobs.ts: the job model (message schema, key layout, state
 * predicates, S3 error classification) is logic; the JobStore class after it only
 * forwards to S3 and is tested against local S3 processes (tests/async), which are
 * too slow to rerun per mutant. Mutate the file up to the class.
 */
function beforeLine(file, marker) {
    const lines = fs.readFileSync(file, "utf8").split("\n");
    const at = lines.findIndex((l) => l.startsWith(marker));
    if (at < 1) throw new Error(`${file}: no line starting with ${JSON.stringify(marker)}`);
    return `${file}:1-${at}`;
}

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
    testRunner: "vitest",
    vitest: { configFile: "vitest.mutation.config.mts" },
    coverageAnalysis: "perTest",
    mutate: [
        // Config areas: zod schemas and cross-field rules; load.ts turns problems into one error.
        "infra/config/*.ts",
        // Park mode, teardown order, reaper decisions (runReaper takes its backend as an argument).
        // Not reaperCli.ts: the Automation API CLI around them.
        "infra/lifecycle/park.ts",
        "infra/lifecycle/teardown.ts",
        "infra/lifecycle/reaper.ts",
        // Not prices.ts (a dated table of numbers) nor diffCli.ts (reads files, prints).
        "infra/cost/estimate.ts",
        "infra/cost/diff.ts",
        // Pure builders and admission rules of each workload; the components that register
        // them (fleet.ts, models.ts, ...) are Pulumi resource registration.
        "components/workloads/*/spec.ts",
        "components/workloads/llm/engines.ts",
        // The runtime catalog and protocol choice. Not kserve.ts: a Pulumi component (Helm
        // releases, custom resources); its release values are checked by helm renders.
        "components/platform/addons/kserveRuntimes.ts",
        "components/validators.ts",
        // Not policy/index.ts: it only adapts these rules to @pulumi/policy.
        "policy/rules.ts",
        // Async job logic. Not aws.ts/env.ts/batch.ts (clients, env parsing, SQS batching I/O),
        // app.ts/worker.ts/main.ts (HTTP server, SQS loop).
        beforeLine("services/shared/jobs.ts", "export class JobStore"),
        "services/shared/sqsText.ts",
        "services/worker/decide.ts",
        "services/gateway/request.ts",
    ],
    // The sandbox gets what the unit tests import, not .venv (gigabytes), out/ or the docs.
    ignorePatterns: [
        "/*",
        "!/package.json",
        "!/tsconfig.json",
        "!/vitest.mutation.config.mts",
        "!/infra",
        "!/components",
        "!/policy",
        "!/services",
        "!/testing",
        "!/tests",
        "!/manifests",
    ],
    thresholds: { high: 90, low: 85, break: 85 },
    reporters: ["clear-text", "progress", "json", "html"],
    // The score table only: the survivors (thousands while the score is low) are in
    // reports/mutation/mutation.html, by file and line, with the tests that ran.
    clearTextReporter: { reportMutants: false, reportTests: false },
    jsonReporter: { fileName: "reports/mutation/mutation.json" },
    htmlReporter: { fileName: "reports/mutation/mutation.html" },
    // 2-core machines (CI included) shared with other work.
    concurrency: 2,
    // A mutant "times out" (and counts as detected) after timeoutFactor x its tests' time
    // + timeoutMS; on a loaded 2-core machine 5 s let slow starts pass as timeouts.
    timeoutMS: 10000,
    tempDirName: ".stryker-tmp",
    cleanTempDir: "always",
};
