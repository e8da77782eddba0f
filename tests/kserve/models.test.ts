import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig } from "../../infra/config/load";
import { dependsOn, one, ofType, renderConfig, renderStackFile, type Rendering } from "../harness/render";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- deep reads of rendered specs
type Json = Record<string, any>;

let dev: Rendering;
beforeAll(async () => {
    dev = await renderStackFile("dev");
});

const isvc = (r: Rendering, model: string) => one(r, "kubernetes:serving.kserve.io/v1beta1:InferenceService", `mlserve-${r.stack}-kserve-${model}`).inputs as Json;

function problems(config: Record<string, unknown>) {
    const raw: Record<string, string> = { "aws:region": "us-east-1", "mlserve:lifecycle": JSON.stringify({ owner: "test-owner" }) };
    for (const [k, v] of Object.entries(config)) raw[k] = JSON.stringify(v);
    try {
        parseStackConfig(raw, { project: "mlserve", stack: "dev", source: "test" });
        return [];
    } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        return err.problems;
    }
}
const models = (...ms: Record<string, unknown>[]) => ({ "mlserve:kserveModels": ms, "mlserve:kserveGraphs": [] });
const uri = "hf://distilbert/distilbert-base-uncased-finetuned-sst-2-english";

describe("validation rejects what Knative and KServe would reject", () => {
    it.each([
        [{ minReplicas: 3, maxReplicas: 2 }, "minReplicas", /must be <= maxReplicas \(2\)/],
        [{ scaleMetric: "cpu" }, "scaleMetric", /not a metric of Knative's KPA autoscaler/],
        [{ autoscalerClass: "hpa", scaleMetric: "concurrency", minReplicas: 1 }, "scaleMetric", /needs the KPA class/],
        [{ autoscalerClass: "hpa", scaleMetric: "cpu", minReplicas: 0 }, "minReplicas", /HPA autoscaler class cannot scale to zero/],
        [{ deploymentMode: "Standard", scaleMetric: "cpu", minReplicas: 0 }, "minReplicas", /Standard deployment mode .* cannot scale to zero/],
        [{ deploymentMode: "Standard", minReplicas: 1 }, "scaleMetric", /Standard deployment mode scales with an HPA on cpu or memory/],
        [{ runtime: "triton", protocol: "v1", storageUri: "s3://bucket/model" }, "protocol", /runtimes for "triton" \(kserve-tritonserver\) serve v2, grpc-v2, not v1/],
        [{ protocol: "grpc-v2", batcher: { enabled: true } }, "batcher", /cannot batch gRPC/],
        [{ containerConcurrency: 4, scaleTarget: 10 }, "scaleTarget", /can never be reached with containerConcurrency 4/],
        [{ runtime: "sklearn", storageUri: undefined }, "storageUri", /loads a model from storageUri/],
    ])("%o is rejected on %s", (override, field, message) => {
        const ps = problems(models({ name: "m", storageUri: uri, ...override }));
        expect(ps).toEqual([expect.objectContaining({ path: `mlserve:kserveModels[0].${field}`, message: expect.stringMatching(message) })]);
    });

    it("valid settings pass: hpa on cpu with a floor, Standard mode on cpu, scale to zero on concurrency", () => {
        expect(problems(models({ name: "a", storageUri: uri, autoscalerClass: "hpa", scaleMetric: "cpu", scaleTarget: 70, minReplicas: 1 }))).toEqual([]);
        expect(problems(models({ name: "b", storageUri: uri, deploymentMode: "Standard", scaleMetric: "cpu", minReplicas: 1 }))).toEqual([]);
        expect(problems(models({ name: "c", storageUri: uri }))).toEqual([]);
    });

    it("unknown keys and bad values name the key path", () => {
        const ps = problems(models({ name: "m", storageUri: "ftp://x", protocl: "v2" }));
        expect(ps.map((p) => p.path).sort()).toEqual(["mlserve:kserveModels[0].protocl", "mlserve:kserveModels[0].storageUri"]);
        expect(ps.find((p) => p.path.endsWith("protocl"))!.message).toMatch(/did you mean "protocol"/);
    });

    it("model names are unique, and models need the KServe add-on", () => {
        expect(problems(models({ name: "m", storageUri: uri }, { name: "m", storageUri: uri })).map((p) => p.path)).toEqual(["mlserve:kserveModels[1].name"]);
        const ps = problems({ ...models({ name: "m", storageUri: uri }), "mlserve:addons": { kserve: { enabled: false } } });
        expect(ps).toEqual([expect.objectContaining({ path: "mlserve:kserveModels", message: expect.stringMatching(/each KServe model needs KServe: every model is an InferenceService. Set mlserve:addons.kserve.enabled to true, or set mlserve:kserveModels/) })]);
    });
});

describe("graph validation", () => {
    const two = models({ name: "a", storageUri: uri }, { name: "b", storageUri: uri }, { name: "g", storageUri: uri, protocol: "grpc-v2" }, { name: "v2", storageUri: uri, protocol: "v2" });
    const graph = (g: Record<string, unknown>) => ({ ...two, "mlserve:kserveGraphs": [{ name: "ens", routerType: "Ensemble", ...g }] });

    it("a step must name an existing model (the message lists the models)", () => {
        const ps = problems(graph({ steps: [{ name: "s1", model: "a" }, { name: "s2", model: "missing" }] }));
        expect(ps).toEqual([expect.objectContaining({ path: "mlserve:kserveGraphs[0].steps[1].model", message: expect.stringMatching(/no model named "missing" .*models: a, b, g, v2/) })]);
    });

    it("steps must be REST models, an Ensemble needs two, members share a protocol", () => {
        expect(problems(graph({ steps: [{ name: "s1", model: "a" }, { name: "s2", model: "g" }] })).map((p) => p.path)).toContain("mlserve:kserveGraphs[0].steps[1].model");
        expect(problems(graph({ steps: [{ name: "s1", model: "a" }] })).map((p) => p.path)).toEqual(["mlserve:kserveGraphs[0].steps"]);
        expect(problems(graph({ steps: [{ name: "s1", model: "a" }, { name: "s2", model: "v2" }] }))[0]!.message).toMatch(/share one protocol \(got v1, v2\)/);
    });

    it("Splitter weights add up to 100; step names are unique; a graph may not reuse a model name", () => {
        expect(problems(graph({ routerType: "Splitter", steps: [{ name: "s1", model: "a", weight: 50 }, { name: "s2", model: "b", weight: 30 }] }))[0]!.message).toMatch(/add up to 100 \(got 80\)/);
        expect(problems(graph({ steps: [{ name: "s", model: "a" }, { name: "s", model: "b" }] })).map((p) => p.path)).toEqual(["mlserve:kserveGraphs[0].steps[1].name"]);
        expect(problems(graph({ name: "a", steps: [{ name: "s1", model: "a" }, { name: "s2", model: "b" }] })).map((p) => p.path)).toEqual(["mlserve:kserveGraphs[0].name"]);
    });
});

describe("rendered InferenceServices", () => {
    it("dev renders the default models and graph; each waits for the KServe controller (webhooks)", () => {
        const names = ofType(dev, "kubernetes:serving.kserve.io/v1beta1:InferenceService").map((r) => (r.inputs.metadata as Json).name).sort();
        expect(names).toEqual(["sentiment-roberta", "sst2", "sst2-grpc", "sst2-v2"]);
        const controller = ofType(dev, "kubernetes:helm.sh/v3:Release").find((r) => r.inputs.name === "kserve")!;
        for (const r of ofType(dev, "kubernetes:serving.kserve.io/v1beta1:InferenceService")) expect(dependsOn(dev, r, controller)).toBe(true);
    });

    it("Knative autoscaling: scale to zero, concurrency target, containerConcurrency; annotations where the CRD has no field", async () => {
        const p = isvc(dev, "sst2").spec.predictor;
        expect(p).toMatchObject({ minReplicas: 0, maxReplicas: 3, scaleMetric: "concurrency", scaleTarget: 10, containerConcurrency: 0 });
        expect(isvc(dev, "sst2").metadata.annotations["serving.kserve.io/deploymentMode"]).toBe("Knative");
        // Without it Knative starts one pod per model at `pulumi up` even with minReplicas 0.
        expect(isvc(dev, "sst2").metadata.annotations["autoscaling.knative.dev/initial-scale"]).toBe("0");
        const r = await renderConfig(models({ name: "m", storageUri: uri, scaleDownDelay: "5m", scaleToZeroRetention: "2m", autoscalerClass: "hpa", scaleMetric: "cpu", minReplicas: 1 }));
        expect(isvc(r, "m").metadata.annotations).toMatchObject({
            "autoscaling.knative.dev/scale-down-delay": "5m",
            "autoscaling.knative.dev/scale-to-zero-pod-retention-period": "2m",
            "autoscaling.knative.dev/class": "hpa.autoscaling.knative.dev",
        });
        expect(isvc(r, "m").metadata.annotations).not.toHaveProperty("autoscaling.knative.dev/initial-scale");
    });

    it("the default classifiers pin the Transformers backend (the runtime would pick vLLM for RoBERTa, which fails on CPU)", () => {
        for (const m of ["sst2", "sentiment-roberta", "sst2-v2", "sst2-grpc"]) expect(isvc(dev, m).spec.predictor.model.args, m).toContain("--backend=huggingface");
    });

    it("the batcher is off by default and rendered from config when on", async () => {
        expect(isvc(dev, "sst2").spec.predictor.batcher).toBeUndefined();
        const r = await renderConfig(models({ name: "m", storageUri: uri, batcher: { enabled: true, maxBatchSize: 16, maxLatencyMs: 20 } }));
        expect(isvc(r, "m").spec.predictor.batcher).toEqual({ maxBatchSize: 16, maxLatency: 20, timeout: 60 });
    });

    it("gRPC models expose exactly one port, named h2c; REST models none", () => {
        expect(isvc(dev, "sst2-grpc").spec.predictor.model).toMatchObject({ protocolVersion: "v2", ports: [{ name: "h2c", containerPort: 8081, protocol: "TCP" }] });
        expect(isvc(dev, "sst2").spec.predictor.model.ports).toBeUndefined();
        expect(isvc(dev, "sst2-v2").spec.predictor.model.protocolVersion).toBe("v2");
    });

    it("GPU models get the GPU resource, node selector and toleration (allowed by the Knative podspec flags)", async () => {
        const r = await renderConfig(models({ name: "m", storageUri: uri, gpu: true }));
        const p = isvc(r, "m").spec.predictor;
        expect(p.nodeSelector).toEqual({ "mlserve.io/node-pool": "gpu" });
        expect(p.tolerations).toEqual([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
        expect(p.model.resources.limits["nvidia.com/gpu"]).toBe("1");
    });
});

describe("InferenceGraph", () => {
    it("a graph with minReplicas 0 starts its router at zero pods (Knative's initial scale is 1 otherwise)", () => {
        const g = one(dev, "kubernetes:serving.kserve.io/v1alpha1:InferenceGraph").inputs as Json;
        expect(g.metadata.annotations).toEqual({ "autoscaling.knative.dev/initial-scale": "0" });
    });

    it("fans out to the two REST models with the Ensemble router, after they exist", () => {
        const graph = one(dev, "kubernetes:serving.kserve.io/v1alpha1:InferenceGraph");
        expect((graph.inputs.spec as Json).nodes).toEqual({
            root: { routerType: "Ensemble", steps: [{ name: "sst2", serviceName: "sst2" }, { name: "roberta", serviceName: "sentiment-roberta" }] },
        });
        for (const m of ["sst2", "sentiment-roberta"]) {
            expect(dependsOn(dev, graph, one(dev, "kubernetes:serving.kserve.io/v1beta1:InferenceService", `mlserve-dev-kserve-${m}`))).toBe(true);
        }
    });
});

describe("endpoints", () => {
    it("exports in-cluster URL, external URL with Host header, protocol and the exact path or gRPC method", () => {
        const { models: m, graphs } = dev.outputs.kserve!.value as { models: Record<string, Json>; graphs: Record<string, Json> };
        expect(m.sst2).toEqual({
            protocol: "v1",
            inCluster: "http://sst2-predictor.models.svc.cluster.local",
            external: { url: "http://kourier.knative-serving.svc.cluster.local", hostHeader: "sst2-predictor.models.example.com" },
            path: "/v1/models/sst2:predict",
        });
        expect(m["sst2-v2"]!.path).toBe("/v2/models/sst2-v2/infer");
        expect(m["sst2-grpc"]).toMatchObject({
            inCluster: "sst2-grpc-predictor.models.svc.cluster.local:80",
            grpc: { service: "inference.GRPCInferenceService", method: "ModelInfer", modelName: "sst2-grpc" },
        });
        expect(graphs["sentiment-ensemble"]).toMatchObject({ inCluster: "http://sentiment-ensemble.models.svc.cluster.local", path: "/" });
    });

    it("the Host header follows mlserve:addons.knative.domain", async () => {
        const r = await renderConfig({ ...models({ name: "m", storageUri: uri }), "mlserve:addons": { knative: { domain: "ml.example.org" } } });
        expect(((r.outputs.kserve!.value as Json).models.m as Json).external.hostHeader).toBe("m-predictor.models.ml.example.org");
    });

    it("no models: no namespace, no InferenceServices, empty endpoint maps", async () => {
        const r = await renderConfig({ "mlserve:kserveModels": [], "mlserve:kserveGraphs": [] });
        expect(ofType(r, "mlserve:kserve:Models")).toEqual([]);
        expect(r.outputs.kserve!.value).toEqual({ models: {}, graphs: {} });
    });
});
