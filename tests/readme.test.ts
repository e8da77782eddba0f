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

    it("has a quick start whose commands are, in order, install, tools, reference data, plan, test", async () => {
        const { quickStartCommands } = await import("../.ci/quickstart.mjs");
        // Written out here, not read from the code: a changed quick start must change this test too.
        expect(quickStartCommands(readme)).toEqual(["npm ci", "npm run tools:install", "npm run reference:fetch", "npm run plan -- --stack dev", "npm test"]);
        const scripts = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")).scripts as Record<string, string>;
        for (const command of quickStartCommands(readme)) {
            const script = /^npm (?:run ([\w:-]+)|(test))\b/.exec(command);
            if (script) expect(scripts, `package.json has no script for \`${command}\``).toHaveProperty(script[1] ?? "test");
        }
    });

    it("reads the quick start's commands without their comments, and says what is missing", async () => {
        const { quickStartCommands } = await import("../.ci/quickstart.mjs");
        const doc = (block: string) => `# x\n\n## Quick start\n\n${block}\n\n## Next\n\n\`\`\`bash\nnot this\n\`\`\`\n`;
        expect(quickStartCommands(doc("```bash\n# a comment line\nnpm ci   # with a comment\n\nnpm test\n```"))).toEqual(["npm ci", "npm test"]);
        expect(() => quickStartCommands("# x\n## Usage\n")).toThrow(/no "## Quick start" section/);
        expect(() => quickStartCommands(doc("no code here"))).toThrow(/has no ```bash block/);
        expect(() => quickStartCommands(doc("```bash\n# only a comment\n```"))).toThrow(/block has no command/);
    });

    it(".ci/run runs the quick start read from the README, and nothing adds tools to PATH first", () => {
        const ci = fs.readFileSync(path.join(REPO_ROOT, ".ci", "run"), "utf8");
        const code = ci.split("\n").filter((l) => !l.trim().startsWith("#")).join("\n");
        expect(code).toContain("mapfile -t commands < <(node .ci/quickstart.mjs)");
        expect(code).toMatch(/for command in "\$\{commands\[@\]\}"; do[\s\S]*bash -c "\$command"/);
        expect(code).not.toMatch(/\bnpm (ci|test)\b/);
        expect(code).not.toMatch(/PATH=/);
    });

    it(".ci/run then runs mutation testing, only after the quick start passed, and fails with it", () => {
        const ci = fs.readFileSync(path.join(REPO_ROOT, ".ci", "run"), "utf8");
        const code = ci.split("\n").filter((l) => !l.trim().startsWith("#")).join("\n");
        const quickStart = code.indexOf("for command in");
        const gate = code.indexOf('if [ "$status" -ne 0 ]; then exit "$status"; fi');
        const mutation = code.indexOf("npm run test:mutation || { status=$?;");
        expect([quickStart > 0, gate > quickStart, mutation > gate]).toEqual([true, true, true]);
        expect(code.trimEnd().endsWith('exit "$status"')).toBe(true);
        // The README says so where it describes the mutation run.
        expect(readme).toMatch(/Where it runs: in CI \(`\.ci\/run`/);
    });
});
