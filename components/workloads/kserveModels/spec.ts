/**
 * KServe models and graphs as pure data: the InferenceService and
 * InferenceGraph objects, the Knative autoscaling annotations, the validation
 * rules Knative and KServe would otherwise apply at admission, and endpoints.
 */
import type { InferenceGraph, InferenceService } from "../../platform/addons/crds/kserve";
import type { KServeGraphConfig, KServeModelConfig } from "../../../infra/config/kserve";
import type { PodMonitor } from "../../platform/addons/crds/prometheus";
import { GPU_NODE_SELECTOR, GPU_TOLERATIONS } from "../../platform/cluster/nodeGroupSpec";
import { chooseProtocol, type ServingProtocol } from "../../platform/addons/kserveRuntimes";

export const MODELS_NAMESPACE = "models";

export type Protocol = ServingProtocol;

export const OIP_GRPC = { service: "inference.GRPCInferenceService", method: "ModelInfer", fullMethod: "inference.GRPCInferenceService/ModelInfer" } as const;

/** A model and a graph entry, as `mlserve:kserveModels` / `mlserve:kserveGraphs` validate them. */
export type KServeModelSettings = KServeModelConfig;
export type KServeGraphSettings = KServeGraphConfig;

export interface Finding {
    /** Where in the model or graph entry, e.g. ["steps", 0, "model"]. */
    path: (string | number)[];
    /** The value at that path, when it is one field. */
    input?: unknown;
    message: string;
}

/** Errors Knative or KServe would raise at admission (or that would silently not work). */
export function modelErrors(m: KServeModelSettings, defaultMode: "Knative" | "Standard"): Finding[] {
    const errors: Finding[] = [];
    const mode = m.deploymentMode ?? defaultMode;
    if (mode === "Knative") {
        if (m.autoscalerClass === "kpa" && (m.scaleMetric === "cpu" || m.scaleMetric === "memory")) {
            errors.push({ path: ["scaleMetric"], input: m.scaleMetric, message: `"${m.scaleMetric}" is not a metric of Knative's KPA autoscaler (concurrency or rps); set autoscalerClass: hpa to scale on ${m.scaleMetric}` });
        }
        if (m.autoscalerClass === "hpa" && (m.scaleMetric === "concurrency" || m.scaleMetric === "rps")) {
            errors.push({ path: ["scaleMetric"], input: m.scaleMetric, message: `"${m.scaleMetric}" needs the KPA class; the HPA class scales on cpu or memory` });
        }
        if (m.autoscalerClass === "hpa" && m.minReplicas === 0) {
            errors.push({ path: ["minReplicas"], input: m.minReplicas, message: "the HPA autoscaler class cannot scale to zero; use the KPA class or minReplicas >= 1" });
        }
    } else {
        if (m.minReplicas === 0) errors.push({ path: ["minReplicas"], input: m.minReplicas, message: "Standard deployment mode (Deployment + HPA) cannot scale to zero; use Knative mode or minReplicas >= 1" });
        if (m.scaleMetric === "concurrency" || m.scaleMetric === "rps") {
            errors.push({ path: ["scaleMetric"], input: m.scaleMetric, message: `Standard deployment mode scales with an HPA on cpu or memory, not "${m.scaleMetric}"` });
        }
    }
    const choice = chooseProtocol(m.runtime, m.protocol);
    if ("error" in choice) errors.push({ path: ["protocol"], input: m.protocol, message: choice.error });
    if (m.batcher.enabled && m.protocol === "grpc-v2") {
        errors.push({ path: ["batcher"], input: m.batcher, message: "the KServe batcher is an HTTP sidecar and cannot batch gRPC; batch a REST model or turn the batcher off" });
    }
    if (m.containerConcurrency > 0 && m.scaleMetric === "concurrency" && m.scaleTarget > m.containerConcurrency) {
        errors.push({ path: ["scaleTarget"], input: m.scaleTarget, message: `a concurrency target of ${m.scaleTarget} can never be reached with containerConcurrency ${m.containerConcurrency}` });
    }
    if (m.runtime !== "huggingface" && !m.storageUri) {
        errors.push({ path: ["storageUri"], input: m.storageUri, message: `the ${m.runtime} runtime loads a model from storageUri (s3://, gs://, https://, hf://); set one` });
    }
    return errors;
}

