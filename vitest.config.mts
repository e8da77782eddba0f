import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["tests/**/*.test.ts"],
        // Each file gets its own process: the Pulumi runtime is process-global.
        pool: "forks",
        testTimeout: 60_000,
        hookTimeout: 60_000,
        reporters: ["default"],
    },
});
