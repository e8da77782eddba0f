/**
 * The CPU model API's Kubernetes objects (components/workloads/modelApi/spec.ts),
 * built from plain settings: KServe's Hugging Face server behind a Service,
 * scaled on CPU by an autoscaling/v2 HPA.
 */
import { describe, expect, it } from "vitest";
import { modelApiSchema } from "../../infra/config/modelApi";
import { modelApiDeployment, modelApiEndpoints, modelApiHpa, modelApiPdb, modelApiService, type ModelApiSettings } from "../../components/workloads/modelApi/spec";

const labels = { "app.kubernetes.io/name": "model-api", "app.kubernetes.io/part-of": "mlserve" };
const metadata = { name: "model-api", namespace: "model-api", labels };

const custom: ModelApiSettings = {
    enabled: true,
    image: "registry.example.com/hf-server:1.2",
    modelName: "emb",
    modelId: "BAAI/bge-small-en-v1.5",
    task: "text_embedding",
    minReplicas: 2,
    maxReplicas: 6,
    targetCpuUtilizationPercent: 65,
    cpuRequest: "500m",
    memoryRequest: "1Gi",
    cpuLimit: "1500m",
    memoryLimit: "3Gi",
};

describe("model API Deployment", () => {
    it("defaults: the whole object, with no replica count (the HPA owns it)", () => {
        expect(modelApiDeployment(modelApiSchema.parse({}))).toEqual({
            metadata,
            spec: {
                selector: { matchLabels: labels },
                strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
                template: {
                    metadata: { labels },
                    spec: {
                        terminationGracePeriodSeconds: 30,
                        securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 },
                        containers: [
                            {
                                name: "server",
                                image: "kserve/huggingfaceserver:v0.20.0",
                                args: [
                                    "--model_name=distilbert",
                                    "--model_id=distilbert/distilbert-base-uncased-finetuned-sst-2-english",
                                    "--task=sequence_classification",
                                    "--backend=huggingface",
                                    "--http_port=8080",
                                ],
                                env: [
                                    { name: "HF_HOME", value: "/cache/huggingface" },
                                    { name: "HF_HUB_DISABLE_TELEMETRY", value: "1" },
                                ],
                                ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
                                resources: { requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } },
                                startupProbe: { httpGet: { path: "/v2/health/live", port: "http" }, periodSeconds: 10, failureThreshold: 60 },
                                readinessProbe: { httpGet: { path: "/v1/models/distilbert", port: "http" }, periodSeconds: 5, failureThreshold: 3 },
                                livenessProbe: { httpGet: { path: "/v2/health/live", port: "http" }, periodSeconds: 15, failureThreshold: 4 },
                                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                                volumeMounts: [{ name: "cache", mountPath: "/cache" }],
                            },
                        ],
                        volumes: [{ name: "cache", emptyDir: { sizeLimit: "5Gi" } }],
                    },
                },
            },
        });
    });

    it("image, model, task, resources and the readiness path come from the settings", () => {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- deep read of a built spec (Pulumi Input types)
        const c = (modelApiDeployment(custom).spec as any).template.spec.containers[0];
        expect(c.image).toBe("registry.example.com/hf-server:1.2");
        expect(c.args).toEqual(["--model_name=emb", "--model_id=BAAI/bge-small-en-v1.5", "--task=text_embedding", "--backend=huggingface", "--http_port=8080"]);
        expect(c.resources).toEqual({ requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "1500m", memory: "3Gi" } });
        expect(c.readinessProbe.httpGet).toEqual({ path: "/v1/models/emb", port: "http" });
    });
});

describe("model API Service", () => {
    it("ClusterIP port 80 to the pods' http port, selecting the Deployment's pod labels", () => {
        expect(modelApiService()).toEqual({
            metadata,
            spec: { type: "ClusterIP", selector: labels, ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] },
        });
    });
});

describe("model API HPA", () => {
    it("scales the Deployment on average CPU utilization, up fast and down slowly", () => {
        expect(modelApiHpa(custom)).toEqual({
            metadata,
            spec: {
                scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "model-api" },
                minReplicas: 2,
                maxReplicas: 6,
                metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 65 } } }],
                behavior: {
                    scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: "Percent", value: 100, periodSeconds: 15 }] },
                    scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: "Percent", value: 50, periodSeconds: 60 }] },
                },
            },
        });
    });

    it("defaults: 1 to 10 replicas at 50% CPU", () => {
        expect(modelApiHpa(modelApiSchema.parse({})).spec).toMatchObject({ minReplicas: 1, maxReplicas: 10, metrics: [{ resource: { target: { averageUtilization: 50 } } }] });
    });
});

describe("model API PodDisruptionBudget", () => {
    it("one pod at a time may be evicted", () => {
        expect(modelApiPdb()).toEqual({ metadata, spec: { maxUnavailable: 1, selector: { matchLabels: labels } } });
    });
});

describe("model API endpoints", () => {
    it("the Service's in-cluster URL and the KServe v1 predict and v2 infer paths of the model", () => {
        expect(modelApiEndpoints({ modelName: "emb" })).toEqual({
            baseUrl: "http://model-api.model-api.svc.cluster.local",
            predictV1: "http://model-api.model-api.svc.cluster.local/v1/models/emb:predict",
            inferV2: "http://model-api.model-api.svc.cluster.local/v2/models/emb/infer",
        });
    });
});
