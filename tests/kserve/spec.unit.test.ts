/**
 * KServe models and graphs as pure data (components/workloads/kserveModels/spec.ts):
 * the admission rules Knative and KServe would apply, the InferenceService and
 * InferenceGraph objects, and the endpoints the load tests call.
 */
import { describe, expect, it } from "vitest";
import { kserveGraphSchema, kserveModelSchema } from "../../infra/config/kserve";
import {
    graphEndpoint,
    graphErrors,
    inferenceGraph,
    inferenceService,
    modelEndpoint,
    modelErrors,
    modelMonitorSpec,
    type KServeGraphSettings,
    type KServeModelSettings,
} from "../../components/workloads/kserveModels/spec";

const uri = "hf://distilbert/distilbert-base-uncased-finetuned-sst-2-english";
const model = (m: Record<string, unknown>): KServeModelSettings => kserveModelSchema.parse({ name: "m", storageUri: uri, ...m });
const graph = (g: Record<string, unknown>): KServeGraphSettings => kserveGraphSchema.parse({ name: "g", ...g });
const ingress = { service: "kourier.knative-serving.svc.cluster.local", domain: "example.com" };

describe("model admission rules, Knative mode", () => {
    it("the defaults (KPA on concurrency, scale to zero, huggingface over v1) pass", () => {
        expect(modelErrors(model({}), "Knative")).toEqual([]);
    });

    it.each(["cpu", "memory"])("KPA cannot scale on %s: the message names the metric and the fix (autoscalerClass: hpa)", (scaleMetric) => {
        expect(modelErrors(model({ scaleMetric, minReplicas: 1 }), "Knative")).toEqual([
            { path: ["scaleMetric"], input: scaleMetric, message: `"${scaleMetric}" is not a metric of Knative's KPA autoscaler (concurrency or rps); set autoscalerClass: hpa to scale on ${scaleMetric}` },
        ]);
    });

    it.each(["concurrency", "rps"])("the HPA class cannot scale on %s", (scaleMetric) => {
        expect(modelErrors(model({ autoscalerClass: "hpa", scaleMetric, minReplicas: 1 }), "Knative")).toEqual([
            { path: ["scaleMetric"], input: scaleMetric, message: `"${scaleMetric}" needs the KPA class; the HPA class scales on cpu or memory` },
        ]);
    });

    it("the HPA class on cpu or memory with a floor of 1 passes; with a floor of 0 it cannot scale to zero", () => {
        expect(modelErrors(model({ autoscalerClass: "hpa", scaleMetric: "cpu", minReplicas: 1 }), "Knative")).toEqual([]);
        expect(modelErrors(model({ autoscalerClass: "hpa", scaleMetric: "memory", minReplicas: 1 }), "Knative")).toEqual([]);
        expect(modelErrors(model({ autoscalerClass: "hpa", scaleMetric: "cpu", minReplicas: 0 }), "Knative")).toEqual([
            { path: ["minReplicas"], input: 0, message: "the HPA autoscaler class cannot scale to zero; use the KPA class or minReplicas >= 1" },
        ]);
    });

    it("KPA on rps scales to zero; Knative rules apply when the model asks for Knative on a Standard cluster", () => {
        expect(modelErrors(model({ scaleMetric: "rps" }), "Knative")).toEqual([]);
        expect(modelErrors(model({ deploymentMode: "Knative", scaleMetric: "rps", minReplicas: 0 }), "Standard")).toEqual([]);
    });
});

describe("model admission rules, Standard mode", () => {
    it("cpu or memory with a floor of 1 passes", () => {
        expect(modelErrors(model({ scaleMetric: "cpu", minReplicas: 1 }), "Standard")).toEqual([]);
        expect(modelErrors(model({ scaleMetric: "memory", minReplicas: 1, autoscalerClass: "hpa" }), "Standard")).toEqual([]);
    });

    it("cannot scale to zero and cannot scale on concurrency or rps", () => {
        expect(modelErrors(model({ scaleMetric: "cpu", minReplicas: 0 }), "Standard")).toEqual([
            { path: ["minReplicas"], input: 0, message: "Standard deployment mode (Deployment + HPA) cannot scale to zero; use Knative mode or minReplicas >= 1" },
        ]);
        expect(modelErrors(model({ scaleMetric: "rps", minReplicas: 1 }), "Standard")).toEqual([
            { path: ["scaleMetric"], input: "rps", message: 'Standard deployment mode scales with an HPA on cpu or memory, not "rps"' },
        ]);
        expect(modelErrors(model({ minReplicas: 0 }), "Standard").map((e) => e.path)).toEqual([["minReplicas"], ["scaleMetric"]]);
    });

    it("a model's own deploymentMode Standard wins over a Knative cluster default", () => {
        expect(modelErrors(model({ deploymentMode: "Standard", scaleMetric: "concurrency", minReplicas: 1 }), "Knative")).toEqual([
            { path: ["scaleMetric"], input: "concurrency", message: 'Standard deployment mode scales with an HPA on cpu or memory, not "concurrency"' },
        ]);
    });
});

