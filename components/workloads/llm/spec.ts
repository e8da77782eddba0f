/**
 * Pure builders for one LLM server (a "variant"): Deployment, Service, PDB,
 * cache volume, KEDA ScaledObject and the endpoint record the load tests read.
 */
import type * as k8s from "@pulumi/kubernetes";
import type { FleetConfig, VariantConfig } from "../../../infra/config/fleet";
import type { PodMonitor } from "../../platform/addons/crds/prometheus";
import type { ScaledObject } from "../../platform/addons/crds/keda";
import { GPU_NODE_SELECTOR, GPU_TOLERATIONS } from "../../platform/cluster/nodeGroupSpec";
import { IMAGES } from "../../versions";
import { ENGINE_PORT, ENGINE_ROUTES, queueDepthQuery, serverArgs, type Engine, type QuantizeMode } from "./engines";

export const LLM_NAMESPACE = "llm";
/** Secret (in LLM_NAMESPACE) holding the Hugging Face token under key `token`. */
export const HF_TOKEN_SECRET = "hf-token";
/** Pod label that names the variant; the PodMonitor copies it onto metrics as mlserve_io_variant. */
export const VARIANT_LABEL = "mlserve.io/variant";
/** Pod label naming the engine (tgi, vllm); the PodMonitor selects on it. */
export const ENGINE_LABEL = "mlserve.io/engine";
/** The server container's one port: the engine's API and its Prometheus /metrics. */
export const SERVER_PORT_NAME = "http";
/** Node directory shared by every variant on a GPU node (modelCache: hostPath). */
export const NODE_CACHE_DIR = "/var/lib/mlserve/hf-cache";
const CACHE_MOUNT = "/data";

/** A variant and the fleet's shared settings, as `mlserve:variants` / `mlserve:fleet` validate them. */
export type VariantSettings = VariantConfig;
export type FleetSettings = FleetConfig;

export const serverName = (variant: string) => `llm-${variant}`;

export function variantLabels(v: Pick<VariantSettings, "name" | "engine">): Record<string, string> {
    return { "app.kubernetes.io/name": serverName(v.name), "app.kubernetes.io/part-of": "mlserve", [ENGINE_LABEL]: v.engine, [VARIANT_LABEL]: v.name };
}

type Meta = { metadata: { name: string; namespace: string; labels: Record<string, string>; annotations?: Record<string, string> } };

function cacheVolume(v: VariantSettings, f: FleetSettings): k8s.types.input.core.v1.Volume {
    switch (f.modelCache) {
        case "hostPath":
            return { name: "model-cache", hostPath: { path: NODE_CACHE_DIR, type: "DirectoryOrCreate" } };
        case "pvc":
            return { name: "model-cache", persistentVolumeClaim: { claimName: `${serverName(v.name)}-cache` } };
        case "emptyDir":
            return { name: "model-cache", emptyDir: {} };
    }
}

/** Download + load + warm-up of a 4B model takes minutes: allow 20 before liveness applies. */
export const STARTUP_PROBE = { periodSeconds: 10, failureThreshold: 120 } as const;
/**
 * Time before the server can even start probing: a GPU node joining from zero
 * (Cluster Autoscaler, EC2 boot, NVIDIA driver and device plugin) and the
 * multi-GB image pull. An allowance, not a measurement (nothing ran on EKS here).
 */
export const NODE_AND_PULL_ALLOWANCE_SECONDS = 15 * 60;

/**
 * How long `pulumi up` waits for a variant's Deployment to become available:
 * the startup probe's whole budget plus node join and image pull. Pulumi's
 * default (10 minutes) is shorter than the probe alone and would fail a
 * rollout Kubernetes would still have completed.
 */
export function rolloutTimeoutSeconds(): number {
    return STARTUP_PROBE.periodSeconds * STARTUP_PROBE.failureThreshold + NODE_AND_PULL_ALLOWANCE_SECONDS;
}

