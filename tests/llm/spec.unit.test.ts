/**
 * The Kubernetes objects of one LLM server (components/workloads/llm/spec.ts),
 * built from plain config objects: what `pulumi up` would send, field by field.
 */
import { describe, expect, it } from "vitest";
import { fleetSchema, variantSchema } from "../../infra/config/fleet";
import {
    engineMonitorSpec,
    rolloutTimeoutSeconds,
    variantCacheClaim,
    variantDeployment,
    variantEndpoint,
    variantPdb,
    variantScaledObject,
    variantService,
    type FleetSettings,
    type VariantSettings,
} from "../../components/workloads/llm/spec";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- deep reads of built specs (Pulumi Input types)
type Json = Record<string, any>;

const variant = (v: Record<string, unknown>): VariantSettings => variantSchema.parse(v);
const fleet = (f: Record<string, unknown> = {}): FleetSettings => fleetSchema.parse(f);

const gpuPool = { nodeSelector: { "mlserve.io/node-pool": "gpu" }, tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }] };
const labels = (name: string, engine: string) => ({ "app.kubernetes.io/name": `llm-${name}`, "app.kubernetes.io/part-of": "mlserve", "mlserve.io/engine": engine, "mlserve.io/variant": name });
const TGI_ROUTES = {
    generate: "/generate",
    generateStream: "/generate_stream",
    chatCompletions: "/v1/chat/completions",
    completions: "/v1/completions",
    health: "/health",
    info: "/info",
    metrics: "/metrics",
};
const VLLM_ROUTES = { chatCompletions: "/v1/chat/completions", completions: "/v1/completions", health: "/health", models: "/v1/models", metrics: "/metrics" };

describe("rollout timeout", () => {
    it("is the startup probe's 20 minutes plus 15 minutes for a GPU node to join and pull the image: 2100 s", () => {
        expect(rolloutTimeoutSeconds()).toBe(2100);
    });
});

