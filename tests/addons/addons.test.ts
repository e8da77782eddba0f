import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { installOrder, missingDependencies, requirementsOf } from "../../components/platform/addons/catalog";
import { ADDON_NAMES, ADDONS, type AddonSettings } from "../../components/platform/addons/registry";
import { addonsSchema } from "../../infra/config/addons";
import { Keda, kedaSqsPolicy } from "../../components/platform/addons/keda";
import { KServe } from "../../components/platform/addons/kserve";
import { AddonDependencyError, PlatformAddons } from "../../components/platform/addons/platform";
import { CHARTS, IMAGES } from "../../components/versions";
import { ConfigError } from "../../infra/config/load";
import { REPO_ROOT } from "../../infra/plan/render";
import { isScopedWithoutArn } from "../../components/platform/cluster/iam";
import { isWildcardResource } from "../../policy/rules";
import { childrenOf, dependsOn, one, ofType, renderComponent, renderConfig, type Rendering } from "../harness/render";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- deep reads of rendered specs
type Json = Record<string, any>;

let dev: Rendering;
beforeAll(async () => {
    dev = await renderConfig({}, "dev");
});

const release = (r: Rendering, name: string) => ofType(r, "kubernetes:helm.sh/v3:Release").find((x) => x.inputs.name === name)!;
/** Every add-on on, with its default settings; `change` overrides some. */
const settings = (change: { [K in keyof AddonSettings]?: Partial<AddonSettings[K]> } = {}): AddonSettings => {
    const base = addonsSchema.parse({});
    return { ...base, ...Object.fromEntries(Object.entries(change).map(([k, v]) => [k, { ...base[k as keyof AddonSettings], ...v }])) } as AddonSettings;
};

describe("version table", () => {
    it("every Helm release in the plan is a chart and version from components/versions.ts", () => {
        const pinned = new Set(Object.values(CHARTS).map((c) => `${c.chart}@${c.version}`));
        const releases = ofType(dev, "kubernetes:helm.sh/v3:Release");
        expect(releases.length).toBeGreaterThanOrEqual(9);
        for (const r of releases) expect(pinned, `${String(r.inputs.chart)}@${String(r.inputs.version)}`).toContain(`${String(r.inputs.chart)}@${String(r.inputs.version)}`);
    });

    it("no other source file spells a version: components, infra and manifests name versions only through the table", () => {
        const offenders: string[] = [];
        const walk = (dir: string) => {
            for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
                const p = path.join(dir, entry.name);
                if (entry.isDirectory()) walk(p);
                else if (p.endsWith(".ts") && !p.endsWith(path.join("components", "versions.ts"))) {
                    fs.readFileSync(p, "utf8")
                        .split("\n")
                        .forEach((line, i) => {
                            // Any x.y.z (optionally v-prefixed) outside a comment: "1.2.3", ":v1.2.3", "helm v3.22.0 …".
                            const where = `${path.relative(REPO_ROOT, p)}:${i + 1}`;
                            if (/(?<![\d.\w])v?\d+\.\d+\.\d+(?![\d.])/.test(line) && !/\/\/|\*/.test(line.trim().slice(0, 2)) && !NOT_PINS.some(([file, text]) => where.startsWith(`${file}:`) && line.includes(text))) offenders.push(`${where}: ${line.trim()}`);
                        });
                }
            }
        };
        // Versions that name what something was measured with, not what the stack installs.
        const NOT_PINS: Array<[string, string]> = [["loadtest/report/reference.ts", "(TGI 2.3.0, g5.4xlarge"]];
        // Every TypeScript source folder (tests excluded: they may spell versions to check them).
        const folders = ["components", "infra", "policy", "services", "testing", "bench", "loadtest"];
        for (const f of folders) walk(path.join(REPO_ROOT, f));
        expect(offenders).toEqual([]);
        // The list is every top-level folder with TypeScript in it, so a new one cannot be missed.
        const withTs = fs.readdirSync(REPO_ROOT, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith(".") && !["node_modules", "tests", "out", "docs"].includes(e.name));
        const hasTs = (dir: string): boolean => fs.readdirSync(dir, { withFileTypes: true }).some((e) => (e.isDirectory() ? !["__pycache__", "node_modules"].includes(e.name) && hasTs(path.join(dir, e.name)) : e.name.endsWith(".ts")));
        expect(withTs.filter((e) => hasTs(path.join(REPO_ROOT, e.name))).map((e) => e.name).sort()).toEqual([...folders].sort());
    });

    it("every container image the plan renders is pinned (tag or digest, never latest)", () => {
        const images: string[] = [];
        const collect = (v: unknown) => {
            if (Array.isArray(v)) v.forEach(collect);
            else if (v && typeof v === "object") {
                for (const [k, inner] of Object.entries(v)) {
                    if (k === "image" && typeof inner === "string") images.push(inner);
                    else collect(inner);
                }
            }
        };
        dev.resources.filter((r) => r.type.startsWith("kubernetes:")).forEach((r) => collect(r.inputs));
        // KServe's runtime images are tagged with its release, so the model server follows the chart.
        expect(images).toContain("kserve/huggingfaceserver:v0.20.0");
        expect(IMAGES.huggingfaceServer).toBe(`kserve/huggingfaceserver:${CHARTS.kserveResources.version}`);
        for (const image of images) {
            expect(image).toMatch(/(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$/);
            expect(image).not.toMatch(/:latest$/);
        }
    });
});

