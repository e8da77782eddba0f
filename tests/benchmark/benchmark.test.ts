/**
 * The benchmark in the stack: the Job's command against loadtest/'s contract,
 * its targets (the stack's own outputs, read by the real run.py), the S3 prefix
 * it may write, and the campaign's RBAC (scale the LLM Deployments, nothing else).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../infra/config/load";
import { kubernetesObjects } from "../../infra/plan/report";
import { REPO_ROOT } from "../../infra/plan/render";
import { dependsOn, one, ofType, renderConfig, type Rendering, stackFileConfig } from "../harness/render";
import { validateBuiltin } from "../harness/schemas";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- deep reads of rendered specs
type Json = Record<string, any>;

const dev = stackFileConfig("dev");
const devWith = (benchmark: Record<string, unknown>) => renderConfig({ ...dev, "mlserve:benchmark": { enabled: true, runId: "b1", ...benchmark } }, "dev");

let r: Rendering;
beforeAll(async () => {
    r = await devWith({});
});
const job = (x: Rendering = r) => one(x, "kubernetes:batch/v1:Job", "mlserve-dev-benchmark-job").inputs as Json;
const command = (x: Rendering = r) => job(x).spec.template.spec.containers[0].command as string[];
const bucket = () => String(one(r, "aws:s3/bucket:Bucket", "mlserve-dev-artifacts").state.bucket);
const targetsJson = () => String((one(r, "kubernetes:core/v1:ConfigMap", "mlserve-dev-benchmark-targets").inputs as Json).data["outputs.json"]);

describe("campaign (the default)", () => {
    it("one Job per run id walks every variant in order around run.py, not awaited by Pulumi", () => {
        expect(job().metadata).toMatchObject({ name: "campaign-b1", namespace: "benchmark", annotations: { "pulumi.com/skipAwait": "true" } });
        const cmd = command();
        expect(cmd.slice(0, 8)).toEqual(["python3", "/app/loadtest/campaign.py", "--namespace", "llm", "--variants", "fp16,eetq,fp8,int8,nf4,fp4,vllm-fp16", "--ready-timeout", "1800"]);
        const run = cmd.slice(cmd.indexOf("--") + 1);
        const flag = (f: string) => run[run.indexOf(f) + 1];
        expect(flag("--targets")).toBe("/config/outputs.json");
        expect(flag("--run-id")).toBe("b1");
        expect(flag("--out")).toBe(`s3://${bucket()}/benchmarks/b1`);
        expect(flag("--profile")).toBe("seed");
        expect(flag("--dataset")).toBe("hf:gretelai/synthetic_text_to_sql");
        expect(run).not.toContain("--select");
    });

    it("every flag the Job passes is one run.py declares", () => {
        const out = spawnSync(path.join(REPO_ROOT, ".venv", "bin", "python"), [path.join(REPO_ROOT, "loadtest", "run.py"), "--help"], { encoding: "utf8" });
        expect(out.status, out.stderr).toBe(0);
        const run = command().slice(command().indexOf("--") + 1);
        const flags = run.filter((a) => a.startsWith("--")).map((a) => a.split("=")[0]!);
        expect(flags.length).toBeGreaterThan(3);
        // Whole flags only: `--rate` must not pass because `--rates` exists.
        const escape = (f: string) => f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        for (const f of flags) expect(out.stdout, `run.py has no ${f}`).toMatch(new RegExp(`(^|[\\s\\[,])${escape(f)}([\\s=,\\]]|$)`, "m"));
    });

    it("may scale the LLM Deployments (and read them), in their namespace only", () => {
        const role = one(r, "kubernetes:rbac.authorization.k8s.io/v1:Role").inputs as Json;
        expect(role.metadata).toEqual({ name: "benchmark-campaign", namespace: "llm" });
        expect(role.rules).toEqual([
            { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list"] },
            { apiGroups: ["apps"], resources: ["deployments/scale"], verbs: ["patch"] },
        ]);
        const binding = one(r, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding").inputs as Json;
        expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "benchmark", namespace: "benchmark" }]);
        expect(ofType(r, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")).toEqual([]);
        expect(job().spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(90);
    });

    it("the image carries the campaign runner", () => {
        expect(fs.readFileSync(path.join(REPO_ROOT, "loadtest", "Dockerfile"), "utf8")).toMatch(/^COPY .*loadtest\/campaign\.py .*\.\/loadtest\/$/m);
    });

    it("may write (and list) only its run's prefix, and starts after its identity", () => {
        const policy = JSON.parse(String(one(r, "aws:iam/rolePolicy:RolePolicy", "mlserve-dev-benchmark-writer").inputs.policy));
        expect(policy.Statement[0]).toEqual({ Effect: "Allow", Action: ["s3:PutObject", "s3:AbortMultipartUpload"], Resource: `arn:aws:s3:::${bucket()}/benchmarks/b1/*` });
        expect(policy.Statement[1].Condition).toEqual({ StringLike: { "s3:prefix": ["benchmarks/b1/*"] } });
        const association = one(r, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "mlserve-dev-benchmark-writer");
        expect(dependsOn(r, one(r, "kubernetes:batch/v1:Job", "mlserve-dev-benchmark-job"), association)).toBe(true);
    });
});

describe("targets", () => {
    it("are the stack's own outputs, which the real run.py resolves to every endpoint", () => {
        const outputs = JSON.parse(targetsJson());
        expect(Object.keys(outputs.variants)).toEqual(["fp16", "eetq", "fp8", "int8", "nf4", "fp4", "vllm-fp16"]);
        const script = "import json,sys; sys.path.insert(0, 'loadtest'); import run; print(json.dumps([t.key for t in run.resolve_targets(json.load(sys.stdin), '')]))";
        const res = spawnSync(path.join(REPO_ROOT, ".venv", "bin", "python"), ["-c", script], { cwd: REPO_ROOT, input: targetsJson(), encoding: "utf8" });
        expect(res.status, res.stderr).toBe(0);
        const keys = JSON.parse(res.stdout) as string[];
        // The running variant, every KServe model and graph, the model API and the async gateway.
        expect(keys).toEqual(expect.arrayContaining(["variant:fp16", "kserve:sst2", "kserve:sst2-grpc", "graph:sentiment-ensemble", "modelApi", "asyncGateway"]));
        expect(keys).not.toContain("variant:eetq");
    });
});

describe("a single run (campaign: false)", () => {
    it("runs run.py on the selected targets", async () => {
        const single = await devWith({ campaign: false, targets: ["kserve:sst2", "modelApi"], profiles: ["rate", "sweep"] });
        expect(job(single).metadata.name).toBe("bench-b1");
        const cmd = command(single);
        expect(cmd.slice(0, 2)).toEqual(["python3", "/app/loadtest/run.py"]);
        expect(cmd[cmd.indexOf("--select") + 1]).toBe("kserve:sst2,modelApi");
        expect(cmd[cmd.indexOf("--profile") + 1]).toBe("rate,sweep");
        expect(ofType(single, "kubernetes:rbac.authorization.k8s.io/v1:Role")).toEqual([]);
    });
});

describe("objects and config", () => {
    it("every object the run adds validates against kubernetes-models", async () => {
        const added = kubernetesObjects(r.resources).filter((o) => ["Job", "Role", "RoleBinding", "ConfigMap", "ServiceAccount"].includes(String(o.kind)) && JSON.stringify(o).includes("benchmark"));
        expect(added.length).toBeGreaterThanOrEqual(5);
        const failures = (await Promise.all(added.map(async (o) => [o.kind, await validateBuiltin(o)] as const))).filter(([, e]) => e);
        expect(failures).toEqual([]);
    });

    const problems = (b: Record<string, unknown>) =>
        renderConfig({ "mlserve:benchmark": { enabled: true, ...b } }).then(
            () => [],
            (e: unknown) => (e as ConfigError).problems.map((p) => p.path),
        );

    it("needs a run id; campaign variants must exist; targets only without a campaign", async () => {
        expect(await problems({})).toEqual(["mlserve:benchmark.runId"]);
        expect(await problems({ runId: "b1", variants: ["fp16", "nope"] })).toEqual(["mlserve:benchmark.variants[1]"]);
        expect(await problems({ runId: "b1", targets: ["modelApi"] })).toEqual(["mlserve:benchmark.targets"]);
        expect(await problems({ runId: "b1", campaign: false, targets: ["nope"] })).toEqual(["mlserve:benchmark.targets[0]"]);
    });

    it("a campaign refuses to walk a variant KEDA keeps running (it would share the GPU with the one measured)", async () => {
        const autoscaled = { "mlserve:variants": [{ name: "a", replicas: 1, autoscaling: { enabled: true } }, { name: "b" }], "mlserve:gpuNodes": { maxSize: 2 } };
        const ps = await renderConfig({ ...autoscaled, "mlserve:benchmark": { enabled: true, runId: "b1" } }).then(() => [], (e: unknown) => (e as ConfigError).problems);
        expect(ps).toEqual([expect.objectContaining({ path: "mlserve:variants[0].autoscaling.enabled", message: expect.stringMatching(/KEDA keeps it at 1 replica/) })]);
        // Left out of the campaign, it is fine.
        await expect(renderConfig({ ...autoscaled, "mlserve:benchmark": { enabled: true, runId: "b1", variants: ["b"] } })).resolves.toBeDefined();
    });
});
