/**
 * The node-pool capacity check: the allocatable formula, scheduling rules and
 * sums on small hand-made inputs (expected values computed here), the pods
 * operators create from custom resources, and the real dev and prod plans.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import {
    allocatable,
    capacityFindings,
    capacityReport,
    capacityTable,
    kubeReservedCpuMilli,
    parseCpu,
    parseMemory,
    schedulable,
    type PoolSpec,
    type WorkloadSpec,
} from "../../infra/plan/capacity";
import { containerInsightsWorkloads, nodeShape } from "../../infra/plan/capacityData";
import { planCapacity } from "../../infra/plan/capacityPlan";
import { applyKnativeServing, knativeStartReplicas, podRequest, poolsFromPlan, workloadsFromObjects, type OperatorSettings } from "../../infra/plan/capacityWorkloads";
import { renderCharts } from "../../infra/plan/helm";
import { REPO_ROOT } from "../../infra/plan/render";
import { renderStackFile, type RecordedResource, type Rendering } from "../harness/render";

const GPU_TAINT = { key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" };
const GPU_TOLERATION = { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" };

function pool(over: Partial<PoolSpec> & Pick<PoolSpec, "name">): PoolSpec {
    return { instanceType: "m6i.xlarge", desired: 2, max: 3, labels: { "mlserve.io/node-pool": over.name }, taints: [], gpusPerNode: 0, shape: { vcpus: 4, memoryGiB: 16, maxPods: 58 }, ...over };
}

function w(name: string, over: Partial<WorkloadSpec> = {}): WorkloadSpec {
    return { name, kind: "Deployment", daemon: false, replicas: 1, request: { cpuMilli: 100, memoryMiB: 100 }, gpus: 0, scheduling: {}, ...over };
}

describe("quantities", () => {
    it("parses CPU in millicores and memory in MiB", () => {
        expect([parseCpu("250m"), parseCpu("1"), parseCpu(0.5), parseCpu(undefined)]).toEqual([250, 1000, 500, 0]);
        expect([parseMemory("128Mi"), parseMemory("1Gi"), parseMemory("1024Ki"), parseMemory("1000M"), parseMemory(1048576)]).toEqual([128, 1024, 1, 1e9 / 1048576, 1]);
        expect(() => parseMemory("lots")).toThrow(/not a memory quantity/);
    });
});

describe("allocatable, as EKS AL2023 computes it", () => {
    it("reserves 6% of the first core, 1% of the second, 0.5% of cores 3-4 and 0.25% beyond", () => {
        expect(kubeReservedCpuMilli(1)).toBe(60);
        expect(kubeReservedCpuMilli(2)).toBe(60 + 10);
        expect(kubeReservedCpuMilli(4)).toBe(60 + 10 + 2 * 5);
        // 16 vCPUs: 12 cores beyond the fourth at 2.5m each.
        expect(kubeReservedCpuMilli(16)).toBe(60 + 10 + 10 + 12 * 2.5);
    });

    it("subtracts kube-reserved memory (11Mi per pod + 255Mi) and the 100Mi eviction threshold from the usable memory", () => {
        const a = allocatable({ vcpus: 4, memoryGiB: 16, maxPods: 58 });
        expect(a.cpuMilli).toBe(4000 - 80);
        expect(a.memoryMiB).toBe(Math.floor(16 * 1024 * 0.925 - (11 * 58 + 255) - 100));
        expect(a.pods).toBe(58);
    });

    it("knows the node shapes of the pinned pools, and says when it does not", () => {
        expect(nodeShape("m6i.large")).toEqual({ vcpus: 2, memoryGiB: 8, maxPods: 29 });
        expect(nodeShape("c6i.xlarge")).toEqual({ vcpus: 4, memoryGiB: 8, maxPods: 58 });
        expect(nodeShape("g5.4xlarge")).toEqual({ vcpus: 16, memoryGiB: 64, maxPods: 234 });
        expect(nodeShape("x9.huge")).toBeUndefined();
    });
});

describe("scheduling", () => {
    const gpuLabels = { "mlserve.io/node-pool": "gpu", "node.kubernetes.io/instance-type": "g5.4xlarge" };

    it("keeps pods without the GPU toleration off tainted nodes", () => {
        expect(schedulable({}, gpuLabels, [GPU_TAINT])).toBe(false);
        expect(schedulable({ tolerations: [GPU_TOLERATION] }, gpuLabels, [GPU_TAINT])).toBe(true);
        expect(schedulable({ tolerations: [{ operator: "Exists" }] }, gpuLabels, [GPU_TAINT])).toBe(true);
        expect(schedulable({ tolerations: [{ key: "nvidia.com/gpu", operator: "Equal", value: "false" }] }, gpuLabels, [GPU_TAINT])).toBe(false);
    });

    it("honours nodeSelector and required node affinity (In, NotIn, Exists)", () => {
        expect(schedulable({ nodeSelector: { "mlserve.io/node-pool": "system" } }, gpuLabels, [])).toBe(false);
        const affinity = (operator: string, values?: string[]) => ({
            nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "node.kubernetes.io/instance-type", operator, values }] }] } },
        });
        expect(schedulable({ affinity: affinity("In", ["g5.4xlarge"]) }, gpuLabels, [])).toBe(true);
        expect(schedulable({ affinity: affinity("NotIn", ["g5.4xlarge"]) }, gpuLabels, [])).toBe(false);
        expect(schedulable({ affinity: affinity("Exists") }, gpuLabels, [])).toBe(true);
        expect(schedulable({ affinity: affinity("In", ["m6i.large"]) }, gpuLabels, [])).toBe(false);
    });
});

describe("pool sums", () => {
    const system = pool({ name: "system" });
    const gpu = pool({ name: "gpu", instanceType: "g5.4xlarge", desired: 1, max: 2, taints: [GPU_TAINT], gpusPerNode: 1, shape: { vcpus: 16, memoryGiB: 64, maxPods: 234 } });
    const perSystemNode = allocatable(system.shape!);

    it("counts DaemonSets once per node of every pool they fit, and other pods once, where they belong", () => {
        const report = capacityReport(
            [
                w("api", { replicas: 3, request: { cpuMilli: 500, memoryMiB: 1024 } }),
                w("agent", { daemon: true, request: { cpuMilli: 50, memoryMiB: 64 }, scheduling: { tolerations: [{ operator: "Exists" }] } }),
                w("llm", { request: { cpuMilli: 4000, memoryMiB: 24576 }, gpus: 1, scheduling: { tolerations: [GPU_TOLERATION] } }),
                w("parked", { replicas: 0, request: { cpuMilli: 9000, memoryMiB: 1 } }),
            ],
            [system, gpu],
        );
        const [s, g] = report.pools;
        expect(s!.atDesired!.requested).toEqual({ cpuMilli: 3 * 500 + 2 * 50, memoryMiB: 3 * 1024 + 2 * 64, pods: 3 + 2, gpus: 0 });
        expect(s!.atMax!.requested).toEqual({ cpuMilli: 3 * 500 + 3 * 50, memoryMiB: 3 * 1024 + 3 * 64, pods: 3 + 3, gpus: 0 });
        expect(s!.atMax!.allocatable).toEqual({ cpuMilli: 3 * perSystemNode.cpuMilli, memoryMiB: 3 * perSystemNode.memoryMiB, pods: 3 * 58, gpus: 0 });
        expect(g!.atDesired!.requested).toEqual({ cpuMilli: 4000 + 50, memoryMiB: 24576 + 64, pods: 2, gpus: 1 });
        expect(s!.consumers.map((c) => c.name)).toEqual(["api", "agent"]);
        expect(capacityFindings(report)).toEqual({ errors: [], warnings: [] });
    });

    it("warns when the desired size is too small and fails when even the max size is, naming the pool and the biggest consumers", () => {
        const cpu = perSystemNode.cpuMilli;
        const overDesired = capacityFindings(capacityReport([w("big", { replicas: 5, request: { cpuMilli: Math.ceil((2.5 * cpu) / 5), memoryMiB: 10 } })], [system]));
        expect(overDesired.errors).toEqual([]);
        expect(overDesired.warnings).toHaveLength(1);
        expect(overDesired.warnings[0]).toMatch(/^pool system \(m6i\.xlarge\) needs more than its desired size 2: CPU .*Biggest consumers: big /);

        const overMax = capacityFindings(capacityReport([w("huge", { replicas: 4, request: { cpuMilli: cpu, memoryMiB: 10 } }), w("small")], [system]));
        expect(overMax.errors).toHaveLength(1);
        expect(overMax.errors[0]).toMatch(/^pool system \(m6i\.xlarge\) is oversubscribed even at its max size 3: CPU .* Biggest consumers: huge 15\.68 CPU\/40Mi, small 100m CPU\/100Mi/);
    });

    it("counts pods against the node's max pods, and GPUs against the pool's GPUs", () => {
        const pods = capacityFindings(capacityReport([w("many", { replicas: 3 * 58 + 1, request: { cpuMilli: 0, memoryMiB: 0 } })], [system]));
        expect(pods.errors[0]).toMatch(/pods 175 > 174/);
        const gpus = capacityFindings(capacityReport([w("llm", { replicas: 3, gpus: 1, request: { cpuMilli: 100, memoryMiB: 100 }, scheduling: { tolerations: [GPU_TOLERATION] } })], [system, gpu]));
        expect(gpus.errors[0]).toMatch(/^pool gpu .* GPUs 3 > 2/);
    });

    it("fails for a pod larger than one node, and for pods no pool can take", () => {
        const f = capacityFindings(capacityReport([w("whale", { request: { cpuMilli: 5000, memoryMiB: 1 } }), w("lost", { scheduling: { nodeSelector: { pool: "nowhere" } } })], [system]));
        expect(f.errors).toEqual([
            expect.stringMatching(/^pool system \(m6i\.xlarge\): a pod is larger than one node's allocatable .*whale \(5 CPU/),
            "Deployment lost: no node pool can take its pods (node selector, affinity or taints exclude every pool)",
        ]);
    });

    it("prints one line per pool size with requested/allocatable and a verdict", () => {
        const table = capacityTable(capacityReport([w("api", { replicas: 2, request: { cpuMilli: 500, memoryMiB: 1024 } })], [system]));
        expect(table).toContain("system: m6i.xlarge, allocatable per node 3.92 CPU");
        expect(table).toMatch(/at desired\s+2 nodes\s+CPU 1\/7\.84\s+13%.*ok/);
        expect(table).toMatch(/at max\s+3 nodes/);
    });
});

describe("pods that controllers and operators create", () => {
    const settings: OperatorSettings = { kserve: { predictor: { cpu: "1", memory: "2Gi" }, router: { cpu: "100m", memory: "100Mi" } }, queueProxy: { cpu: "25m" } };
    const deploy = (name: string, replicas?: number) => ({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace: "a" },
        spec: { replicas, template: { spec: { containers: [{ name: "c", resources: { requests: { cpu: "100m", memory: "64Mi" } } }] } } },
    });
    const by = (ws: WorkloadSpec[]) => Object.fromEntries(ws.map((x) => [x.name, x]));

    it("an effective pod request is the larger of the containers' sum and the largest init container", () => {
        expect(
            podRequest({
                containers: [{ resources: { requests: { cpu: "100m", memory: "64Mi" } } }, { resources: { limits: { cpu: "200m", memory: "1Gi" } } }],
                initContainers: [{ resources: { requests: { cpu: "500m", memory: "10Mi" } } }],
            }),
        ).toEqual({ cpuMilli: 500, memoryMiB: 64 + 1024, gpus: 0 });
    });

    it("uses an HPA's minReplicas and a KEDA ScaledObject's minReplicaCount, Jobs at their parallelism, and skips helm test pods", () => {
        const ws = by(
            workloadsFromObjects(
                [
                    deploy("with-hpa", 5),
                    { kind: "HorizontalPodAutoscaler", metadata: { name: "h", namespace: "a" }, spec: { scaleTargetRef: { kind: "Deployment", name: "with-hpa" }, minReplicas: 2 } },
                    deploy("with-keda"),
                    { kind: "ScaledObject", metadata: { name: "s", namespace: "a" }, spec: { scaleTargetRef: { name: "with-keda" } } },
                    deploy("plain"),
                    { kind: "Job", metadata: { name: "job" }, spec: { parallelism: 3, template: { spec: { containers: [] } } } },
                    { kind: "Job", metadata: { name: "suspended" }, spec: { suspend: true, parallelism: 2, template: { spec: { containers: [] } } } },
                    { kind: "Pod", metadata: { name: "t", annotations: { "helm.sh/hook": "test" } }, spec: { containers: [] } },
                ].map((object) => ({ object, source: "test" })),
                settings,
            ),
        );
        expect(Object.keys(ws).sort()).toEqual(["job", "plain", "suspended", "with-hpa", "with-keda"]);
        // A suspended Job (parked benchmark or optimization run) runs no pod.
        expect([ws["with-hpa"]!.replicas, ws["with-keda"]!.replicas, ws.plain!.replicas, ws.job!.replicas, ws.suspended!.replicas]).toEqual([2, 0, 1, 3, 0]);
    });

    it("a Knative revision starts at its initial scale: 1 unless zero initial scale is both allowed and asked for, never below minReplicas", () => {
        const zero = { "autoscaling.knative.dev/initial-scale": "0" };
        expect(knativeStartReplicas(0, undefined, {})).toBe(1);
        expect(knativeStartReplicas(0, zero, {})).toBe(1);
        expect(knativeStartReplicas(0, zero, { "allow-zero-initial-scale": "true" })).toBe(0);
        expect(knativeStartReplicas(0, undefined, { "allow-zero-initial-scale": "true" })).toBe(1);
        expect(knativeStartReplicas(0, undefined, { "allow-zero-initial-scale": "true", "initial-scale": "0" })).toBe(0);
        expect(knativeStartReplicas(2, zero, { "allow-zero-initial-scale": "true" })).toBe(2);
        expect(knativeStartReplicas(1, { "autoscaling.knative.dev/initial-scale": "3" }, {})).toBe(3);
    });

    it("an InferenceService in Knative mode gets queue-proxy, KServe's default resources when it sets none, and minReplicas (default 1)", () => {
        const isvc = (name: string, minReplicas: number | undefined, resources?: unknown) => ({
            apiVersion: "serving.kserve.io/v1beta1",
            kind: "InferenceService",
            metadata: { name, annotations: { "serving.kserve.io/deploymentMode": "Knative", "autoscaling.knative.dev/initial-scale": "0" } },
            spec: { predictor: { minReplicas, tolerations: [GPU_TOLERATION], model: { modelFormat: { name: "huggingface" }, resources } } },
        });
        const ws = by(
            workloadsFromObjects(
                [isvc("zero", 0, { requests: { cpu: "2", memory: "4Gi" } }), isvc("one", 1, { requests: { cpu: "2", memory: "4Gi" }, limits: { "nvidia.com/gpu": 1 } }), isvc("dflt", undefined)].map((object) => ({ object, source: "test" })),
                { ...settings, knativeAutoscaler: { "allow-zero-initial-scale": "true" } },
            ),
        );
        expect(ws["zero-predictor"]!.replicas).toBe(0);
        expect(ws["one-predictor"]).toMatchObject({ replicas: 1, gpus: 1, request: { cpuMilli: 2000 + 25, memoryMiB: 4096 }, scheduling: { tolerations: [GPU_TOLERATION] } });
        expect(ws["dflt-predictor"]).toMatchObject({ replicas: 1, request: { cpuMilli: 1000 + 25, memoryMiB: 2048 } });
    });

    it("an InferenceGraph runs KServe's router; a Prometheus runs prometheus plus the operator's config-reloader", () => {
        const ws = by(
            workloadsFromObjects(
                [
                    { kind: "InferenceGraph", metadata: { name: "g" }, spec: { minReplicas: 1, nodes: {} } },
                    { kind: "Prometheus", metadata: { name: "p" }, spec: { replicas: 2, resources: { requests: { cpu: "250m", memory: "1Gi" } } } },
                ].map((object) => ({ object, source: "test" })),
                settings,
            ),
        );
        expect(ws["g-router"]).toMatchObject({ replicas: 1, request: { cpuMilli: 100 + 25, memoryMiB: 100 } });
        expect(ws["prometheus-p"]).toMatchObject({ replicas: 2, request: { cpuMilli: 250 + 10, memoryMiB: 1024 + 50 } });
    });

    it("applies a KnativeServing's high-availability replicas and deployment overrides as the operator does", () => {
        const manifests = [deploy("controller", 1), deploy("activator"), { kind: "HorizontalPodAutoscaler", metadata: { name: "activator" }, spec: { minReplicas: 1 } }];
        const applied = applyKnativeServing(manifests, {
            spec: { "high-availability": { replicas: 2 }, deployments: [{ name: "activator", resources: [{ container: "c", requests: { cpu: "50m" } }] }] },
        }) as Array<{ kind: string; spec: { replicas?: number; minReplicas?: number; template?: { spec: { containers: Array<{ resources: { requests: Record<string, string> } }> } } } }>;
        expect(applied[0]!.spec.replicas).toBe(2);
        expect(applied[1]!.spec.template!.spec.containers[0]!.resources.requests).toEqual({ cpu: "50m", memory: "64Mi" });
        expect(applied[2]!.spec.minReplicas).toBe(2);
    });

    it("Container Insights: its DCGM exporter and Fluent Bit can be switched off through configurationValues", () => {
        expect(containerInsightsWorkloads(undefined).map((x) => x.name)).toEqual(expect.arrayContaining(["cloudwatch-agent", "fluent-bit", "dcgm-exporter (Container Insights)"]));
        expect(containerInsightsWorkloads(JSON.stringify({ dcgmExporter: { enabled: false } })).map((x) => x.name)).not.toContain("dcgm-exporter (Container Insights)");
    });

    it("reads pools from the recorded node groups, EKS taint effects in Kubernetes form", () => {
        const ng = {
            type: "aws:eks/nodeGroup:NodeGroup",
            name: "c-gpu",
            inputs: { instanceTypes: ["g5.xlarge"], scalingConfig: { desiredSize: 0, maxSize: 2 }, labels: { "mlserve.io/node-pool": "gpu" }, taints: [{ key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" }] },
        } as unknown as RecordedResource;
        expect(poolsFromPlan([ng])).toEqual([
            expect.objectContaining({ name: "gpu", instanceType: "g5.xlarge", desired: 0, max: 2, gpusPerNode: 1, taints: [GPU_TAINT], shape: { vcpus: 4, memoryGiB: 16, maxPods: 58 } }),
        ]);
    });
});

describe.each(["dev", "prod"])("the %s stack's pools (charts rendered with helm)", (stack) => {
    let rendering: Rendering;
    let check: ReturnType<typeof planCapacity>;
    beforeAll(async () => {
        rendering = await renderStackFile(stack);
        check = planCapacity(rendering.resources, renderCharts(rendering, { kubeVersion: rendering.config.cluster.kubernetesVersion }));
    }, 120_000);

    it("fit at their desired size: no capacity error and no warning", () => {
        expect(check.errors).toEqual([]);
        expect(check.warnings).toEqual([]);
    });

    it("fit parked on parkedSystemNodes system nodes and no GPU node, which is what the parked cost counts", async () => {
        const parked = await renderStackFile(stack, { parked: true });
        const check = planCapacity(parked.resources, renderCharts(parked, { kubeVersion: parked.config.cluster.kubernetesVersion }));
        const system = check.report.pools.find((p) => p.pool.name === "system")!;
        expect(system.pool.desired).toBe(1);
        expect(check.warnings).toEqual([]);
        expect(check.report.pools.find((p) => p.pool.name === "gpu")!.pool.desired).toBe(0);
    }, 120_000);

    it("count what the operators and EKS run, not only our objects", () => {
        const system = check.report.pools.find((p) => p.pool.name === "system")!;
        const sources = new Set(system.consumers.map((c) => c.source));
        for (const s of ["program", "Knative operator", "EKS add-on coredns", "helm kube-prometheus-stack"]) expect(sources).toContain(s);
        expect(system.consumers.map((c) => c.name)).toEqual(expect.arrayContaining(["activator", "3scale-kourier-gateway", "coredns", "prometheus-kps-prometheus", "cloudwatch-agent"]));
        const gpu = check.report.pools.find((p) => p.pool.name === "gpu")!;
        expect(gpu.consumers.map((c) => c.name)).toEqual(expect.arrayContaining(["nvidia-device-plugin", "llm-fp16"]));
        expect(gpu.consumers.map((c) => c.name)).not.toContain("coredns");
    });

    it("sets a CPU and memory request on every chart workload that lands on a pool", () => {
        const zero = check.report.pools.flatMap((p) => p.consumers.filter((c) => c.pods > 0 && c.kind !== "Job" && (c.cpuMilli === 0 || c.memoryMiB === 0) && c.source?.startsWith("helm")).map((c) => `${p.pool.name}: ${c.name}`));
        expect(zero).toEqual([]);
    });
});

describe("npm run plan with a pool too small for what runs on it", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mlserve-capacity-"));
    const TSX = path.join(REPO_ROOT, "node_modules", "tsx", "dist", "cli.mjs");

    it("fails with exit code 2, naming the pool and its biggest consumers, and writes no plan", () => {
        fs.writeFileSync(
            path.join(tmp, "Pulumi.tiny.yaml"),
            stringify({ config: { "aws:region": "us-east-1", "mlserve:lifecycle": { owner: "tester" }, "mlserve:systemNodes": { instanceType: "m6i.large", minSize: 1, desiredSize: 1, maxSize: 1 } } }),
        );
        const r = spawnSync(process.execPath, [TSX, path.join(REPO_ROOT, "infra/plan/cli.ts"), "--stack", "tiny", "--dir", tmp, "--out", path.join(tmp, "out")], {
            cwd: REPO_ROOT,
            encoding: "utf8",
            timeout: 120_000,
        });
        expect(r.status, r.stderr).toBe(2);
        expect(r.stderr).toMatch(/pool system \(m6i\.large\) is oversubscribed even at its max size 1: CPU .* Biggest consumers: /);
        expect(r.stderr).toContain("at max");
        expect(fs.existsSync(path.join(tmp, "out", "inventory.json"))).toBe(false);
    }, 120_000);
    it("warns when what stays up while parked does not fit on the parked system nodes (the parked cost would be too low)", () => {
        fs.writeFileSync(
            path.join(tmp, "Pulumi.small.yaml"),
            stringify({
                config: {
                    "aws:region": "us-east-1",
                    "mlserve:lifecycle": { owner: "tester", parkedSystemNodes: 1 },
                    "mlserve:systemNodes": { instanceType: "m6i.large", minSize: 1, desiredSize: 4, maxSize: 4 },
                },
            }),
        );
        const r = spawnSync(process.execPath, [TSX, path.join(REPO_ROOT, "infra/plan/cli.ts"), "--stack", "small", "--dir", tmp, "--out", path.join(tmp, "out-small")], {
            cwd: REPO_ROOT,
            encoding: "utf8",
            timeout: 120_000,
        });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/warning: parked: pool system \(m6i\.large\) needs more than its desired size 1: CPU [\d.]+ > 1\.93.*The parked cost above counts only the desired size\./);
        expect(r.stdout).not.toMatch(/warning: pool system/);
    }, 120_000);
});