describe("model rules in either mode", () => {
    it("a protocol no runtime of the format serves names the runtimes and what they serve", () => {
        expect(modelErrors(model({ runtime: "triton", protocol: "v1", storageUri: "s3://bucket/model" }), "Knative")).toEqual([
            { path: ["protocol"], input: "v1", message: 'the runtimes for "triton" (kserve-tritonserver) serve v2, grpc-v2, not v1' },
        ]);
    });

    it("the batcher cannot batch gRPC; it can batch REST", () => {
        const batcher = { enabled: true, maxBatchSize: 32, maxLatencyMs: 50, timeoutSeconds: 60 };
        expect(modelErrors(model({ protocol: "grpc-v2", batcher: { enabled: true } }), "Knative")).toEqual([
            { path: ["batcher"], input: batcher, message: "the KServe batcher is an HTTP sidecar and cannot batch gRPC; batch a REST model or turn the batcher off" },
        ]);
        expect(modelErrors(model({ protocol: "v2", batcher: { enabled: true } }), "Knative")).toEqual([]);
        expect(modelErrors(model({ protocol: "grpc-v2" }), "Knative")).toEqual([]);
    });

    it("a concurrency target above containerConcurrency is unreachable: equal passes, one above fails; 0 means unlimited", () => {
        expect(modelErrors(model({ containerConcurrency: 4, scaleTarget: 4 }), "Knative")).toEqual([]);
        expect(modelErrors(model({ containerConcurrency: 4, scaleTarget: 5 }), "Knative")).toEqual([
            { path: ["scaleTarget"], input: 5, message: "a concurrency target of 5 can never be reached with containerConcurrency 4" },
        ]);
        expect(modelErrors(model({ containerConcurrency: 0, scaleTarget: 500 }), "Knative")).toEqual([]);
        // An rps target is not bounded by in-flight requests.
        expect(modelErrors(model({ containerConcurrency: 4, scaleMetric: "rps", scaleTarget: 50 }), "Knative")).toEqual([]);
    });

    it("runtimes other than huggingface need a storageUri; huggingface can take the model id from its args", () => {
        expect(modelErrors(model({ runtime: "sklearn", storageUri: undefined }), "Knative")).toEqual([
            { path: ["storageUri"], input: undefined, message: "the sklearn runtime loads a model from storageUri (s3://, gs://, https://, hf://); set one" },
        ]);
        expect(modelErrors(model({ runtime: "sklearn", storageUri: "gs://bucket/iris" }), "Knative")).toEqual([]);
        expect(modelErrors(model({ storageUri: undefined, args: ["--model_id=org/m"] }), "Knative")).toEqual([]);
    });
});