describe("variant Deployment", () => {
    it("a default TGI variant: the whole object", () => {
        const d = variantDeployment(variant({ name: "fp16", replicas: 1 }), fleet(), false);
        expect(d).toEqual({
            metadata: { name: "llm-fp16", namespace: "llm", labels: labels("fp16", "tgi"), annotations: { "pulumi.com/timeoutSeconds": "2100" } },
            spec: {
                replicas: 1,
                selector: { matchLabels: { "mlserve.io/variant": "fp16", "app.kubernetes.io/name": "llm-fp16" } },
                strategy: { type: "Recreate" },
                template: {
                    metadata: { labels: labels("fp16", "tgi") },
                    spec: {
                        ...gpuPool,
                        terminationGracePeriodSeconds: 120,
                        containers: [
                            {
                                name: "server",
                                image: "ghcr.io/huggingface/text-generation-inference:3.3.7",
                                args: [
                                    "--model-id", "microsoft/Phi-3.5-mini-instruct",
                                    "--hostname", "0.0.0.0",
                                    "--port", "80",
                                    "--max-input-tokens", "2048",
                                    "--max-total-tokens", "4096",
                                    "--max-concurrent-requests", "128",
                                    "--max-batch-prefill-tokens", "4096",
                                    // 120 s of grace minus 15 s for the preStop sleep and the Service to drop the pod.
                                    "--graceful-termination-timeout", "105",
                                    "--usage-stats", "off",
                                    "--json-output",
                                ],
                                env: [
                                    { name: "HF_HOME", value: "/data" },
                                    { name: "HF_HUB_ENABLE_HF_TRANSFER", value: "1" },
                                    { name: "HF_HUB_DISABLE_TELEMETRY", value: "1" },
                                ],
                                ports: [{ name: "http", containerPort: 80, protocol: "TCP" }],
                                resources: {
                                    requests: { "nvidia.com/gpu": "1", cpu: "4", memory: "24Gi" },
                                    limits: { "nvidia.com/gpu": "1", memory: "48Gi" },
                                },
                                startupProbe: { httpGet: { path: "/health", port: "http" }, periodSeconds: 10, failureThreshold: 120, timeoutSeconds: 5 },
                                readinessProbe: { httpGet: { path: "/health", port: "http" }, periodSeconds: 5, failureThreshold: 3, timeoutSeconds: 5 },
                                livenessProbe: { httpGet: { path: "/health", port: "http" }, periodSeconds: 20, failureThreshold: 6, timeoutSeconds: 10 },
                                lifecycle: { preStop: { exec: { command: ["sleep", "10"] } } },
                                volumeMounts: [
                                    { name: "shm", mountPath: "/dev/shm" },
                                    { name: "model-cache", mountPath: "/data" },
                                ],
                            },
                        ],
                        volumes: [
                            { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "1Gi" } },
                            { name: "model-cache", hostPath: { path: "/var/lib/mlserve/hf-cache", type: "DirectoryOrCreate" } },
                        ],
                    },
                },
            },
        });
    });

    it("a vLLM variant with a token, a PVC cache and its own sizes: port 8000, opt-outs of usage stats, the token from its Secret", () => {
        const v = variant({ name: "big", engine: "vllm", replicas: 2, gpus: 4, image: "vllm/vllm-openai:v0.10.2", revision: "abc123" });
        const f = fleet({ modelCache: "pvc", shmSize: "8Gi", cpuRequest: "16", memoryRequest: "64Gi", memoryLimit: "96Gi", terminationGraceSeconds: 300 });
        const d = variantDeployment(v, f, true) as Json;
        expect(d.metadata.labels).toEqual(labels("big", "vllm"));
        expect(d.spec.replicas).toBe(2);
        const pod = d.spec.template.spec;
        expect(pod.terminationGracePeriodSeconds).toBe(300);
        const c = pod.containers[0];
        expect(c.image).toBe("vllm/vllm-openai:v0.10.2");
        expect(c.args).toEqual([
            "--model", "microsoft/Phi-3.5-mini-instruct",
            "--revision", "abc123",
            "--served-model-name", "microsoft/Phi-3.5-mini-instruct",
            "--host", "0.0.0.0",
            "--port", "8000",
            "--max-model-len", "4096",
            "--max-num-seqs", "128",
            "--max-num-batched-tokens", "4096",
            "--gpu-memory-utilization", "0.9",
        ]);
        expect(c.env).toEqual([
            { name: "HF_HOME", value: "/data" },
            { name: "HF_HUB_ENABLE_HF_TRANSFER", value: "1" },
            { name: "HF_HUB_DISABLE_TELEMETRY", value: "1" },
            { name: "VLLM_NO_USAGE_STATS", value: "1" },
            { name: "DO_NOT_TRACK", value: "1" },
            { name: "HF_TOKEN", valueFrom: { secretKeyRef: { name: "hf-token", key: "token" } } },
        ]);
        expect(c.ports).toEqual([{ name: "http", containerPort: 8000, protocol: "TCP" }]);
        expect(c.resources).toEqual({ requests: { "nvidia.com/gpu": "4", cpu: "16", memory: "64Gi" }, limits: { "nvidia.com/gpu": "4", memory: "96Gi" } });
        expect(pod.volumes).toEqual([
            { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "8Gi" } },
            { name: "model-cache", persistentVolumeClaim: { claimName: "llm-big-cache" } },
        ]);
    });

    it("a TGI variant with a token gets HF_TOKEN but none of vLLM's variables", () => {
        const env = (variantDeployment(variant({ name: "a" }), fleet(), true) as Json).spec.template.spec.containers[0].env;
        expect(env).toEqual([
            { name: "HF_HOME", value: "/data" },
            { name: "HF_HUB_ENABLE_HF_TRANSFER", value: "1" },
            { name: "HF_HUB_DISABLE_TELEMETRY", value: "1" },
            { name: "HF_TOKEN", valueFrom: { secretKeyRef: { name: "hf-token", key: "token" } } },
        ]);
    });

    it("the emptyDir cache keeps nothing across restarts", () => {
        expect((variantDeployment(variant({ name: "a" }), fleet({ modelCache: "emptyDir" }), false) as Json).spec.template.spec.volumes[1]).toEqual({ name: "model-cache", emptyDir: {} });
    });

    it("TGI's graceful stop is the pod's grace minus 15 s, never below 5 s (grace 20 and 10 both give 5)", () => {
        const graceful = (terminationGraceSeconds: number) => {
            const args = (variantDeployment(variant({ name: "a" }), fleet({ terminationGraceSeconds }), false) as Json).spec.template.spec.containers[0].args;
            return args[args.indexOf("--graceful-termination-timeout") + 1];
        };
        expect(graceful(21)).toBe("6");
        expect(graceful(20)).toBe("5");
        expect(graceful(10)).toBe("5");
        expect(graceful(3600)).toBe("3585");
    });

    it("quantize, dtype and token limits reach the server's arguments", () => {
        const args = (variantDeployment(variant({ name: "a", quantize: "eetq", maxInputTokens: 1000, maxTotalTokens: 1500, maxConcurrentRequests: 7, maxBatchPrefillTokens: 1200 }), fleet(), false) as Json).spec.template.spec.containers[0].args;
        expect(args.slice(6, 16)).toEqual(["--quantize", "eetq", "--max-input-tokens", "1000", "--max-total-tokens", "1500", "--max-concurrent-requests", "7", "--max-batch-prefill-tokens", "1200"]);
        const dtype = (variantDeployment(variant({ name: "a", dtype: "float16" }), fleet(), false) as Json).spec.template.spec.containers[0].args;
        expect(dtype.slice(6, 8)).toEqual(["--dtype", "float16"]);
    });
});