/** Graph rules: steps name existing REST models; ensembles fan out to at least two. */
export function graphErrors(g: KServeGraphSettings, models: Pick<KServeModelSettings, "name" | "protocol">[]): Finding[] {
    const errors: Finding[] = [];
    const byName = new Map(models.map((m) => [m.name, m]));
    g.steps.forEach((step, i) => {
        const model = byName.get(step.model);
        if (!model) {
            errors.push({ path: ["steps", i, "model"], message: `no model named "${step.model}" in mlserve:kserveModels (models: ${[...byName.keys()].join(", ") || "none"})` });
        } else if (model.protocol === "grpc-v2") {
            errors.push({ path: ["steps", i, "model"], message: `"${step.model}" serves gRPC; the graph router calls models over REST` });
        }
    });
    if (g.routerType === "Ensemble" && g.steps.length < 2) errors.push({ path: ["steps"], message: "an Ensemble combines at least two models" });
    const protocols = new Set(g.steps.map((s) => byName.get(s.model)?.protocol).filter((p) => p !== undefined));
    if ((g.routerType === "Ensemble" || g.routerType === "Splitter") && protocols.size > 1) {
        errors.push({ path: ["steps"], message: `all steps receive the same request body, so they must share one protocol (got ${[...protocols].join(", ")})` });
    }
    if (g.routerType === "Splitter") {
        const total = g.steps.reduce((s, st) => s + (st.weight ?? 0), 0);
        if (total !== 100) errors.push({ path: ["steps"], message: `Splitter weights must add up to 100 (got ${total})` });
    }
    const names = g.steps.map((s) => s.name);
    names.forEach((n, i) => {
        if (names.indexOf(n) !== i) errors.push({ path: ["steps", i, "name"], message: `duplicates another step name "${n}"` });
    });
    return errors;
}

/** Knative annotations for what the InferenceService spec has no field for. */
export function knativeAnnotations(m: KServeModelSettings): Record<string, string> {
    return {
        // Knative starts every revision at one pod (initial scale 1) even with minReplicas 0:
        // a scale-to-zero model would hold a pod (and its CPU or GPU) from `pulumi up` until
        // its first idle window. Start it at zero; KnativeServing allows zero initial scale.
        ...(m.minReplicas === 0 ? { "autoscaling.knative.dev/initial-scale": "0" } : {}),
        ...(m.autoscalerClass === "hpa" ? { "autoscaling.knative.dev/class": "hpa.autoscaling.knative.dev" } : {}),
        ...(m.scaleDownDelay ? { "autoscaling.knative.dev/scale-down-delay": m.scaleDownDelay } : {}),
        ...(m.scaleToZeroRetention ? { "autoscaling.knative.dev/scale-to-zero-pod-retention-period": m.scaleToZeroRetention } : {}),
    };
}

export function inferenceService(m: KServeModelSettings): InferenceService {
    const choice = chooseProtocol(m.runtime, m.protocol);
    // Config validation reports this with the key path first; the builder refuses too.
    if ("error" in choice) throw new Error(`InferenceService ${m.name}: ${choice.error}`);
    const annotations = {
        ...knativeAnnotations(m),
        ...(m.deploymentMode ? { "serving.kserve.io/deploymentMode": m.deploymentMode } : {}),
    };
    return {
        apiVersion: "serving.kserve.io/v1beta1",
        kind: "InferenceService",
        metadata: {
            name: m.name,
            namespace: MODELS_NAMESPACE,
            labels: { "app.kubernetes.io/part-of": "mlserve", "mlserve.io/protocol": m.protocol },
            ...(Object.keys(annotations).length ? { annotations } : {}),
        },
        spec: {
            predictor: {
                minReplicas: m.minReplicas,
                maxReplicas: m.maxReplicas,
                scaleMetric: m.scaleMetric,
                scaleTarget: m.scaleTarget,
                containerConcurrency: m.containerConcurrency,
                timeout: m.timeoutSeconds,
                ...(m.batcher.enabled ? { batcher: { maxBatchSize: m.batcher.maxBatchSize, maxLatency: m.batcher.maxLatencyMs, timeout: m.batcher.timeoutSeconds } } : {}),
                ...(m.gpu ? { nodeSelector: { ...GPU_NODE_SELECTOR }, tolerations: GPU_TOLERATIONS.map((t) => ({ ...t })) } : {}),
                model: {
                    modelFormat: { name: m.runtime },
                    ...(m.storageUri ? { storageUri: m.storageUri } : {}),
                    // Exactly a protocolVersion the runtime declares (KServe matches it exactly); gRPC
                    // is served on the runtime's gRPC port exposed as h2c (one port per Knative Service).
                    protocolVersion: choice.protocolVersion,
                    ...(m.args.length ? { args: m.args } : {}),
                    ...(choice.grpcPort ? { ports: [{ name: "h2c", containerPort: choice.grpcPort, protocol: "TCP" as const }] } : {}),
                    resources: {
                        requests: { cpu: m.cpuRequest, memory: m.memoryRequest, ...(m.gpu ? { "nvidia.com/gpu": "1" } : {}) },
                        limits: { cpu: m.cpuLimit, memory: m.memoryLimit, ...(m.gpu ? { "nvidia.com/gpu": "1" } : {}) },
                    },
                },
            },
        },
    };
}