describe("graph rules", () => {
    const models = [
        { name: "a", protocol: "v1" as const },
        { name: "b", protocol: "v1" as const },
        { name: "v2", protocol: "v2" as const },
        { name: "grpc", protocol: "grpc-v2" as const },
    ];

    it("an Ensemble of two REST models on one protocol passes", () => {
        expect(graphErrors(graph({ steps: [{ name: "s1", model: "a" }, { name: "s2", model: "b" }] }), models)).toEqual([]);
    });

    it("a step naming no model lists the models there are, or none", () => {
        const g = graph({ routerType: "Sequence", steps: [{ name: "s1", model: "a" }, { name: "s2", model: "missing" }] });
        expect(graphErrors(g, models)).toEqual([{ path: ["steps", 1, "model"], message: 'no model named "missing" in mlserve:kserveModels (models: a, b, v2, grpc)' }]);
        expect(graphErrors(g, [])).toEqual([
            { path: ["steps", 0, "model"], message: 'no model named "a" in mlserve:kserveModels (models: none)' },
            { path: ["steps", 1, "model"], message: 'no model named "missing" in mlserve:kserveModels (models: none)' },
        ]);
    });

    it("a missing step does not count as a second protocol", () => {
        expect(graphErrors(graph({ steps: [{ name: "s1", model: "a" }, { name: "s2", model: "missing" }] }), models).map((e) => e.path)).toEqual([["steps", 1, "model"]]);
    });

    it("a gRPC step is refused: the router calls models over REST", () => {
        expect(graphErrors(graph({ routerType: "Sequence", steps: [{ name: "s1", model: "grpc" }] }), models)).toEqual([
            { path: ["steps", 0, "model"], message: '"grpc" serves gRPC; the graph router calls models over REST' },
        ]);
    });

    it("an Ensemble needs two steps; a Sequence may have one", () => {
        expect(graphErrors(graph({ steps: [{ name: "s1", model: "a" }] }), models)).toEqual([{ path: ["steps"], message: "an Ensemble combines at least two models" }]);
        expect(graphErrors(graph({ routerType: "Sequence", steps: [{ name: "s1", model: "a" }] }), models)).toEqual([]);
    });

    it("Ensemble and Splitter steps share one protocol; a Sequence or Switch may mix", () => {
        const mixed = [{ name: "s1", model: "a" }, { name: "s2", model: "v2" }];
        expect(graphErrors(graph({ steps: mixed }), models)).toEqual([{ path: ["steps"], message: "all steps receive the same request body, so they must share one protocol (got v1, v2)" }]);
        expect(graphErrors(graph({ routerType: "Splitter", steps: mixed.map((s) => ({ ...s, weight: 50 })) }), models)).toEqual([
            { path: ["steps"], message: "all steps receive the same request body, so they must share one protocol (got v1, v2)" },
        ]);
        expect(graphErrors(graph({ routerType: "Sequence", steps: mixed }), models)).toEqual([]);
        expect(graphErrors(graph({ routerType: "Switch", steps: mixed }), models)).toEqual([]);
    });

    it("Splitter weights add up to exactly 100; a step without a weight counts 0", () => {
        const split = (w1: number | undefined, w2: number | undefined) =>
            graphErrors(graph({ routerType: "Splitter", steps: [{ name: "s1", model: "a", weight: w1 }, { name: "s2", model: "b", weight: w2 }] }), models);
        expect(split(70, 30)).toEqual([]);
        expect(split(70, 29)).toEqual([{ path: ["steps"], message: "Splitter weights must add up to 100 (got 99)" }]);
        expect(split(70, 31)).toEqual([{ path: ["steps"], message: "Splitter weights must add up to 100 (got 101)" }]);
        expect(split(60, undefined)).toEqual([{ path: ["steps"], message: "Splitter weights must add up to 100 (got 60)" }]);
        expect(split(100, undefined)).toEqual([]);
    });

    it("weights are not checked outside a Splitter", () => {
        expect(graphErrors(graph({ steps: [{ name: "s1", model: "a", weight: 10 }, { name: "s2", model: "b" }] }), models)).toEqual([]);
    });

    it("each repeated step name is reported at its own index", () => {
        expect(graphErrors(graph({ routerType: "Sequence", steps: [{ name: "s", model: "a" }, { name: "t", model: "b" }, { name: "s", model: "a" }, { name: "s", model: "b" }] }), models)).toEqual([
            { path: ["steps", 2, "name"], message: 'duplicates another step name "s"' },
            { path: ["steps", 3, "name"], message: 'duplicates another step name "s"' },
        ]);
    });
});

