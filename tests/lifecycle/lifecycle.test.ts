import { beforeAll, describe, expect, it } from "vitest";
import { alertTopicPolicy } from "../../components/platform/guardrails/guardrails";
import { costDiffMarkdown } from "../../infra/cost/diff";
import { estimateCost } from "../../infra/cost/estimate";
import { decide, runReaper, type ReaperBackend, type StackState } from "../../infra/lifecycle/reaper";
import { destroyOrder } from "../../infra/lifecycle/teardown";
import { parkedConfigProblems, parseStackConfig } from "../../infra/config/load";
import type { StackConfig } from "../../infra/config/schema";
import { readStackFile, withParked } from "../../infra/plan/stackFile";
import { renderStack, REPO_ROOT } from "../../infra/plan/render";
import { one, ofType, renderConfig, type RecordedResource, type Rendering } from "../harness/render";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- deep reads of rendered specs
type Json = Record<string, any>;

const devFile = readStackFile(REPO_ROOT, "dev");
let running: Rendering;
let parked: Rendering;
beforeAll(async () => {
    running = await renderStack({ stack: "dev", stackFile: devFile });
    parked = await renderStack({ stack: "dev", stackFile: withParked(devFile, true) });
});

const nodeGroup = (r: Rendering, pool: string) => one(r, "aws:eks/nodeGroup:NodeGroup", `mlserve-dev-${pool}`).inputs as Json;

/** A prod-like stack whose GPU model runs in KServe Standard (raw Deployment + HPA) mode, which cannot scale to zero. */
const standardGpuModel = {
    "mlserve:addons": { kserve: { deploymentMode: "Standard" }, knative: { enabled: false } },
    "mlserve:kserveModels": [
        { name: "gpu-clf", storageUri: "hf://distilbert/distilbert-base-uncased-finetuned-sst-2-english", gpu: true, minReplicas: 1, scaleMetric: "cpu" },
        { name: "cpu-clf", storageUri: "hf://distilbert/distilbert-base-uncased-finetuned-sst-2-english", minReplicas: 1, scaleMetric: "cpu" },
    ],
    "mlserve:kserveGraphs": [],
    "mlserve:gpuNodes": { minSize: 1, desiredSize: 2, maxSize: 4 },
};

describe("parking produces a valid stack", () => {
    it("a Standard-mode GPU model is left out while parked (it cannot scale to zero) and named in a warning; CPU models stay", async () => {
        const r = await renderConfig({ ...standardGpuModel, "mlserve:lifecycle": { owner: "ops", parked: true } }, "prodlike");
        const isvcs = ofType(r, "kubernetes:serving.kserve.io/v1beta1:InferenceService").map((x) => (x.inputs.metadata as Json).name);
        expect(isvcs).toEqual(["cpu-clf"]);
        expect(r.warnings.join("\n")).toMatch(/gpu-clf.*Standard.*not deployed while parked/);
        const running = await renderConfig({ ...standardGpuModel, "mlserve:lifecycle": { owner: "ops" } }, "prodlike");
        expect(ofType(running, "kubernetes:serving.kserve.io/v1beta1:InferenceService")).toHaveLength(2);
    });

    it("the parked form of every config is validated with the same rules, at load time, even while running", () => {
        const raw: Record<string, string> = { "aws:region": "us-east-1" };
        for (const [k, v] of Object.entries({ ...standardGpuModel, "mlserve:lifecycle": { owner: "ops" } })) raw[k] = JSON.stringify(v);
        // The parking of an earlier version: scale everything on GPU to zero on the KPA class.
        const naivePark = (c: StackConfig): StackConfig => ({ ...c, kserveModels: c.kserveModels.map((m) => (m.gpu ? { ...m, minReplicas: 0, scaleMetric: "concurrency" as const } : m)) });
        const { config } = parseStackConfig(raw, { project: "mlserve", stack: "prodlike", source: "test" });
        const problems = parkedConfigProblems(config, naivePark);
        expect(problems.map((p) => p.path).sort()).toEqual(["mlserve:kserveModels[0].minReplicas", "mlserve:kserveModels[0].scaleMetric"]);
        expect(problems[0]!.message).toMatch(/^when parked \(mlserve:lifecycle\.parked: true\): /);
        expect(parkedConfigProblems(config)).toEqual([]);
    });

    it("the prod stack parks too: no GPU replicas, GPU node group at 0, every object valid", async () => {
        const prod = readStackFile(REPO_ROOT, "prod");
        const r = await renderStack({ stack: "prod", stackFile: withParked(prod, true) });
        expect((one(r, "aws:eks/nodeGroup:NodeGroup", "mlserve-prod-gpu").inputs as Json).scalingConfig).toMatchObject({ minSize: 0, desiredSize: 0 });
        const gpuReplicas = ofType(r, "kubernetes:apps/v1:Deployment")
            .filter((d) => (d.inputs as Json).spec.template.spec.containers.some((c: Json) => c.resources?.limits?.["nvidia.com/gpu"]))
            .map((d) => (d.inputs as Json).spec.replicas);
        expect(gpuReplicas.length).toBeGreaterThan(0);
        expect(gpuReplicas.every((n) => n === 0)).toBe(true);
        expect(ofType(r, "kubernetes:keda.sh/v1alpha1:ScaledObject").filter((s) => s.name.startsWith("llm-"))).toEqual([]);
    });
});