export function variantDeployment(v: VariantSettings, f: FleetSettings, hasToken: boolean): k8s.apps.v1.DeploymentArgs & Meta {
    const labels = variantLabels(v);
    const name = serverName(v.name);
    const port = ENGINE_PORT[v.engine];
    const health = ENGINE_ROUTES[v.engine].health!;
    const env: k8s.types.input.core.v1.EnvVar[] = [
        { name: "HF_HOME", value: CACHE_MOUNT },
        { name: "HF_HUB_ENABLE_HF_TRANSFER", value: "1" },
        { name: "HF_HUB_DISABLE_TELEMETRY", value: "1" },
        ...(v.engine === "vllm" ? [{ name: "VLLM_NO_USAGE_STATS", value: "1" }, { name: "DO_NOT_TRACK", value: "1" }] : []),
        ...(hasToken ? [{ name: "HF_TOKEN", valueFrom: { secretKeyRef: { name: HF_TOKEN_SECRET, key: "token" } } }] : []),
    ];
    return {
        // The Kubernetes provider's await timeout for this object (create and update).
        metadata: { name, namespace: LLM_NAMESPACE, labels, annotations: { "pulumi.com/timeoutSeconds": String(rolloutTimeoutSeconds()) } },
        spec: {
            replicas: v.replicas,
            selector: { matchLabels: { [VARIANT_LABEL]: v.name, "app.kubernetes.io/name": name } },
            // One GPU per server and usually one GPU node: replace in place rather than surge a second GPU pod.
            strategy: { type: "Recreate" },
            template: {
                metadata: { labels },
                spec: {
                    nodeSelector: { ...GPU_NODE_SELECTOR },
                    tolerations: GPU_TOLERATIONS.map((t) => ({ ...t })),
                    terminationGracePeriodSeconds: f.terminationGraceSeconds,
                    containers: [
                        {
                            name: "server",
                            image: v.image ?? IMAGES[v.engine],
                            args: serverArgs({
                                engine: v.engine,
                                modelId: v.modelId,
                                revision: v.revision,
                                quantize: v.quantize,
                                dtype: v.dtype,
                                servedModelName: v.modelId,
                                gracefulTerminationSeconds: Math.max(5, f.terminationGraceSeconds - 15),
                                options: v,
                            }),
                            env,
                            ports: [{ name: SERVER_PORT_NAME, containerPort: port, protocol: "TCP" }],
                            resources: {
                                requests: { "nvidia.com/gpu": String(v.gpus), cpu: f.cpuRequest, memory: f.memoryRequest },
                                limits: { "nvidia.com/gpu": String(v.gpus), memory: f.memoryLimit },
                            },
                            startupProbe: { httpGet: { path: health, port: SERVER_PORT_NAME }, ...STARTUP_PROBE, timeoutSeconds: 5 },
                            readinessProbe: { httpGet: { path: health, port: SERVER_PORT_NAME }, periodSeconds: 5, failureThreshold: 3, timeoutSeconds: 5 },
                            // Generous: a saturated server answers /health late; restarting it would only lose the batch.
                            livenessProbe: { httpGet: { path: health, port: SERVER_PORT_NAME }, periodSeconds: 20, failureThreshold: 6, timeoutSeconds: 10 },
                            // Let the Service drop this pod before the server stops accepting.
                            lifecycle: { preStop: { exec: { command: ["sleep", "10"] } } },
                            volumeMounts: [
                                { name: "shm", mountPath: "/dev/shm" },
                                { name: "model-cache", mountPath: CACHE_MOUNT },
                            ],
                        },
                    ],
                    volumes: [{ name: "shm", emptyDir: { medium: "Memory", sizeLimit: f.shmSize } }, cacheVolume(v, f)],
                },
            },
        },
    };
}