describe("InferenceService", () => {
    it("a default REST model: the whole object, started at zero pods", () => {
        expect(inferenceService(model({ name: "sst2", args: ["--backend=huggingface"] }))).toEqual({
            apiVersion: "serving.kserve.io/v1beta1",
            kind: "InferenceService",
            metadata: {
                name: "sst2",
                namespace: "models",
                labels: { "app.kubernetes.io/part-of": "mlserve", "mlserve.io/protocol": "v1" },
                annotations: { "autoscaling.knative.dev/initial-scale": "0" },
            },
            spec: {
                predictor: {
                    minReplicas: 0,
                    maxReplicas: 3,
                    scaleMetric: "concurrency",
                    scaleTarget: 10,
                    containerConcurrency: 0,
                    timeout: 60,
                    model: {
                        modelFormat: { name: "huggingface" },
                        storageUri: uri,
                        protocolVersion: "v1",
                        args: ["--backend=huggingface"],
                        resources: { requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } },
                    },
                },
            },
        });
    });

    it("a gRPC GPU model on the HPA class with every option: annotations, batcher-free h2c port, GPU placement and resource", () => {
        const m = model({
            name: "big",
            protocol: "grpc-v2",
            gpu: true,
            storageUri: undefined,
            minReplicas: 1,
            maxReplicas: 5,
            autoscalerClass: "hpa",
            scaleMetric: "cpu",
            scaleTarget: 70,
            containerConcurrency: 8,
            scaleDownDelay: "5m",
            scaleToZeroRetention: "2m",
            timeoutSeconds: 300,
            deploymentMode: "Knative",
            cpuRequest: "2",
            memoryRequest: "8Gi",
            cpuLimit: "4",
            memoryLimit: "16Gi",
        });
        expect(inferenceService(m)).toEqual({
            apiVersion: "serving.kserve.io/v1beta1",
            kind: "InferenceService",
            metadata: {
                name: "big",
                namespace: "models",
                labels: { "app.kubernetes.io/part-of": "mlserve", "mlserve.io/protocol": "grpc-v2" },
                annotations: {
                    "autoscaling.knative.dev/class": "hpa.autoscaling.knative.dev",
                    "autoscaling.knative.dev/scale-down-delay": "5m",
                    "autoscaling.knative.dev/scale-to-zero-pod-retention-period": "2m",
                    "serving.kserve.io/deploymentMode": "Knative",
                },
            },
            spec: {
                predictor: {
                    minReplicas: 1,
                    maxReplicas: 5,
                    scaleMetric: "cpu",
                    scaleTarget: 70,
                    containerConcurrency: 8,
                    timeout: 300,
                    nodeSelector: { "mlserve.io/node-pool": "gpu" },
                    tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
                    model: {
                        modelFormat: { name: "huggingface" },
                        // The Hugging Face server declares v1/v2 only and serves OIP gRPC on 8081.
                        protocolVersion: "v2",
                        ports: [{ name: "h2c", containerPort: 8081, protocol: "TCP" }],
                        resources: { requests: { cpu: "2", memory: "8Gi", "nvidia.com/gpu": "1" }, limits: { cpu: "4", memory: "16Gi", "nvidia.com/gpu": "1" } },
                    },
                },
            },
        });
    });

    it("a model with a floor of 1 and nothing to annotate has no annotations at all", () => {
        expect(inferenceService(model({ minReplicas: 1, protocol: "v2" })).metadata).toEqual({
            name: "m",
            namespace: "models",
            labels: { "app.kubernetes.io/part-of": "mlserve", "mlserve.io/protocol": "v2" },
        });
    });

    it("the batcher, when on, carries its size, latency and timeout", () => {
        expect(inferenceService(model({ batcher: { enabled: true, maxBatchSize: 16, maxLatencyMs: 20, timeoutSeconds: 30 } })).spec.predictor.batcher).toEqual({ maxBatchSize: 16, maxLatency: 20, timeout: 30 });
        expect(inferenceService(model({})).spec.predictor).not.toHaveProperty("batcher");
    });

    it("a runtime that declares grpc-v2 gets it, with its own gRPC port", () => {
        expect(inferenceService(model({ runtime: "triton", protocol: "grpc-v2", storageUri: "s3://bucket/model" })).spec.predictor.model).toMatchObject({
            modelFormat: { name: "triton" },
            protocolVersion: "grpc-v2",
            ports: [{ name: "h2c", containerPort: 9000, protocol: "TCP" }],
        });
    });

    it("refuses a protocol the runtime cannot serve, naming the model", () => {
        expect(() => inferenceService(model({ runtime: "triton", protocol: "v1", storageUri: "s3://bucket/model" }))).toThrow(
            new Error('InferenceService m: the runtimes for "triton" (kserve-tritonserver) serve v2, grpc-v2, not v1'),
        );
    });
});

describe("InferenceGraph", () => {
    it("a scale-to-zero Ensemble: the whole object; steps keep a weight only when set (0 included)", () => {
        // toStrictEqual: a step without a weight has no weight key (not weight: undefined).
        expect(inferenceGraph(graph({ name: "ens", steps: [{ name: "s1", model: "a" }, { name: "s2", model: "b", weight: 0 }] }))).toStrictEqual({
            apiVersion: "serving.kserve.io/v1alpha1",
            kind: "InferenceGraph",
            metadata: { name: "ens", namespace: "models", labels: { "app.kubernetes.io/part-of": "mlserve" }, annotations: { "autoscaling.knative.dev/initial-scale": "0" } },
            spec: {
                minReplicas: 0,
                maxReplicas: 3,
                nodes: { root: { routerType: "Ensemble", steps: [{ name: "s1", serviceName: "a" }, { name: "s2", serviceName: "b", weight: 0 }] } },
            },
        });
    });

    it("a graph with a floor of 1 gets no initial-scale annotation", () => {
        expect(inferenceGraph(graph({ routerType: "Splitter", minReplicas: 1, maxReplicas: 2, steps: [{ name: "s1", model: "a", weight: 100 }] }))).toEqual({
            apiVersion: "serving.kserve.io/v1alpha1",
            kind: "InferenceGraph",
            metadata: { name: "g", namespace: "models", labels: { "app.kubernetes.io/part-of": "mlserve" } },
            spec: { minReplicas: 1, maxReplicas: 2, nodes: { root: { routerType: "Splitter", steps: [{ name: "s1", serviceName: "a", weight: 100 }] } } },
        });
    });
});

