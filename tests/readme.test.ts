/** The README's config reference and commands stay in step with the code. */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { stackConfigSchema } from "../infra/config/schema";
import { REPO_ROOT } from "../infra/plan/render";

const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");

describe("README", () => {
    it("documents every config key of the schema", () => {
        type Def = { type: string; innerType?: unknown; shape?: Record<string, unknown>; element?: unknown };
        const def = (x: unknown) => (x as { def: Def }).def;
        const unwrap = (x: unknown): unknown => (["default", "prefault", "optional"].includes(def(x).type) ? unwrap(def(x).innerType) : x);
        // Leaf keys: `mlserve:addons.knative.domain`, `mlserve:gpuNodes.minSize`, `mlserve:tags`.
        const leaves = (schema: unknown, prefix: string): string[] => {
            const d = def(unwrap(schema));
            if (d.type === "object") return Object.entries(d.shape!).flatMap(([k, v]) => leaves(v, `${prefix}.${k}`));
            if (d.type === "array" && def(unwrap(d.element)).type === "object") return leaves(d.element, `${prefix}[]`);
            return [prefix];
        };
        const keys = Object.entries(stackConfigSchema.shape).flatMap(([top, schema]) => leaves(schema, `mlserve:${top}`));
        expect(keys.length).toBeGreaterThan(40);
        const rows = readme.split("\n").filter((l) => l.startsWith("| `mlserve:"));
        const missing = keys.filter((key) => {
            const parent = key.slice(0, key.lastIndexOf("."));
            const field = key.slice(key.lastIndexOf(".") + 1);
            // Either the full key, or a grouped row like "`mlserve:gpuNodes.minSize` / `desiredSize`".
            return !rows.some((l) => l.includes(`\`${key}\``) || (l.startsWith(`| \`${parent}.`) && l.includes(`\`${field}\``)));
        });
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
