/**
 * The GitHub Actions workflows, checked offline: they parse with GitHub's own
 * workflow parser, do what the README promises, and pin everything they run.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO_ROOT } from "../infra/plan/render";

const dir = path.join(REPO_ROOT, ".github", "workflows");
const files = fs.readdirSync(dir).filter((f) => f.endsWith(".yml"));

type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> };
type Workflow = { on: Record<string, unknown>; permissions?: Record<string, string>; jobs: Record<string, { steps: Step[]; "runs-on": unknown; strategy?: { matrix?: Record<string, unknown> } }> };
const load = (f: string) => parse(fs.readFileSync(path.join(dir, f), "utf8")) as Workflow;
const steps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps);

describe("GitHub workflows", () => {
    it("there are ci, preview and deploy workflows", () => {
        expect(files.sort()).toEqual(["ci.yml", "deploy.yml", "preview.yml", "reaper.yml"]);
    });

    it.each(files)("%s is a valid workflow for GitHub's parser", async (file) => {
        const { parseWorkflow, NoOperationTraceWriter } = await import("@actions/workflow-parser");
        const result = parseWorkflow({ name: file, content: fs.readFileSync(path.join(dir, file), "utf8") }, new NoOperationTraceWriter());
        expect(result.context.errors.getErrors().map((e) => e.message)).toEqual([]);
        expect(result.value).toBeDefined();
    });

    it("the parser really rejects a broken workflow (the check above can fail)", async () => {
        const { parseWorkflow, NoOperationTraceWriter } = await import("@actions/workflow-parser");
        const result = parseWorkflow({ name: "bad.yml", content: "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    stepz: []\n" }, new NoOperationTraceWriter());
        expect(result.context.errors.getErrors().length).toBeGreaterThan(0);
    });

    it.each(files)("%s pins every action to an exact version or commit", (file) => {
        for (const s of steps(load(file))) {
            if (s.uses) expect(s.uses, file).toMatch(/@(v\d+\.\d+\.\d+|[0-9a-f]{40})$/);
            if (s.uses?.startsWith("pulumi/actions")) expect(s.with?.["pulumi-version"], "Pulumi CLI version").toMatch(/^\d+\.\d+\.\d+$/);
        }
    });

    it("pull requests get `pulumi preview --diff` per stack, commented on the PR, after the offline plan", () => {
        const w = load("preview.yml");
        expect(Object.keys(w.on)).toEqual(["pull_request"]);
        expect(w.permissions).toMatchObject({ "pull-requests": "write", "id-token": "write" });
        const preview = steps(w).find((s) => s.uses?.startsWith("pulumi/actions"))!;
        expect(preview.with).toMatchObject({ command: "preview", diff: true, "comment-on-pr": true });
        expect(String(preview.with!["stack-name"])).toContain("${{ matrix.stack }}");
        const plans = steps(w).filter((s) => s.run?.includes("npm run plan -- --stack ${{ matrix.stack }}"));
        expect(plans).toHaveLength(1);
        expect(w.jobs.offline_plan ?? w.jobs["offline-plan"]).toBeDefined();
    });

    it("main runs `pulumi up` per environment after the tests, prod behind an environment", () => {
        const w = load("deploy.yml");
        expect(w.on.push).toEqual({ branches: ["main"] });
        const up = steps(w).find((s) => s.uses?.startsWith("pulumi/actions"))!;
        expect(up.with).toMatchObject({ command: "up" });
        const raw = fs.readFileSync(path.join(dir, "deploy.yml"), "utf8");
        expect(raw).toMatch(/environment: production/);
        expect(raw).toMatch(/needs: test/);
    });

    it("credentials come from secrets and OIDC, never from the files", () => {
        for (const f of files) {
            const raw = fs.readFileSync(path.join(dir, f), "utf8");
            expect(raw).not.toMatch(/AKIA[0-9A-Z]{16}/);
            expect(raw).not.toMatch(/pul-[0-9a-f]{40}/);
            for (const s of steps(load(f))) {
                for (const v of Object.values(s.env ?? {})) expect(v).toMatch(/^\$\{\{ (secrets|vars|runner|github)\./);
            }
        }
    });

    it("pull requests get the policy pack and a cost comment computed on base and head", () => {
        const w = load("preview.yml");
        const preview = steps(w).find((s) => s.uses?.startsWith("pulumi/actions"))!;
        expect(preview.with!.policyPacks).toBe("policy");
        const runs = steps(w).map((s) => s.run ?? "").join("\n");
        expect(runs).toMatch(/npm run --silent cost:diff -- out\/cost\/base out\/cost\/head/);
        expect(runs).toMatch(/git worktree add \.\.\/base/);
    });

    it("the reaper runs on a schedule, with a dry-run switch for manual runs", () => {
        const w = load("reaper.yml");
        expect((w.on.schedule as Array<{ cron: string }>)[0]!.cron).toMatch(/^\S+ \* \* \* \*$/);
        expect(w.on.workflow_dispatch).toMatchObject({ inputs: { dry_run: { type: "boolean", default: true } } });
        expect(steps(w).some((s) => s.run?.startsWith("npm run reaper --"))).toBe(true);
    });

    it("CI runs exactly .ci/run", () => {
        expect(steps(load("ci.yml")).some((s) => s.run === "bash .ci/run")).toBe(true);
    });
});
