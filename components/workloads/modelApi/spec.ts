/**
 * Pure builders for the CPU model API: a KServe Hugging Face runtime serving a
 * small text classifier, scaled on CPU by an autoscaling/v2 HPA.
 */
import type * as k8s from "@pulumi/kubernetes";
import type { ModelApiConfig } from "../../../infra/config/modelApi";

/** `mlserve:modelApi` as validated. */
export type ModelApiSettings = ModelApiConfig;

export const MODEL_API_NAME = "model-api";
export const MODEL_API_NAMESPACE = "model-api";
const PORT = 8080;
const labels = { "app.kubernetes.io/name": MODEL_API_NAME, "app.kubernetes.io/part-of": "mlserve" };

type Meta = { metadata: { name: string; namespace: string; labels: Record<string, string> } };

export function modelApiDeployment(s: ModelApiSettings): k8s.apps.v1.DeploymentArgs & Meta {
    return {
        metadata: { name: MODEL_API_NAME, namespace: MODEL_API_NAMESPACE, labels },
        spec: {
            // No `replicas`: the HPA owns the count; setting it here would fight the HPA on every update.
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
                            image: s.image,
                            args: [`--model_name=${s.modelName}`, `--model_id=${s.modelId}`, `--task=${s.task}`, "--backend=huggingface", `--http_port=${PORT}`],
                            env: [
                                { name: "HF_HOME", value: "/cache/huggingface" },
                                { name: "HF_HUB_DISABLE_TELEMETRY", value: "1" },
                            ],
                            ports: [{ name: "http", containerPort: PORT, protocol: "TCP" }],
                            resources: {
                                requests: { cpu: s.cpuRequest, memory: s.memoryRequest },
                                limits: { cpu: s.cpuLimit, memory: s.memoryLimit },
                            },
                            // The model downloads at start: allow up to 10 minutes before liveness applies.
                            startupProbe: { httpGet: { path: "/v2/health/live", port: "http" }, periodSeconds: 10, failureThreshold: 60 },
                            readinessProbe: { httpGet: { path: `/v1/models/${s.modelName}`, port: "http" }, periodSeconds: 5, failureThreshold: 3 },
                            livenessProbe: { httpGet: { path: "/v2/health/live", port: "http" }, periodSeconds: 15, failureThreshold: 4 },
                            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                            volumeMounts: [{ name: "cache", mountPath: "/cache" }],
                        },
                    ],
                    volumes: [{ name: "cache", emptyDir: { sizeLimit: "5Gi" } }],
                },
            },
        },
    };
}

export function modelApiService(): k8s.core.v1.ServiceArgs & Meta {
    return {
        metadata: { name: MODEL_API_NAME, namespace: MODEL_API_NAMESPACE, labels },
        spec: { type: "ClusterIP", selector: labels, ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] },
    };
}

export function modelApiHpa(s: ModelApiSettings): k8s.autoscaling.v2.HorizontalPodAutoscalerArgs & Meta {
    return {
        metadata: { name: MODEL_API_NAME, namespace: MODEL_API_NAMESPACE, labels },
        spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: MODEL_API_NAME },
            minReplicas: s.minReplicas,
            maxReplicas: s.maxReplicas,
            metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: s.targetCpuUtilizationPercent } } }],
            behavior: {
                // React to load fast, give it back slowly (avoid flapping between load-test steps).
                scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: "Percent", value: 100, periodSeconds: 15 }] },
                scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: "Percent", value: 50, periodSeconds: 60 }] },
            },
        },
    };
}

export function modelApiPdb(): k8s.policy.v1.PodDisruptionBudgetArgs & Meta {
    return {
        metadata: { name: MODEL_API_NAME, namespace: MODEL_API_NAMESPACE, labels },
        spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
    };
}

/** Endpoints the load tests target. */
export function modelApiEndpoints(s: Pick<ModelApiSettings, "modelName">) {
    const base = `http://${MODEL_API_NAME}.${MODEL_API_NAMESPACE}.svc.cluster.local`;
    return {
        baseUrl: base,
        predictV1: `${base}/v1/models/${s.modelName}:predict`,
        inferV2: `${base}/v2/models/${s.modelName}/infer`,
    };
}