describe("park mode", () => {
    it("a parked dev stack renders no GPU replicas and a GPU node group with desired 0", () => {
        expect(nodeGroup(parked, "gpu").scalingConfig).toMatchObject({ minSize: 0, desiredSize: 0 });
        const gpuPods = ofType(parked, "kubernetes:apps/v1:Deployment").filter((d) => (d.inputs as Json).spec.template.spec.containers.some((c: Json) => c.resources?.limits?.["nvidia.com/gpu"]));
        expect(gpuPods.length).toBeGreaterThan(0);
        for (const d of gpuPods) expect((d.inputs as Json).spec.replicas).toBe(0);
        // Only the async worker's scaler stays (it scales a CPU worker to zero on an empty queue).
        expect(ofType(parked, "kubernetes:keda.sh/v1alpha1:ScaledObject").map((s) => s.name)).toEqual(["mlserve-dev-async-worker-scaler"]);
        // Jobs are suspended while parked (a campaign would scale variants up and bring the GPU node back).
        const suspend = (r: Rendering) => ofType(r, "kubernetes:batch/v1:Job").map((j) => [j.name, (j.inputs as Json).spec.suspend]);
        expect(suspend(running)).toEqual([["mlserve-dev-benchmark-job", false]]);
        expect(suspend(parked)).toEqual([["mlserve-dev-benchmark-job", true]]);
    });

    it("keeps the cluster, add-ons and data; shrinks system nodes; parks the model API without its HPA", () => {
        expect(ofType(parked, "eks:index:Cluster")).toHaveLength(1);
        expect(ofType(parked, "kubernetes:helm.sh/v3:Release").length).toBe(ofType(running, "kubernetes:helm.sh/v3:Release").length);
        expect(nodeGroup(parked, "system").scalingConfig).toMatchObject({ minSize: 1, desiredSize: 1 });
        expect((one(parked, "kubernetes:apps/v1:Deployment", "mlserve-dev-model-api").inputs as Json).spec.replicas).toBe(0);
        expect(ofType(parked, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler").map((h) => h.name)).not.toContain("mlserve-dev-model-api");
    });

    it("un-parking restores the sizes in config exactly", async () => {
        const unparked = await renderStack({ stack: "dev", stackFile: withParked(withParked(devFile, true), false) });
        for (const pool of ["gpu", "system"]) expect(nodeGroup(unparked, pool).scalingConfig).toEqual(nodeGroup(running, pool).scalingConfig);
        expect((one(unparked, "kubernetes:apps/v1:Deployment", "llm-fp16").inputs as Json).spec.replicas).toBe(1);
        expect(unparked.resources.map((r) => r.urn)).toEqual(running.resources.map((r) => r.urn));
    });

    it("a parked dev stack costs the control plane, one system node and the NAT gateway (plus keys and volumes); the GPU node is the difference", () => {
        const runningCost = estimateCost(running.resources, "us-east-1");
        const parkedCost = estimateCost(parked.resources, "us-east-1");
        // EKS $0.10 + 1 × m6i.xlarge $0.192 + NAT $0.045 = $0.337; KMS keys and gp3 root volumes add cents.
        expect(parkedCost.hourlyUsd).toBeGreaterThanOrEqual(0.337);
        expect(parkedCost.hourlyUsd).toBeLessThanOrEqual(0.36);
        expect(runningCost.hourlyUsd - parkedCost.hourlyUsd).toBeGreaterThan(1.624);
        expect(parkedCost.items.find((i) => i.name.startsWith("EC2 g5.4xlarge"))!.hourlyUsd).toBe(0);
    });

    it("parked GPU KServe models lose their floor (scale to zero, KPA)", async () => {
        const r = await renderConfig({
            "mlserve:lifecycle": { owner: "ops", parked: true },
            "mlserve:kserveModels": [{ name: "g", storageUri: "hf://a/b", gpu: true, minReplicas: 1, autoscalerClass: "hpa", scaleMetric: "cpu" }],
            "mlserve:kserveGraphs": [],
        });
        const p = (one(r, "kubernetes:serving.kserve.io/v1beta1:InferenceService").inputs as Json).spec.predictor;
        expect(p).toMatchObject({ minReplicas: 0, scaleMetric: "concurrency" });
    });
});

describe("expiry tags", () => {
    it("owner, stack and expiry are default tags of the AWS provider (every taggable resource)", () => {
        const tags = JSON.parse(String(one(running, "pulumi:providers:aws").inputs.defaultTags)).tags;
        expect(tags).toMatchObject({ "mlserve:owner": "ml-platform-team", "mlserve:stack": "dev", "mlserve:expires-at": "2026-12-31" });
        expect(running.outputs.lifecycle!.value).toMatchObject({ owner: "ml-platform-team", expiresAt: "2026-12-31", parked: false });
    });
});

describe("reaper decisions", () => {
    const now = new Date("2026-12-10T12:00:00Z");
    const state = (s: Partial<StackState>): StackState => ({ name: "dev", parked: false, resourceCount: 80, ...s });
    const action = (s: Partial<StackState>) => decide([state(s)], now)[0]!;

    it("parks an expired running stack", () => expect(action({ expiresAt: "2026-12-01" })).toMatchObject({ action: "park", reason: "expired at 2026-12-01" }));
    it("keeps an expired parked stack during the grace period", () => expect(action({ expiresAt: "2026-12-05", parked: true }).action).toBe("keep"));
    it("destroys an expired parked stack after the grace period", () => expect(action({ expiresAt: "2026-12-01", parked: true }).action).toBe("destroy"));
    it("never parks or destroys production, only warns", () => {
        expect(action({ name: "prod", expiresAt: "2026-01-01" }).action).toBe("warn");
        expect(action({ name: "prod-eu", expiresAt: "2026-01-01", parked: true }).action).toBe("warn");
        expect(action({ name: "prod" }).action).toBe("keep");
    });
    it("parks (never destroys) a stack without expiry that has been idle too long", () => {
        expect(action({ lastUpdate: "2026-11-01T00:00:00Z" })).toMatchObject({ action: "park", reason: expect.stringMatching(/no expiresAt and no update for 39 days/) });
        expect(action({ lastUpdate: "2026-11-01T00:00:00Z", parked: true }).action).toBe("keep");
        expect(action({ lastUpdate: "2026-12-09T00:00:00Z" }).action).toBe("keep");
    });
    it("warns a day before expiry", () => expect(action({ expiresAt: "2026-12-11T06:00:00Z" })).toMatchObject({ action: "warn", reason: expect.stringMatching(/in 18 h/) }));
    it("warns about an expiry that is not a date", () => expect(action({ expiresAt: "soon" }).action).toBe("warn"));
    it("boundaries: destroyed exactly 7 days after expiry, warned exactly 24 h before it, parked exactly 14 days after the last update", () => {
        // now = 2026-12-10T12:00Z
        expect(action({ expiresAt: "2026-12-03T12:00:00Z", parked: true }).action).toBe("destroy");
        expect(action({ expiresAt: "2026-12-03T12:00:01Z", parked: true }).action).toBe("keep");
        expect(action({ expiresAt: "2026-12-11T12:00:00Z" }).action).toBe("warn");
        expect(action({ expiresAt: "2026-12-11T12:00:01Z" }).action).toBe("keep");
        expect(action({ expiresAt: "2026-12-10T12:00:00Z" }).action).toBe("park");
        expect(action({ lastUpdate: "2026-11-26T12:00:00Z" }).action).toBe("park");
        expect(action({ lastUpdate: "2026-11-26T12:00:01Z" }).action).toBe("keep");
    });
    it("leaves empty stacks alone", () => expect(action({ expiresAt: "2026-01-01", resourceCount: 0 }).action).toBe("keep"));

    function fakeBackend(stacks: Array<{ name: string; lifecycle: Json; resourceCount?: number }>, failOn?: string) {
        const calls: string[] = [];
        const backend: ReaperBackend = {
            listStacks: async () => stacks.map((s) => ({ name: s.name, resourceCount: s.resourceCount ?? 10 })),
            getConfig: async (name) => ({ "mlserve:lifecycle": { value: JSON.stringify(stacks.find((s) => s.name === name)!.lifecycle) } }),
            park: async (name) => {
                if (name === failOn) throw new Error("update failed");
                calls.push(`park ${name}`);
            },
            destroy: async (name) => {
                calls.push(`destroy ${name}`);
            },
        };
        return { backend, calls };
    }

    it("dry run decides from the stacks' config and changes nothing", async () => {
        const { backend, calls } = fakeBackend([{ name: "dev", lifecycle: { owner: "a", expiresAt: "2026-12-01" } }, { name: "old", lifecycle: { owner: "b", expiresAt: "2026-11-01", parked: true } }]);
        const run = await runReaper(backend, now, { dryRun: true });
        expect(run.decisions.map((d) => [d.stack, d.action, d.owner])).toEqual([["dev", "park", "a"], ["old", "destroy", "b"]]);
        expect(calls).toEqual([]);
        expect(run.executed).toEqual([]);
    });

    it("a real run parks and destroys, and one failure does not stop the others", async () => {
        const { backend, calls } = fakeBackend([
            { name: "a", lifecycle: { owner: "x", expiresAt: "2026-12-01" } },
            { name: "b", lifecycle: { owner: "x", expiresAt: "2026-12-01" } },
            { name: "c", lifecycle: { owner: "x", expiresAt: "2026-11-01", parked: true } },
        ], "a");
        const run = await runReaper(backend, now, { dryRun: false });
        expect(calls).toEqual(["park b", "destroy c"]);
        expect(run.executed.find((e) => e.stack === "a")).toMatchObject({ ok: false, error: "update failed" });
    });
});

describe("clean teardown (destroy runs in reverse dependency order)", () => {
    let r: Rendering;
    let order: string[];
    beforeAll(async () => {
        // The variants that create AWS objects outside Pulumi's view: a LoadBalancer for Kourier, PVC caches.
        r = await renderConfig(
            { "mlserve:addons": { knative: { ingressServiceType: "LoadBalancer" } }, "mlserve:fleet": { modelCache: "pvc" }, "mlserve:variants": [{ name: "a", replicas: 1 }] },
            "teardown",
        );
        order = destroyOrder(r.resources);
    });
    const at = (x: RecordedResource) => {
        const i = order.indexOf(x.urn);
        expect(i, `${x.name} is missing from the destroy order`).toBeGreaterThanOrEqual(0);
        return i;
    };

    it("the destroy order holds every resource exactly once", () => {
        expect(order.length).toBe(r.resources.length);
        expect(new Set(order)).toEqual(new Set(r.resources.map((x) => x.urn)));
    });
    const infra = () => [
        ...ofType(r, "aws:eks/nodeGroup:NodeGroup"),
        one(r, "eks:index:Cluster"),
        one(r, "aws:eks/addon:Addon", "mlserve-teardown-aws-ebs-csi-driver"),
        ...ofType(r, "aws:ec2/subnet:Subnet"),
        ...ofType(r, "aws:ec2/natGateway:NatGateway"),
        one(r, "aws:ec2/internetGateway:InternetGateway"),
        one(r, "aws:ec2/vpc:Vpc"),
    ];

    it("every Kubernetes object and Helm release goes before the nodes, the EBS CSI driver, the cluster and the VPC", () => {
        const k8s = r.resources.filter((x) => x.type.startsWith("kubernetes:"));
        expect(k8s.length).toBeGreaterThan(30);
        for (const obj of k8s) for (const x of infra()) expect(at(obj), `${obj.name} before ${x.name}`).toBeLessThan(at(x));
    });

    it("KnativeServing (which owns the Kourier load balancer) goes before the Knative operator", () => {
        const release = ofType(r, "kubernetes:helm.sh/v3:Release").find((x) => x.inputs.name === "knative-operator")!;
        expect(at(one(r, "kubernetes:operator.knative.dev/v1beta1:KnativeServing"))).toBeLessThan(at(release));
    });

    it("PVCs (model cache) and Prometheus (its volume is deleted with it) go before the EBS CSI driver", () => {
        const csi = one(r, "aws:eks/addon:Addon", "mlserve-teardown-aws-ebs-csi-driver");
        expect(at(one(r, "kubernetes:core/v1:PersistentVolumeClaim"))).toBeLessThan(at(csi));
        const prom = ofType(r, "kubernetes:helm.sh/v3:Release").find((x) => x.inputs.name === "kube-prometheus-stack")!;
        expect(at(prom)).toBeLessThan(at(csi));
        expect((prom.inputs.values as Json).prometheus.prometheusSpec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Delete", whenScaled: "Retain" });
    });

    it("the Kubernetes provider tolerates a cluster that is already gone", () => {
        expect(one(r, "pulumi:providers:kubernetes").inputs.deleteUnreachable).toBe("true");
    });
});

describe("guardrails", () => {
    it("a monthly budget on the stack's cost allocation tag, alerting through an encrypted SNS topic", () => {
        const budget = one(running, "aws:budgets/budget:Budget").inputs as Json;
        expect(budget).toMatchObject({ budgetType: "COST", limitAmount: "1500.00", limitUnit: "USD", timeUnit: "MONTHLY", costFilters: [{ name: "TagKeyValue", values: ["user:mlserve:stack$dev"] }] });
        const topic = one(running, "aws:sns/topic:Topic");
        expect(budget.notifications.map((n: Json) => n.subscriberSnsTopicArns)).toEqual([[topic.state.arn], [topic.state.arn]]);
    });

    it("the topic's key is the stack's own, and its policy lets CloudWatch alarms and Budgets use it (the AWS-managed SNS key cannot)", () => {
        const topic = one(running, "aws:sns/topic:Topic");
        const key = ofType(running, "aws:kms/key:Key").find((k) => k.state.arn === topic.inputs.kmsMasterKeyId);
        expect(key, `topic key ${String(topic.inputs.kmsMasterKeyId)} is not a key of this stack`).toBeDefined();
        expect(key!.inputs.enableKeyRotation).toBe(true);
        const keyPolicy = JSON.parse(String(key!.inputs.policy));
        for (const service of ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"]) {
            const grant = keyPolicy.Statement.find((s: Json) => [s.Principal?.Service].flat().includes(service));
            expect(grant, service).toBeDefined();
            expect([grant.Action].flat()).toEqual(expect.arrayContaining(["kms:Decrypt", "kms:GenerateDataKey*"]));
            // A condition the service may not send would drop alerts silently; the topic policy does the scoping.
            expect(grant.Condition).toBeUndefined();
        }
        // The account keeps administering its key (a key policy without it locks the key).
        expect(keyPolicy.Statement.some((s: Json) => s.Principal?.AWS === "arn:aws:iam::123456789012:root" && [s.Action].flat().includes("kms:*"))).toBe(true);
    });

    it("only this account's alarms and budgets may publish to the topic", () => {
        const topic = one(running, "aws:sns/topic:Topic");
        const policy = JSON.parse(String(one(running, "aws:sns/topicPolicy:TopicPolicy").inputs.policy));
        const byService = (svc: string) => policy.Statement.find((s: Json) => [s.Principal.Service].flat().includes(svc));
        for (const svc of ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"]) {
            expect(byService(svc).Resource, svc).toBe(topic.state.arn);
            expect(byService(svc).Condition.StringEquals["aws:SourceAccount"], svc).toBe("123456789012");
        }
        expect(byService("cloudwatch.amazonaws.com").Condition.ArnLike["aws:SourceArn"]).toBe("arn:aws:cloudwatch:us-east-1:123456789012:alarm:*");
        expect(byService("budgets.amazonaws.com").Condition.ArnLike["aws:SourceArn"]).toBe("arn:aws:budgets::123456789012:*");
        expect(alertTopicPolicy({ topicArn: "arn:aws:sns:us-east-1:1:t", accountId: "1", region: "us-east-1" }).Statement.every((s) => s.Resource === "arn:aws:sns:us-east-1:1:t")).toBe(true);
    });

    it("an idle-GPU alarm: GPU nodes present and none reserved, for the configured minutes", () => {
        const alarm = one(running, "aws:cloudwatch/metricAlarm:MetricAlarm").inputs as Json;
        expect(alarm.evaluationPeriods).toBe(12);
        expect(alarm.metricQueries.find((q: Json) => q.id === "idle").expression).toBe("IF(gpus > 0 AND reserved == 0, 1, 0)");
        expect(alarm.metricQueries.find((q: Json) => q.id === "gpus").metric).toMatchObject({ namespace: "ContainerInsights", metricName: "node_gpu_limit", dimensions: { ClusterName: "mlserve-dev" } });
        expect(ofType(running, "aws:eks/addon:Addon").map((a) => a.inputs.addonName)).toContain("amazon-cloudwatch-observability");
    });

    it("email subscriptions per address; no alarm or Container Insights when turned off", async () => {
        const r = await renderConfig({ "mlserve:lifecycle": { owner: "ops", alertEmails: ["a@example.com", "b@example.com"], idleGpuAlarmMinutes: 0 } });
        expect(ofType(r, "aws:sns/topicSubscription:TopicSubscription").map((s) => s.inputs.endpoint)).toEqual(["a@example.com", "b@example.com"]);
        expect(ofType(r, "aws:cloudwatch/metricAlarm:MetricAlarm")).toEqual([]);
    });
});

describe("cost in PR previews", () => {
    const cost = (gpu: number, extra = 0) => ({
        hourlyUsd: 0.2 + gpu * 1.624 + extra,
        monthlyUsd: (0.2 + gpu * 1.624 + extra) * 730,
        parkedHourlyUsd: 0.25,
        items: [
            { name: "EKS control plane", quantity: 1, unitHourlyUsd: 0.1, hourlyUsd: 0.1 },
            { name: "EC2 g5.4xlarge", quantity: gpu, unitHourlyUsd: 1.624, hourlyUsd: gpu * 1.624 },
            ...(extra ? [{ name: "NAT gateway", quantity: 1, unitHourlyUsd: extra, hourlyUsd: extra }] : []),
        ],
    });

    it("shows each stack's monthly change and the items that changed", () => {
        const md = costDiffMarkdown([{ stack: "dev", base: cost(1), head: cost(2, 0.045) }, { stack: "new", head: cost(1) }]);
        expect(md).toContain(`| dev | $${(cost(1).monthlyUsd).toFixed(2)} | $${cost(2, 0.045).monthlyUsd.toFixed(2)} | +$${(cost(2, 0.045).monthlyUsd - cost(1).monthlyUsd).toFixed(2)} |`);
        expect(md).toContain("| EC2 g5.4xlarge | 1.6240 | 3.2480 | +$1.6240 |");
        expect(md).toContain("| NAT gateway | 0.0000 | 0.0450 | +$0.0450 |");
        const devDetails = md.split("<details>")[1]!;
        expect(devDetails).not.toContain("| EKS control plane |");
        expect(md).toMatch(/\| new \| — \| .* \| new \|/);
    });
});