export function inferenceGraph(g: KServeGraphSettings): InferenceGraph {
    return {
        apiVersion: "serving.kserve.io/v1alpha1",
        kind: "InferenceGraph",
        metadata: {
            name: g.name,
            namespace: MODELS_NAMESPACE,
            labels: { "app.kubernetes.io/part-of": "mlserve" },
            // KServe copies a graph's annotations onto its router's Knative revision: start it at zero too.
            ...(g.minReplicas === 0 ? { annotations: { "autoscaling.knative.dev/initial-scale": "0" } } : {}),
        },
        spec: {
            minReplicas: g.minReplicas,
            maxReplicas: g.maxReplicas,
            nodes: {
                root: {
                    routerType: g.routerType,
                    steps: g.steps.map((s) => ({ name: s.name, serviceName: s.model, ...(s.weight !== undefined ? { weight: s.weight } : {}) })),
                },
            },
        },
    };
}

export interface ModelEndpoint {
    protocol: Protocol;
    /** In-cluster URL (REST) or host:port (gRPC). */
    inCluster: string;
    /** Through the Knative ingress (Kourier): send `hostHeader` as Host. */
    external: { url: string; hostHeader: string };
    /** REST path, or the gRPC service/method. */
    path?: string;
    grpc?: { service: string; method: string; modelName: string };
}

/** Where Knative routes from: its ingress service and the route domain. */
export interface KnativeIngress {
    service: string;
    domain: string;
}

export function modelEndpoint(m: Pick<KServeModelSettings, "name" | "protocol" | "deploymentMode">, ingress: KnativeIngress | undefined, defaultMode: "Knative" | "Standard"): ModelEndpoint {
    const mode = m.deploymentMode ?? defaultMode;
    const host = `${m.name}-predictor.${MODELS_NAMESPACE}`;
    if (mode === "Knative" && !ingress) throw new Error(`model ${m.name} runs in Knative mode, which needs Knative's ingress`);
    const external =
        mode === "Knative" && ingress
            ? { url: `http://${ingress.service}`, hostHeader: `${host}.${ingress.domain}` }
            : { url: `http://${host}.svc.cluster.local`, hostHeader: `${host}.svc.cluster.local` };
    if (m.protocol === "grpc-v2") {
        return { protocol: m.protocol, inCluster: `${host}.svc.cluster.local:80`, external, grpc: { service: OIP_GRPC.service, method: OIP_GRPC.method, modelName: m.name } };
    }
    const path = m.protocol === "v1" ? `/v1/models/${m.name}:predict` : `/v2/models/${m.name}/infer`;
    return { protocol: m.protocol, inCluster: `http://${host}.svc.cluster.local`, external, path };
}

export function graphEndpoint(g: Pick<KServeGraphSettings, "name">, ingress: KnativeIngress | undefined): ModelEndpoint {
    const host = `${g.name}.${MODELS_NAMESPACE}`;
    const inCluster = `http://${host}.svc.cluster.local`;
    const external = ingress ? { url: `http://${ingress.service}`, hostHeader: `${host}.${ingress.domain}` } : { url: inCluster, hostHeader: `${host}.svc.cluster.local` };
    return { protocol: "v1", inCluster, external, path: "/" };
}

/** Model server metrics (user-port) and Knative's queue-proxy request metrics (http-usermetric) of every InferenceService. */
export function modelMonitorSpec(): PodMonitor["spec"] {
    return {
        selector: { matchExpressions: [{ key: "serving.kserve.io/inferenceservice", operator: "Exists" }] },
        namespaceSelector: { any: true },
        // Knative names the model container's port user-port; queue-proxy serves request metrics on http-usermetric.
        podMetricsEndpoints: [
            { port: "user-port", path: "/metrics", interval: "15s" },
            { port: "http-usermetric", path: "/metrics", interval: "15s" },
        ],
    };
}