describe("endpoints", () => {
    it("Knative mode: in-cluster predictor URL, the ingress with the route's Host header, and the v1 path", () => {
        expect(modelEndpoint({ name: "sst2", protocol: "v1" }, ingress, "Knative")).toEqual({
            protocol: "v1",
            inCluster: "http://sst2-predictor.models.svc.cluster.local",
            external: { url: "http://kourier.knative-serving.svc.cluster.local", hostHeader: "sst2-predictor.models.example.com" },
            path: "/v1/models/sst2:predict",
        });
    });

    it("v2 REST uses the Open Inference Protocol infer path", () => {
        expect(modelEndpoint({ name: "m2", protocol: "v2" }, ingress, "Knative").path).toBe("/v2/models/m2/infer");
    });

    it("gRPC: host:80 in the cluster and the OIP service and method", () => {
        expect(modelEndpoint({ name: "g", protocol: "grpc-v2" }, ingress, "Knative")).toEqual({
            protocol: "grpc-v2",
            inCluster: "g-predictor.models.svc.cluster.local:80",
            external: { url: "http://kourier.knative-serving.svc.cluster.local", hostHeader: "g-predictor.models.example.com" },
            grpc: { service: "inference.GRPCInferenceService", method: "ModelInfer", modelName: "g" },
        });
    });

    it("Standard mode has no Knative route: external is the Service itself, with or without an ingress", () => {
        const standard = {
            protocol: "v1",
            inCluster: "http://s-predictor.models.svc.cluster.local",
            external: { url: "http://s-predictor.models.svc.cluster.local", hostHeader: "s-predictor.models.svc.cluster.local" },
            path: "/v1/models/s:predict",
        };
        expect(modelEndpoint({ name: "s", protocol: "v1" }, undefined, "Standard")).toEqual(standard);
        expect(modelEndpoint({ name: "s", protocol: "v1" }, ingress, "Standard")).toEqual(standard);
        expect(modelEndpoint({ name: "s", protocol: "v1", deploymentMode: "Standard" }, ingress, "Knative")).toEqual(standard);
    });

    it("Knative mode without Knative's ingress is an error naming the model", () => {
        expect(() => modelEndpoint({ name: "k", protocol: "v1" }, undefined, "Knative")).toThrow(new Error("model k runs in Knative mode, which needs Knative's ingress"));
        expect(() => modelEndpoint({ name: "k", protocol: "v1", deploymentMode: "Knative" }, undefined, "Standard")).toThrow(/model k runs in Knative mode/);
    });

    it("a graph: its router Service, through the ingress when there is one, at /", () => {
        expect(graphEndpoint({ name: "ens" }, ingress)).toEqual({
            protocol: "v1",
            inCluster: "http://ens.models.svc.cluster.local",
            external: { url: "http://kourier.knative-serving.svc.cluster.local", hostHeader: "ens.models.example.com" },
            path: "/",
        });
        expect(graphEndpoint({ name: "ens" }, undefined)).toEqual({
            protocol: "v1",
            inCluster: "http://ens.models.svc.cluster.local",
            external: { url: "http://ens.models.svc.cluster.local", hostHeader: "ens.models.svc.cluster.local" },
            path: "/",
        });
    });
});

describe("model PodMonitor", () => {
    it("scrapes every InferenceService pod's model metrics and queue-proxy metrics every 15 s", () => {
        expect(modelMonitorSpec()).toEqual({
            selector: { matchExpressions: [{ key: "serving.kserve.io/inferenceservice", operator: "Exists" }] },
            namespaceSelector: { any: true },
            podMetricsEndpoints: [
                { port: "user-port", path: "/metrics", interval: "15s" },
                { port: "http-usermetric", path: "/metrics", interval: "15s" },
            ],
        });
    });
});
