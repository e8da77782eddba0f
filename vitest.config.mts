import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["tests/**/*.test.ts"],
        // Each file gets its own process: the Pulumi runtime is process-global.
        pool: "forks",
        testTimeout: 60_000,
        hookTimeout: 60_000,
        // The JSON report lets .ci/run print a plain "N passed, N failed" line.
        reporters: ["default", "json"],
        outputFile: { json: "out/test-results.json" },
        // Its ESM build imports a JSON schema without an import attribute, which
        // Node 20 refuses; letting Vite transform it makes the import work.
        server: { deps: { inline: ["@actions/workflow-parser", "@actions/expressions"] } },
    },
});