describe("variant Service", () => {
    it("ClusterIP on port 80 to the named server port, selecting only this variant's pods", () => {
        expect(variantService(variant({ name: "eetq", quantize: "eetq" }))).toEqual({
            metadata: { name: "llm-eetq", namespace: "llm", labels: labels("eetq", "tgi") },
            spec: {
                type: "ClusterIP",
                selector: { "mlserve.io/variant": "eetq", "app.kubernetes.io/name": "llm-eetq" },
                ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
            },
        });
    });
});

describe("variant PodDisruptionBudget", () => {
    const pdb = (name: string, engine: string) => ({
        metadata: { name: `llm-${name}`, namespace: "llm", labels: labels(name, engine) },
        spec: { maxUnavailable: 1, selector: { matchLabels: { "mlserve.io/variant": name } } },
    });

    it("two fixed replicas get one that lets a node drain one pod at a time", () => {
        expect(variantPdb(variant({ name: "a", replicas: 2 }))).toEqual(pdb("a", "tgi"));
        expect(variantPdb(variant({ name: "v", engine: "vllm", replicas: 3 }))).toEqual(pdb("v", "vllm"));
    });

    it("one replica, or a parked variant, gets none (it would block every node drain)", () => {
        expect(variantPdb(variant({ name: "a", replicas: 1 }))).toBeUndefined();
        expect(variantPdb(variant({ name: "a", replicas: 0 }))).toBeUndefined();
    });

    it("one replica that autoscales up to 2 gets one; with autoscaling off its maxReplicas does not count", () => {
        expect(variantPdb(variant({ name: "a", replicas: 1, autoscaling: { enabled: true, maxReplicas: 2 } }))).toEqual(pdb("a", "tgi"));
        expect(variantPdb(variant({ name: "a", replicas: 0, autoscaling: { enabled: true, maxReplicas: 2 } }))).toEqual(pdb("a", "tgi"));
        expect(variantPdb(variant({ name: "a", replicas: 1, autoscaling: { enabled: true, maxReplicas: 1 } }))).toBeUndefined();
        expect(variantPdb(variant({ name: "a", replicas: 1, autoscaling: { enabled: false, maxReplicas: 4 } }))).toBeUndefined();
    });

    it("two replicas keep their PDB even when the autoscaling maximum is lower", () => {
        expect(variantPdb(variant({ name: "a", replicas: 2, autoscaling: { enabled: true, maxReplicas: 1 } }))).toEqual(pdb("a", "tgi"));
    });
});

