/**
 * The GitHub Actions workflows, checked offline: they parse with GitHub's own
 * workflow parser, do what the README promises, and pin everything they run.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO_ROOT } from "../infra/plan/render";

const dir = path.join(REPO_ROOT, ".github", "workflows");
const files = fs.readdirSync(dir).filter((f) => f.endsWith(".yml"));

type Step = { name?: string; uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> };
type Job = { steps?: Step[]; uses?: string; needs?: string | string[]; "runs-on"?: unknown; strategy?: { matrix?: Record<string, unknown> } };
type Workflow = { on: Record<string, unknown>; permissions?: Record<string, string>; jobs: Record<string, Job> };
const load = (f: string) => parse(fs.readFileSync(path.join(dir, f), "utf8")) as Workflow;
const steps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps ?? []);
/** Every job of every workflow, as "file:job". A job that calls a reusable workflow has no steps of its own. */
const allJobs = () => files.flatMap((f) => Object.entries(load(f).jobs).map(([name, job]) => ({ id: `${f}:${name}`, job })));

// What planning and testing need on a fresh runner (README quick start): helm built with `go install`
// (helm v3.22.0 needs Go 1.26), the .venv from Python 3.11, and the reference data.
const PLANS = /npm run plan\b/;
const TESTS = /^bash \.ci\/run$|npm test\b|npm run test\b/;
const GO_VERSION = /^1\.(2[6-9]|[3-9]\d)\.\d+$/; // exact, 1.26 or later
const PYTHON_VERSION = /^3\.11\.\d+$/; // exact
const CHARTS_STEP = "Reference charts without a pinned download";
const index = (list: Step[], pred: (s: Step) => boolean) => list.findIndex(pred);
const isSetup = (action: string) => (s: Step) => s.uses?.startsWith(`actions/${action}@`) ?? false;
const runs = (re: RegExp) => (s: Step) => re.test(s.run ?? "");
/** The inline `node -e '…'` of the charts step that checks the archives against reference.lock.json. */
const chartsCheck = (step: Step) => /node -e '([^']*::error[^']*)'/.exec(step.run ?? "")?.[1];

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
        const w = load(file);
        for (const s of steps(w)) {
            if (s.uses) expect(s.uses, file).toMatch(/@(v\d+\.\d+\.\d+|[0-9a-f]{40})$/);
            if (s.uses?.startsWith("pulumi/actions")) expect(s.with?.["pulumi-version"], "Pulumi CLI version").toMatch(/^\d+\.\d+\.\d+$/);
            if (isSetup("setup-go")(s)) expect(String(s.with?.["go-version"]), `${file}: Go version`).toMatch(GO_VERSION);
            if (isSetup("setup-python")(s)) expect(String(s.with?.["python-version"]), `${file}: Python version`).toMatch(PYTHON_VERSION);
            if (isSetup("setup-node")(s)) expect(String(s.with?.["node-version"]), `${file}: Node version`).toMatch(/^\d+\.\d+\.\d+$/);
        }
        // A job that calls a reusable workflow: one of this repository's, at the same commit.
        for (const [name, job] of Object.entries(w.jobs)) {
            if (job.uses) expect(job.uses, `${file}:${name}`).toMatch(/^\.\/\.github\/workflows\/[\w-]+\.yml$/);
            else expect(job.steps?.length, `${file}:${name} has steps`).toBeGreaterThan(0);
        }
    });

    it("every job that plans or tests sets up Go (and Python to test), installs the tools and gets the reference data first", () => {
        const planning = allJobs().filter(({ job }) => (job.steps ?? []).some((s) => runs(PLANS)(s) || runs(TESTS)(s)));
        expect(planning.map((j) => j.id).sort()).toEqual(["ci.yml:test", "preview.yml:cost-comment", "preview.yml:offline-plan"]);
        for (const { id, job } of planning) {
            const list = job.steps!;
            const first = index(list, (s) => runs(PLANS)(s) || runs(TESTS)(s));
            const go = index(list, isSetup("setup-go"));
            expect(go, `${id}: setup-go before the plan or tests`).toBeGreaterThanOrEqual(0);
            expect(go, `${id}: setup-go before the plan or tests`).toBeLessThan(first);
            expect(list[go]!.with?.["go-version"], id).toMatch(GO_VERSION);
            const charts = index(list, (s) => s.name === CHARTS_STEP);
            expect(charts, `${id}: the unpinned reference charts before the plan or tests`).toBeGreaterThanOrEqual(0);
            expect(charts, `${id}: the unpinned reference charts before the plan or tests`).toBeLessThan(first);
            if (list.some(runs(TESTS))) {
                // .ci/run (the quick start) installs every tool and fetches the reference data itself
                // (tests/readme.test.ts checks its commands); it needs Python for the .venv.
                const python = index(list, isSetup("setup-python"));
                expect(python, `${id}: setup-python before the tests`).toBeGreaterThanOrEqual(0);
                expect(python, `${id}: setup-python before the tests`).toBeLessThan(first);
                expect(list[python]!.with?.["python-version"], id).toMatch(PYTHON_VERSION);
            } else {
                const npmCi = index(list, (s) => s.run === "npm ci");
                const helm = index(list, (s) => s.run === "npm run tools:install -- helm");
                const fetch = index(list, (s) => s.run === "npm run reference:fetch");
                expect(npmCi, `${id}: npm ci`).toBeGreaterThanOrEqual(0);
                expect(helm, `${id}: helm installed after npm ci, after setup-go`).toBeGreaterThan(Math.max(npmCi, go));
                expect(helm, `${id}: helm installed before the plan`).toBeLessThan(first);
                expect(fetch, `${id}: reference:fetch after npm ci and the charts`).toBeGreaterThan(Math.max(npmCi, charts));
                expect(fetch, `${id}: reference:fetch before the plan`).toBeLessThan(first);
                // Plan-only jobs do not pull the .venv (torch): only helm.
                expect(list.some((s) => s.run === "npm run tools:install"), id).toBe(false);
            }
        }
    });

    it("the base branch of the cost comment gets the reference data too, unless it predates reference:fetch", () => {
        const base = load("preview.yml").jobs["cost-comment"]!.steps!.find((s) => s.name === "Plan base")!;
        const run = base.run!;
        const guard = run.indexOf(`grep -q '"reference:fetch"' package.json`);
        expect(guard, "a base without the reference:fetch script is tolerated").toBeGreaterThan(run.indexOf("if [ -f infra/plan/cli.ts ]"));
        expect(run.indexOf("npm run reference:fetch || true"), "reference:fetch under that guard").toBeGreaterThan(guard);
        expect(run.indexOf("npm run reference:fetch || true"), "before the base plan").toBeLessThan(run.indexOf("npm run plan"));
        expect(run).toMatch(/cp -a "\$GITHUB_WORKSPACE\/\.cache\/reference\/\." \.cache\/reference\//);
    });

    it("deploy tests exactly what CI tests before `pulumi up`", () => {
        const w = load("deploy.yml");
        expect(w.jobs.test).toEqual({ uses: "./.github/workflows/ci.yml" });
        expect(load("ci.yml").on).toHaveProperty("workflow_call");
        for (const [name, job] of Object.entries(w.jobs)) if (name !== "test") expect(job.needs, name).toBe("test");
    });

    it("the unpinned reference charts: taken from the release, kept only with the digest the lock pins, loudly missing otherwise", () => {
        const chartSteps = ["ci.yml", "preview.yml"].flatMap((f) => steps(load(f)).filter((s) => s.name === CHARTS_STEP));
        expect(chartSteps).toHaveLength(3);
        const lock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "reference.lock.json"), "utf8")) as { files: Array<{ kind: string; path: string; url?: string; sha256?: string; sharedSha256?: string }> };
        const unpinned = lock.files.filter((f) => !f.url);
        for (const step of chartSteps) {
            expect(step.run).toContain("gh release download reference-charts");
            expect(step.env).toEqual({ GH_TOKEN: "${{ github.token }}" });
            const check = chartsCheck(step)!;
            expect(check, "the check").toBeDefined();
            expect(check).toBe(chartsCheck(chartSteps[0]!)); // one check, the same everywhere
        }
        // Run the workflow's own check against a copy of the lock.
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mlserve-workflow-charts-"));
        try {
            fs.copyFileSync(path.join(REPO_ROOT, "reference.lock.json"), path.join(tmp, "reference.lock.json"));
            const check = () => spawnSync(process.execPath, ["-e", chartsCheck(chartSteps[0]!)!], { cwd: tmp, encoding: "utf8" });
            let r = check();
            expect(r.status, "nothing provided").toBe(1);
            for (const f of unpinned) expect(r.stdout).toContain(`::error title=Reference chart not provided::${f.kind}/${f.path} `);
            expect(unpinned.length).toBeGreaterThan(0);
            // With the right bytes (fake ones, with their digest pinned in the copied lock) it passes.
            const fake = lock.files.map((f) => (f.url ? f : { ...f, sharedSha256: createHash("sha256").update(`fake ${f.path}`).digest("hex") }));
            fs.writeFileSync(path.join(tmp, "reference.lock.json"), JSON.stringify({ files: fake }));
            for (const f of unpinned) {
                fs.mkdirSync(path.join(tmp, ".cache/reference", f.kind), { recursive: true });
                fs.writeFileSync(path.join(tmp, ".cache/reference", f.kind, f.path), `fake ${f.path}`);
            }
            r = check();
            expect(r.stdout).not.toContain("::error");
            expect(r.status, "all provided").toBe(0);
            // One file with other bytes: an error naming it, and only it.
            const tampered = unpinned[0]!;
            fs.appendFileSync(path.join(tmp, ".cache/reference", tampered.kind, tampered.path), "x");
            r = check();
            expect(r.status, "tampered").toBe(1);
            expect(r.stdout.match(/::error/g)).toHaveLength(1);
            expect(r.stdout).toContain(`::error title=Reference chart not provided::${tampered.kind}/${tampered.path} `);
        } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
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
        const list = steps(load("ci.yml"));
        expect(list.some((s) => s.run === "bash .ci/run")).toBe(true);
        // .ci/run is the quick start (npm ci, tools, reference data): CI does not do them twice.
        expect(list.filter((s) => s.run !== undefined && s.name !== CHARTS_STEP).map((s) => s.run)).toEqual(["bash .ci/run"]);
    });
});
