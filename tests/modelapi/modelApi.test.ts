import { beforeAll, describe, expect, it } from "vitest";
import { modelApiDeployment, modelApiHpa, type ModelApiSettings } from "../../components/workloads/modelApi/spec";
import { ConfigError } from "../../infra/config/load";
import { dependsOn, one, renderConfig, type Rendering } from "../harness/render";

let dev: Rendering;
beforeAll(async () => {
    dev = await renderConfig({}, "dev");
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- deep reads of rendered specs
type Json = Record<string, any>;

/** The model API's own resource of a type (other areas render Deployments and Services too). */
const api = (r: Rendering, type: string) => one(r, type, `mlserve-${r.stack}-model-api`);

describe("HPA-scaled model API", () => {
    it("an autoscaling/v2 HPA on CPU, 50% and 1 to 10 replicas by default, targeting the Deployment", () => {
        const hpa = api(dev, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs as Json;
        const deployment = api(dev, "kubernetes:apps/v1:Deployment").inputs as Json;
        expect(hpa.spec).toMatchObject({
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name },
            minReplicas: 1,
            maxReplicas: 10,
            metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } }],
        });
        expect(hpa.metadata.namespace).toBe(deployment.metadata.namespace);
    });

    it("takes bounds, target and resources from config", async () => {
        const r = await renderConfig({ "mlserve:modelApi": { minReplicas: 2, maxReplicas: 4, targetCpuUtilizationPercent: 70, cpuRequest: "500m", memoryLimit: "3Gi" } });
        expect((api(r, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs as Json).spec).toMatchObject({ minReplicas: 2, maxReplicas: 4, metrics: [{ resource: { target: { averageUtilization: 70 } } }] });
        const container = (api(r, "kubernetes:apps/v1:Deployment").inputs as Json).spec.template.spec.containers[0];
        expect(container.resources).toEqual({ requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "3Gi" } });
    });

    it("the Deployment leaves replicas to the HPA and has requests (the HPA's denominator), limits and probes", () => {
        const spec = (api(dev, "kubernetes:apps/v1:Deployment").inputs as Json).spec;
        expect(spec.replicas).toBeUndefined();
        const c = spec.template.spec.containers[0];
        expect(c.image).toBe("kserve/huggingfaceserver:v0.20.0");
        expect(c.args).toEqual(expect.arrayContaining(["--model_name=distilbert", "--model_id=distilbert/distilbert-base-uncased-finetuned-sst-2-english", "--task=sequence_classification"]));
        expect(c.resources.requests.cpu).toBe("1");
        expect(c.resources.limits.memory).toBe("4Gi");
        expect(c.readinessProbe.httpGet).toEqual({ path: "/v1/models/distilbert", port: "http" });
        expect(c.livenessProbe.httpGet.path).toBe("/v2/health/live");
        expect(c.startupProbe.failureThreshold * c.startupProbe.periodSeconds).toBe(600);
        expect(spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    });

    it("the Service selects the Deployment's pods on the named http port", () => {
        const svc = (api(dev, "kubernetes:core/v1:Service").inputs as Json).spec;
        const pod = (api(dev, "kubernetes:apps/v1:Deployment").inputs as Json).spec.template.metadata.labels;
        expect(svc.selector).toEqual(pod);
        expect(svc.ports).toEqual([{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }]);
    });

    it("the HPA waits for metrics-server; the endpoint is exported", () => {
        const hpa = api(dev, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler");
        const metricsServer = one(dev, "mlserve:addons:MetricsServer");
        const release = dev.resources.find((r) => r.parent === metricsServer.urn && r.type === "kubernetes:helm.sh/v3:Release")!;
        expect(dependsOn(dev, hpa, release)).toBe(true);
        expect((dev.outputs.endpoints!.value as Record<string, string>).modelApi).toBe("http://model-api.model-api.svc.cluster.local/v1/models/distilbert:predict");
    });

    it("rejects min > max, unpinned images and an HPA floor of 0", async () => {
        const error = (await renderConfig({ "mlserve:modelApi": { minReplicas: 5, maxReplicas: 2, image: "kserve/huggingfaceserver:latest" } }).catch((e: unknown) => e)) as ConfigError;
        expect(error.problems.map((p) => p.path).sort()).toEqual(["mlserve:modelApi.image", "mlserve:modelApi.minReplicas"]);
        const untagged = (await renderConfig({ "mlserve:modelApi": { image: "kserve/huggingfaceserver", minReplicas: 0 } }).catch((e: unknown) => e)) as ConfigError;
        expect(untagged.problems.map((p) => p.path).sort()).toEqual(["mlserve:modelApi.image", "mlserve:modelApi.minReplicas"]);
        expect(untagged.problems.find((p) => p.path === "mlserve:modelApi.image")!.message).toMatch(/pin a tag or digest/);
    });

    it("a digest-pinned image is accepted", async () => {
        const digest = `registry.example.com/team/server@sha256:${"a".repeat(64)}`;
        const r = await renderConfig({ "mlserve:modelApi": { image: digest } });
        expect((api(r, "kubernetes:apps/v1:Deployment").inputs as Json).spec.template.spec.containers[0].image).toBe(digest);
    });

    it("pure builders: what config says is what the spec holds", () => {
        const s: ModelApiSettings = {
            enabled: true,
            image: "x:1",
            modelName: "m",
            modelId: "org/m",
            task: "fill_mask",
            minReplicas: 3,
            maxReplicas: 9,
            targetCpuUtilizationPercent: 40,
            cpuRequest: "250m",
            memoryRequest: "1Gi",
            cpuLimit: "1",
            memoryLimit: "2Gi",
        };
        expect(modelApiHpa(s).spec).toMatchObject({ minReplicas: 3, maxReplicas: 9 });
        expect(JSON.stringify(modelApiDeployment(s))).toContain("--task=fill_mask");
    });
});