describe("dependencies", () => {
    it("KServe without cert-manager is a plan-time config error naming the key and the fix", async () => {
        const error = await renderConfig({ "mlserve:addons": { certManager: { enabled: false } } }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConfigError);
        const problem = (error as ConfigError).problems.find((p) => p.path === "mlserve:addons.kserve.enabled");
        expect(problem?.message).toMatch(/KServe needs cert-manager: .*Set mlserve:addons\.certManager\.enabled to true, or turn KServe off/);
    });

    it("KServe in Knative mode needs Knative; in Standard mode it does not", async () => {
        expect(missingDependencies(settings({ knative: { enabled: false } }))).toEqual([expect.objectContaining({ addon: "kserve", requires: "knative" })]);
        expect(missingDependencies(settings({ knative: { enabled: false }, kserve: { deploymentMode: "Standard" } }))).toEqual([]);
        const standard = await renderConfig({
            "mlserve:addons": { knative: { enabled: false }, kserve: { deploymentMode: "Standard" } },
            // The default models scale to zero, which Standard mode cannot.
            "mlserve:kserveModels": [],
            "mlserve:kserveGraphs": [],
        });
        expect(ofType(standard, "mlserve:addons:Knative")).toEqual([]);
        expect(release(standard, "kserve").inputs.values).toMatchObject({ kserve: { controller: { deploymentMode: "Standard" } } });
    });

    it("the HPAs (model API, async gateway) need metrics-server", async () => {
        const error = await renderConfig({ "mlserve:addons": { metricsServer: { enabled: false } } }).catch((e: unknown) => e);
        expect((error as ConfigError).problems.map((p) => p.path).sort()).toEqual(["mlserve:async.enabled", "mlserve:modelApi.enabled"]);
        const ok = await renderConfig({ "mlserve:addons": { metricsServer: { enabled: false } }, "mlserve:modelApi": { enabled: false }, "mlserve:async": { enabled: false } });
        expect(ofType(ok, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")).toEqual([]);
    });

    it("the PlatformAddons component itself refuses a set with a missing requirement", async () => {
        const error = await renderComponent(
            () =>
                new PlatformAddons("addons", {
                    settings: settings({ clusterAutoscaler: { enabled: false }, certManager: { enabled: false }, observability: { enabled: false } }),
                    cluster: { name: "c", plainName: "c", region: "us-east-1", nodeGroupArns: [] },
                }),
        ).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(AddonDependencyError);
        expect((error as Error).message).toMatch(/KServe needs cert-manager/);
    });

    it("every add-on's requirements name registered add-ons, and the registry's titles are what messages quote", () => {
        for (const name of ADDON_NAMES) expect(() => requirementsOf(name, settings()), name).not.toThrow();
        expect(ADDONS.certManager.title).toBe("cert-manager");
    });

    it("installs requirements first and makes the dependent wait for them", () => {
        const order = installOrder(settings());
        expect(order.indexOf("kserve")).toBeGreaterThan(order.indexOf("certManager"));
        expect(order.indexOf("kserve")).toBeGreaterThan(order.indexOf("knative"));
        const kserveCrd = release(dev, "kserve-crd");
        expect(dependsOn(dev, kserveCrd, release(dev, "cert-manager"))).toBe(true);
        expect(dependsOn(dev, kserveCrd, one(dev, "kubernetes:operator.knative.dev/v1beta1:KnativeServing"))).toBe(true);
        // CRDs before the controller; the controller (webhooks) before anything that needs them.
        expect(dependsOn(dev, release(dev, "kserve"), kserveCrd)).toBe(true);
    });

    it("custom resources come after the release that installs their CRDs", () => {
        expect(dependsOn(dev, one(dev, "kubernetes:keda.sh/v1alpha1:ClusterTriggerAuthentication"), release(dev, "keda"))).toBe(true);
        expect(dependsOn(dev, one(dev, "kubernetes:operator.knative.dev/v1beta1:KnativeServing"), release(dev, "knative-operator"))).toBe(true);
        for (const m of ofType(dev, "kubernetes:monitoring.coreos.com/v1:PodMonitor")) expect(dependsOn(dev, m, release(dev, "kube-prometheus-stack"))).toBe(true);
        // dcgm-exporter's ServiceMonitor needs the Prometheus Operator CRDs too.
        expect(dependsOn(dev, release(dev, "dcgm-exporter"), release(dev, "kube-prometheus-stack"))).toBe(true);
    });

    it("every add-on waits for the cluster's nodes (through the Kubernetes provider)", () => {
        const systemNodes = one(dev, "aws:eks/nodeGroup:NodeGroup", "mlserve-dev-system");
        for (const r of ofType(dev, "kubernetes:helm.sh/v3:Release")) expect(dependsOn(dev, r, systemNodes), String(r.inputs.name)).toBe(true);
    });

    it("each add-on can be switched off and then registers nothing", async () => {
        const off = await renderConfig({
            "mlserve:addons": { clusterAutoscaler: { enabled: false }, keda: { enabled: false }, observability: { enabled: false }, kserve: { enabled: false }, knative: { enabled: false } },
            "mlserve:async": { enabled: false },
            "mlserve:kserveModels": [],
            "mlserve:kserveGraphs": [],
        });
        const names = ofType(off, "kubernetes:helm.sh/v3:Release").map((r) => r.inputs.name).sort();
        expect(names).toEqual(["cert-manager", "metrics-server", "nvidia-device-plugin"]);
        expect(off.outputs.endpoints!.value).not.toHaveProperty("prometheus");
    });
});

describe("KEDA identity", () => {
    it("the operator gets an EKS Pod Identity role before it starts, and no SQS permission without queues", async () => {
        const keda = one(dev, "mlserve:addons:Keda");
        const association = one(dev, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "mlserve-dev-addons-keda-operator");
        expect(association.inputs).toMatchObject({ clusterName: "mlserve-dev", namespace: "keda", serviceAccount: "keda-operator" });
        expect(dependsOn(dev, release(dev, "keda"), association)).toBe(true);
        const noQueues = await renderConfig({ "mlserve:async": { enabled: false } });
        expect(childrenOf(noQueues, one(noQueues, "mlserve:addons:Keda")).filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy")).toEqual([]);
        // With the async path, the role may read exactly its queue.
        const policy = JSON.parse(String(childrenOf(dev, keda).find((r) => r.type === "aws:iam/rolePolicy:RolePolicy")!.inputs.policy));
        expect(policy.Statement).toEqual([{ Effect: "Allow", Action: ["sqs:GetQueueAttributes"], Resource: [one(dev, "aws:sqs/queue:Queue", "mlserve-dev-async-jobs").state.arn] }]);
        expect(one(dev, "kubernetes:keda.sh/v1alpha1:ClusterTriggerAuthentication").inputs.spec).toEqual({ podIdentity: { provider: "aws" } });
    });

    it("with queues: sqs:GetQueueAttributes on exactly those queue ARNs, nothing else", async () => {
        const queues = ["arn:aws:sqs:us-east-1:123456789012:mlserve-dev-jobs", "arn:aws:sqs:us-east-1:123456789012:mlserve-dev-jobs-dlq"];
        const r = await renderComponent(() => new Keda("keda", { clusterName: "c", sqsQueueArns: queues }));
        const policy = JSON.parse(String(one(r, "aws:iam/rolePolicy:RolePolicy").inputs.policy));
        expect(policy.Statement).toEqual([{ Effect: "Allow", Action: ["sqs:GetQueueAttributes"], Resource: [...queues].sort() }]);
    });

    it("kedaSqsPolicy refuses wildcards and non-queue ARNs", () => {
        expect(() => kedaSqsPolicy(["*"])).toThrow(/not a single SQS queue ARN/);
        expect(() => kedaSqsPolicy(["arn:aws:sqs:us-east-1:123456789012:mlserve-*"])).toThrow();
        expect(() => kedaSqsPolicy(["arn:aws:s3:::bucket"])).toThrow();
        expect(() => kedaSqsPolicy([])).toThrow();
    });

    it("no IAM policy the stack renders has a wildcard resource", () => {
        const docs = dev.resources
            .filter((r) => ["aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"].includes(r.type))
            .map((r) => JSON.parse(String(r.inputs.policy)));
        expect(docs.length).toBeGreaterThan(0);
        for (const doc of docs) {
            for (const st of doc.Statement) {
                if (isScopedWithoutArn(st)) continue;
                expect([st.Resource].flat().filter((x: string) => isWildcardResource(x)), JSON.stringify(st)).toEqual([]);
            }
        }
    });
});

describe("Knative", () => {
    it("enables nodeSelector, tolerations and affinity in pod specs (GPU InferenceServices need them)", () => {
        const serving = one(dev, "kubernetes:operator.knative.dev/v1beta1:KnativeServing");
        const config = (serving.inputs.spec as { config: Record<string, Record<string, string>> }).config;
        // Knative's config-features names for these fields.
        expect(config.features).toMatchObject({ "kubernetes.podspec-nodeselector": "enabled", "kubernetes.podspec-tolerations": "enabled", "kubernetes.podspec-affinity": "enabled" });
        expect(config.network).toEqual({ "ingress-class": "kourier.ingress.networking.knative.dev" });
    });

    it("takes the autoscaler settings, domain and Kourier service type from config", async () => {
        const r = await renderConfig({
            "mlserve:addons": { knative: { scaleToZero: false, scaleToZeroGracePeriod: "2m", stableWindow: "30s", domain: "models.example.org", ingressServiceType: "LoadBalancer" } },
        });
        const spec = one(r, "kubernetes:operator.knative.dev/v1beta1:KnativeServing").inputs.spec as Json;
        expect(spec.config.autoscaler).toEqual({ "enable-scale-to-zero": "false", "scale-to-zero-grace-period": "2m", "stable-window": "30s", "allow-zero-initial-scale": "true" });
        expect(spec.config.domain).toEqual({ "models.example.org": "" });
        expect(spec.ingress.kourier["service-type"]).toBe("LoadBalancer");
        const d = one(dev, "kubernetes:operator.knative.dev/v1beta1:KnativeServing").inputs.spec as Json;
        expect(d.config.autoscaler["enable-scale-to-zero"]).toBe("true");
        expect(d.ingress.kourier["service-type"]).toBe("ClusterIP");
    });

    it("rejects a stable window Knative would reject", async () => {
        const error = await renderConfig({ "mlserve:addons": { knative: { stableWindow: "2s" } } }).catch((e: unknown) => e);
        expect((error as ConfigError).problems[0]).toMatchObject({ path: "mlserve:addons.knative.stableWindow", given: '"2s"' });
    });
});

describe("KServe", () => {
    it("defaults to Knative deployment mode on Kourier", () => {
        expect(release(dev, "kserve").inputs.values).toMatchObject({
            kserve: { controller: { deploymentMode: "Knative", gateway: { disableIstioVirtualHost: true, localGateway: { gatewayService: "kourier-internal.knative-serving.svc.cluster.local" } } } },
        });
        expect(release(dev, "kserve-crd").inputs.chart).toBe("oci://ghcr.io/kserve/charts/kserve-crd");
    });

    it("sets no metric-aggregation values: they only work with the qpext sidecar, which is not configured", () => {
        expect(JSON.stringify(release(dev, "kserve").inputs.values)).not.toMatch(/metricsaggregator|enableMetricAggregation|enablePrometheusScraping/);
    });

    it("declares typed InferenceServices that wait for the controller and carry the deployment mode", async () => {
        const r = await renderComponent(() => {
            const kserve = new KServe("kserve", { deploymentMode: "Knative", localGateway: "kourier-internal.knative-serving.svc.cluster.local" });
            kserve.inferenceService("sst2", {
                apiVersion: "serving.kserve.io/v1beta1",
                kind: "InferenceService",
                metadata: { name: "sst2", namespace: "models" },
                spec: { predictor: { minReplicas: 0, model: { modelFormat: { name: "huggingface" }, args: ["--model_id=distilbert/distilbert-base-uncased-finetuned-sst-2-english"] } } },
            });
        });
        const isvc = one(r, "kubernetes:serving.kserve.io/v1beta1:InferenceService");
        expect((isvc.inputs.metadata as { annotations: Record<string, string> }).annotations["serving.kserve.io/deploymentMode"]).toBe("Knative");
        expect(dependsOn(r, isvc, release(r, "kserve"))).toBe(true);
    });
});

describe("observability", () => {
    it("Prometheus picks up every monitor, keeps data on gp3, and its URLs are exported", () => {
        const values = release(dev, "kube-prometheus-stack").inputs.values as Json;
        expect(values.prometheus.prometheusSpec).toMatchObject({ retention: "15d", podMonitorSelectorNilUsesHelmValues: false, serviceMonitorSelectorNilUsesHelmValues: false });
        expect(values.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.storageClassName).toBe("gp3");
        expect(dev.outputs.endpoints!.value).toMatchObject({
            prometheus: "http://kps-prometheus.monitoring.svc.cluster.local:9090",
            grafana: "http://grafana.monitoring.svc.cluster.local",
        });
        // The Grafana admin password is the chart's generated Secret: no password anywhere in the plan.
        expect(JSON.stringify(values)).not.toMatch(/adminPassword/);
    });

    it("DCGM exporter runs only on GPU nodes and is scraped", () => {
        const values = release(dev, "dcgm-exporter").inputs.values as Json;
        expect(values.nodeSelector).toEqual({ "mlserve.io/node-pool": "gpu" });
        expect(values.tolerations).toEqual([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
        expect(values.serviceMonitor.enabled).toBe(true);
    });

    it("scrapes TGI/vLLM, KServe models and KEDA", () => {
        const monitors = Object.fromEntries(ofType(dev, "kubernetes:monitoring.coreos.com/v1:PodMonitor").map((m) => [(m.inputs.metadata as { name: string }).name, m.inputs.spec as Json]));
        expect(Object.keys(monitors).sort()).toEqual(["keda", "kserve-models", "llm-engines"]);
        expect(monitors["llm-engines"]!.selector.matchExpressions[0]).toEqual({ key: "mlserve.io/engine", operator: "In", values: ["tgi", "vllm"] });
        expect(monitors.keda!.namespaceSelector).toEqual({ matchNames: ["keda"] });
    });

    it("ships the GPU, TGI and KEDA dashboards as labelled ConfigMaps", () => {
        const maps = ofType(dev, "kubernetes:core/v1:ConfigMap").filter((c) => (c.inputs.metadata as { labels?: Record<string, string> }).labels?.grafana_dashboard === "1");
        const files = maps.flatMap((m) => Object.keys(m.inputs.data as Record<string, string>)).sort();
        expect(files).toEqual(["gpu-utilization.json", "keda-scaling.json", "tgi-latency-queue.json"]);
    });

    it.each(["gpu-utilization", "tgi-latency-queue", "keda-scaling"])("dashboard %s is Grafana JSON whose panels query Prometheus", (name) => {
        const d = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "manifests", "dashboards", `${name}.json`), "utf8"));
        expect(d.uid).toMatch(/^mlserve-/);
        expect(d.templating.list[0]).toMatchObject({ name: "datasource", type: "datasource", query: "prometheus" });
        expect(d.panels.length).toBeGreaterThanOrEqual(4);
        const metric = { "gpu-utilization": /DCGM_FI_DEV_GPU_UTIL/, "tgi-latency-queue": /tgi_queue_size/, "keda-scaling": /keda_scaler_metrics_value/ }[name]!;
        const exprs = d.panels.flatMap((p: { targets: { expr: string }[] }) => p.targets.map((t) => t.expr));
        expect(exprs.join("\n")).toMatch(metric);
        for (const p of d.panels) {
            expect(p.datasource.uid).toBe("${datasource}");
            expect(p.targets.length).toBeGreaterThan(0);
            for (const t of p.targets) {
                // Balanced parentheses and braces: a cheap guard against broken PromQL.
                expect(t.expr.split("(").length).toBe(t.expr.split(")").length);
                expect(t.expr.split("{").length).toBe(t.expr.split("}").length);
            }
        }
    });
});
