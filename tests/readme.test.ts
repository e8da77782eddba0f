/** The README's config reference and commands stay in step with the code. */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { stackConfigSchema } from "../infra/config/schema";
import { REPO_ROOT } from "../infra/plan/render";

const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");

describe("README", () => {
    it("documents every config key of the schema", () => {
        const missing: string[] = [];
        for (const [top, schema] of Object.entries(stackConfigSchema.shape)) {
            const inner = (schema as unknown as { def: { innerType?: { shape?: Record<string, unknown> } } }).def.innerType?.shape;
            const keys = inner ? Object.keys(inner).map((k) => `mlserve:${top}.${k}`) : [`mlserve:${top}`];
            for (const key of keys) {
                const [, field] = key.split(".");
                // Either `mlserve:gpuNodes.minSize`, or a row like "`mlserve:gpuNodes.minSize` / `desiredSize`".
                const rows = readme.split("\n").filter((l) => l.startsWith("|") && l.includes(`\`mlserve:${top}`));
                const documented = rows.some((l) => l.includes(`\`${key}\``) || (field !== undefined && l.includes(`\`${field}\``)));
                if (!documented) missing.push(key);
            }
        }
        expect(missing).toEqual([]);
    });

    it("gives the two newcomer commands, and .ci/run runs the README's test command", () => {
        expect(readme).toContain("npm ci && npm run plan -- --stack dev");
        expect(readme).toContain("npm test");
        const ci = fs.readFileSync(path.join(REPO_ROOT, ".ci", "run"), "utf8");
        expect(ci).toMatch(/^npm ci\b/m);
        expect(ci).toMatch(/^npm test \|\| status=\$\?$/m);
    });
});
