/**
 * `npm run plan` end to end, as a newcomer runs it: a real subprocess, real
 * stack files, files written to a temporary directory.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { REPO_ROOT } from "../../infra/plan/render";

const TSX = path.join(REPO_ROOT, "node_modules", "tsx", "dist", "cli.mjs");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mlserve-plan-"));

function plan(...args: string[]) {
    const r = spawnSync(process.execPath, [TSX, path.join(REPO_ROOT, "infra/plan/cli.ts"), ...args], {
        cwd: REPO_ROOT,
        encoding: "utf8",
        timeout: 60_000,
        // No credentials of any kind: the plan must not need them.
        env: { PATH: process.env.PATH ?? "", HOME: tmp },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("npm run plan -- --stack dev", () => {
    const out = path.join(tmp, "dev");
    let result: ReturnType<typeof plan>;
    beforeAll(() => {
        result = plan("--stack", "dev", "--out", out);
    });

    it("exits 0 and prints the tree, endpoints, cost and the offline notice", () => {
        expect(result.stderr).toBe("");
        expect(result.code).toBe(0);
        for (const text of [
            "OFFLINE ESTIMATE",
            "placeholders",
            "mlserve:network:Vpc",
            "eks:index:Cluster  mlserve-dev (remote component)",
            "aws:eks/nodeGroup:NodeGroup  mlserve-dev-system",
            'aws:eks/nodeGroup:NodeGroup  mlserve-dev-gpu  ["g5.4xlarge"] AL2023_x86_64_NVIDIA',
            "chart nvidia-device-plugin",
            "Stack outputs (endpoints):",
            "kubeconfig: [secret]",
            "EC2 g5.4xlarge",
            "TOTAL",
            "Running vs parked:",
        ]) {
            expect(result.stdout).toContain(text);
        }
    });

    it("writes cost.json with the GPU node at its hourly price and totals that add up", () => {
        const cost = JSON.parse(fs.readFileSync(path.join(out, "cost.json"), "utf8"));
        expect(Object.keys(cost)).toEqual(expect.arrayContaining(["hourlyUsd", "monthlyUsd", "pricesAsOf", "items"]));
        const gpu = cost.items.find((i: { name: string }) => i.name.startsWith("EC2 g5.4xlarge"));
        expect(gpu).toMatchObject({ quantity: 1, unitHourlyUsd: 1.624, hourlyUsd: 1.624 });
        const sum = cost.items.reduce((s: number, i: { hourlyUsd: number }) => s + i.hourlyUsd, 0);
        expect(cost.hourlyUsd).toBeCloseTo(sum, 4);
        expect(cost.monthlyUsd).toBeCloseTo(cost.hourlyUsd * 730, 1);
        for (const item of cost.items) expect(Object.keys(item).sort()).toEqual(["hourlyUsd", "name", "quantity", "unitHourlyUsd"]);
        // The park switch's other state, rendered for real: EKS, one m6i.xlarge system node, NAT, keys and volumes.
        expect(cost).toMatchObject({ parked: false, runningHourlyUsd: cost.hourlyUsd });
        expect(cost.parkedHourlyUsd).toBeGreaterThanOrEqual(0.337);
        expect(cost.parkedHourlyUsd).toBeLessThanOrEqual(0.36);
    });

    it("writes inventory.json with every resource (type, name, parent, inputs) and no secret values", () => {
        const text = fs.readFileSync(path.join(out, "inventory.json"), "utf8");
        const inv = JSON.parse(text);
        expect(inv.resources.length).toBeGreaterThan(50);
        for (const r of inv.resources) expect(Object.keys(r)).toEqual(expect.arrayContaining(["type", "name", "parent", "inputs"]));
        // The kubeconfig carries the cluster endpoint and token command: it must only appear redacted.
        expect(text).not.toContain("get-token");
        expect(text).toContain("[secret]");
    });

    it("writes manifests.yaml as multi-document YAML of Kubernetes objects", () => {
        const docs = parseAllDocuments(fs.readFileSync(path.join(out, "manifests.yaml"), "utf8")).map((d) => d.toJS());
        expect(docs.length).toBeGreaterThan(0);
        for (const d of docs) expect(d).toMatchObject({ apiVersion: expect.any(String), kind: expect.any(String), metadata: { name: expect.any(String) } });
        expect(docs.map((d) => d.kind)).toContain("StorageClass");
    });
});

describe("npm run plan -- --stack prod", () => {
    it("differs from dev as a production stack should: per-AZ NAT, more nodes, private API endpoint", () => {
        const out = path.join(tmp, "prod");
        const r = plan("--stack", "prod", "--out", out);
        expect(r.code).toBe(0);
        const inv = JSON.parse(fs.readFileSync(path.join(out, "inventory.json"), "utf8"));
        const ofType = (t: string) => inv.resources.filter((x: { type: string }) => x.type === t);
        expect(ofType("aws:ec2/natGateway:NatGateway")).toHaveLength(3);
        const cluster = ofType("eks:index:Cluster")[0];
        expect(cluster.inputs).toMatchObject({ endpointPublicAccess: false, endpointPrivateAccess: true, deletionProtection: true });
        const gpu = ofType("aws:eks/nodeGroup:NodeGroup").find((n: { name: string }) => n.name.endsWith("-gpu"));
        expect(gpu.inputs.scalingConfig.desiredSize).toBeGreaterThan(1);
        const cost = JSON.parse(fs.readFileSync(path.join(out, "cost.json"), "utf8"));
        const devCost = JSON.parse(fs.readFileSync(path.join(tmp, "dev", "cost.json"), "utf8"));
        expect(cost.hourlyUsd).toBeGreaterThan(devCost.hourlyUsd);
    });
});

describe("plan errors", () => {
    it("bad config: exit 2, one message naming every bad key, no stack trace, no files written", () => {
        const dir = path.join(tmp, "bad");
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(
            path.join(dir, "Pulumi.broken.yaml"),
            "config:\n  aws:region: us-east-1\n  mlserve:gpuNodes:\n    instanceType: m5.large\n    minSize: 4\n    maxSise: 2\n  mlserve:cluser: {}\n",
        );
        const out = path.join(tmp, "bad-out");
        const r = plan("--stack", "broken", "--dir", dir, "--out", out);
        expect(r.code).toBe(2);
        expect(r.stdout).toBe("");
        expect(r.stderr).toMatch(/^Invalid stack configuration in Pulumi\.broken\.yaml: \d+ problems\./);
        expect(r.stderr).toContain("mlserve:gpuNodes.instanceType");
        expect(r.stderr).toContain('mlserve:gpuNodes.maxSise: unknown key; did you mean "maxSize"?');
        expect(r.stderr).toContain('mlserve:cluser: got {}; unknown key; did you mean "cluster"?');
        expect(r.stderr).not.toMatch(/\n\s+at /);
        expect(fs.existsSync(out)).toBe(false);
    });

    it("unknown stack: exit 2 and the list of stacks", () => {
        const r = plan("--stack", "staging");
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/no Pulumi\.staging\.yaml .*stacks here: dev, prod/);
    });

    it("missing --stack: exit 2 with usage", () => {
        const r = plan();
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/--stack is required/);
        expect(r.stderr).toMatch(/usage: npm run plan/);
    });

    it("the committed stack files are valid YAML with only namespaced keys", () => {
        for (const s of ["dev", "prod"]) {
            const doc = parse(fs.readFileSync(path.join(REPO_ROOT, `Pulumi.${s}.yaml`), "utf8"));
            for (const key of Object.keys(doc.config)) expect(key).toMatch(/^(mlserve|aws):/);
        }
    });
});