export function variantService(v: VariantSettings): k8s.core.v1.ServiceArgs & Meta {
    return {
        metadata: { name: serverName(v.name), namespace: LLM_NAMESPACE, labels: variantLabels(v) },
        spec: {
            type: "ClusterIP",
            selector: { [VARIANT_LABEL]: v.name, "app.kubernetes.io/name": serverName(v.name) },
            ports: [{ name: "http", port: 80, targetPort: SERVER_PORT_NAME, protocol: "TCP" }],
        },
    };
}

/** Only when more than one replica can run: a PDB on a single replica would block node drains. */
export function variantPdb(v: VariantSettings): (k8s.policy.v1.PodDisruptionBudgetArgs & Meta) | undefined {
    const max = v.autoscaling.enabled ? Math.max(v.replicas, v.autoscaling.maxReplicas) : v.replicas;
    if (max < 2) return undefined;
    return {
        metadata: { name: serverName(v.name), namespace: LLM_NAMESPACE, labels: variantLabels(v) },
        spec: { maxUnavailable: 1, selector: { matchLabels: { [VARIANT_LABEL]: v.name } } },
    };
}

export function variantCacheClaim(v: VariantSettings, f: FleetSettings): (k8s.core.v1.PersistentVolumeClaimArgs & Meta) | undefined {
    if (f.modelCache !== "pvc") return undefined;
    return {
        metadata: { name: `${serverName(v.name)}-cache`, namespace: LLM_NAMESPACE, labels: variantLabels(v) },
        spec: { accessModes: ["ReadWriteOnce"], storageClassName: "gp3", resources: { requests: { storage: `${f.cacheSizeGiB}Gi` } } },
    };
}

/** KEDA scales a running variant on its queue depth; parked variants (replicas 0) get none. */
/** Scrapes every LLM server's /metrics every 15 s, with the variant name on each series (what the KEDA queries select). */
export function engineMonitorSpec(): PodMonitor["spec"] {
    return {
        selector: { matchExpressions: [{ key: ENGINE_LABEL, operator: "In", values: ["tgi", "vllm"] }] },
        namespaceSelector: { any: true },
        podMetricsEndpoints: [{ port: SERVER_PORT_NAME, path: "/metrics", interval: "15s" }],
        // mlserve.io/variant becomes the mlserve_io_variant label KEDA's queue-depth queries select on.
        podTargetLabels: [VARIANT_LABEL],
    };
}

/** KEDA scales an autoscaled variant on its queue depth, read from Prometheus at `prometheusUrl`. */
export function variantScaledObject(v: VariantSettings, prometheusUrl: string): ScaledObject | undefined {
    if (!v.autoscaling.enabled || v.replicas === 0) return undefined;
    return {
        apiVersion: "keda.sh/v1alpha1",
        kind: "ScaledObject",
        metadata: { name: serverName(v.name), namespace: LLM_NAMESPACE, labels: variantLabels(v) },
        spec: {
            scaleTargetRef: { name: serverName(v.name) },
            minReplicaCount: v.replicas,
            maxReplicaCount: v.autoscaling.maxReplicas,
            pollingInterval: 15,
            // A new GPU replica takes minutes to load: do not give it back at the first quiet minute.
            cooldownPeriod: 600,
            triggers: [
                {
                    type: "prometheus",
                    metadata: { serverAddress: prometheusUrl, query: queueDepthQuery(v.engine, v.name), threshold: String(v.autoscaling.queueDepthTarget) },
                },
            ],
        },
    };
}

export interface VariantEndpoint {
    baseUrl: string;
    engine: Engine;
    model: string;
    quantize: QuantizeMode;
    replicas: number;
    routes: Record<string, string>;
}

export function variantEndpoint(v: VariantSettings): VariantEndpoint {
    return {
        baseUrl: `http://${serverName(v.name)}.${LLM_NAMESPACE}.svc.cluster.local`,
        engine: v.engine,
        model: v.modelId,
        quantize: v.quantize,
        replicas: v.replicas,
        routes: { ...ENGINE_ROUTES[v.engine] },
    };
}