describe("variant cache claim", () => {
    it("with modelCache pvc: a gp3 ReadWriteOnce claim of cacheSizeGiB per variant", () => {
        expect(variantCacheClaim(variant({ name: "a" }), fleet({ modelCache: "pvc", cacheSizeGiB: 50 }))).toEqual({
            metadata: { name: "llm-a-cache", namespace: "llm", labels: labels("a", "tgi") },
            spec: { accessModes: ["ReadWriteOnce"], storageClassName: "gp3", resources: { requests: { storage: "50Gi" } } },
        });
    });

    it("with hostPath or emptyDir: no claim", () => {
        expect(variantCacheClaim(variant({ name: "a" }), fleet({ modelCache: "hostPath" }))).toBeUndefined();
        expect(variantCacheClaim(variant({ name: "a" }), fleet({ modelCache: "emptyDir" }))).toBeUndefined();
    });
});

describe("engine PodMonitor", () => {
    it("scrapes /metrics on the http port of every TGI and vLLM pod every 15 s, keeping the variant label", () => {
        expect(engineMonitorSpec()).toEqual({
            selector: { matchExpressions: [{ key: "mlserve.io/engine", operator: "In", values: ["tgi", "vllm"] }] },
            namespaceSelector: { any: true },
            podMetricsEndpoints: [{ port: "http", path: "/metrics", interval: "15s" }],
            podTargetLabels: ["mlserve.io/variant"],
        });
    });
});

describe("variant ScaledObject", () => {
    const prometheus = "http://kps-prometheus.monitoring.svc.cluster.local:9090";

    it("an autoscaled variant scales between replicas and maxReplicas on its queue depth", () => {
        expect(variantScaledObject(variant({ name: "fp16", replicas: 1, autoscaling: { enabled: true, maxReplicas: 3, queueDepthTarget: 8 } }), prometheus)).toEqual({
            apiVersion: "keda.sh/v1alpha1",
            kind: "ScaledObject",
            metadata: { name: "llm-fp16", namespace: "llm", labels: labels("fp16", "tgi") },
            spec: {
                scaleTargetRef: { name: "llm-fp16" },
                minReplicaCount: 1,
                maxReplicaCount: 3,
                pollingInterval: 15,
                cooldownPeriod: 600,
                triggers: [{ type: "prometheus", metadata: { serverAddress: prometheus, query: 'sum(tgi_queue_size{mlserve_io_variant="fp16"})', threshold: "8" } }],
            },
        });
    });

    it("a vLLM variant scales on waiting requests", () => {
        const s = variantScaledObject(variant({ name: "v", engine: "vllm", replicas: 2, autoscaling: { enabled: true, maxReplicas: 4, queueDepthTarget: 3 } }), "http://p:9090");
        expect(s?.spec).toMatchObject({ minReplicaCount: 2, maxReplicaCount: 4, triggers: [{ metadata: { serverAddress: "http://p:9090", query: 'sum(vllm:num_requests_waiting{mlserve_io_variant="v"})', threshold: "3" } }] });
    });

    it("no scaler without autoscaling, nor for a parked variant (KEDA would start it)", () => {
        expect(variantScaledObject(variant({ name: "a", replicas: 1 }), prometheus)).toBeUndefined();
        expect(variantScaledObject(variant({ name: "a", replicas: 0, autoscaling: { enabled: true } }), prometheus)).toBeUndefined();
    });
});

describe("variant endpoint", () => {
    it("a TGI variant: in-cluster URL, engine, model, mode, replicas and TGI's routes", () => {
        expect(variantEndpoint(variant({ name: "eetq", quantize: "eetq" }))).toEqual({
            baseUrl: "http://llm-eetq.llm.svc.cluster.local",
            engine: "tgi",
            model: "microsoft/Phi-3.5-mini-instruct",
            quantize: "eetq",
            replicas: 0,
            routes: TGI_ROUTES,
        });
    });

    it("a vLLM variant lists vLLM's routes (no /generate)", () => {
        expect(variantEndpoint(variant({ name: "v", engine: "vllm", modelId: "org/m", replicas: 2 }))).toEqual({
            baseUrl: "http://llm-v.llm.svc.cluster.local",
            engine: "vllm",
            model: "org/m",
            quantize: "none",
            replicas: 2,
            routes: VLLM_ROUTES,
        });
    });
});
