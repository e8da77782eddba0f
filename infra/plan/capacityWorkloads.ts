/**
 * What will run on the nodes, as WorkloadSpecs for the capacity check: our own
 * objects and the rendered charts (Deployments, StatefulSets, DaemonSets, Jobs,
 * Pods, with HPA/KEDA minimums), the pods operators create from custom
 * resources (KServe InferenceServices and InferenceGraphs with Knative's
 * queue-proxy, Prometheus from the Prometheus operator, Knative Serving from
 * the Knative operator's manifests), and EKS add-ons. Pure functions.
 */
import { GPU_INSTANCE_TYPES } from "../../components/platform/cluster/instanceTypes";
import { parseCpu, parseMemory, type PoolSpec, type Resources, type Scheduling, type Taint, type WorkloadSpec } from "./capacity";
import { eksAddonWorkloads, KNATIVE_QUEUE_PROXY_CPU, KSERVE_DEFAULTS, nodeShape, PROMETHEUS_CONFIG_RELOADER } from "./capacityData";
import type { RecordedResource } from "./render";

type Obj = Record<string, unknown>;
interface Container {
    name?: string;
    resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
}
interface PodSpec extends Scheduling {
    containers?: Container[];
    initContainers?: Container[];
    overhead?: Record<string, unknown>;
}

export interface SourcedObject {
    object: Obj;
    /** "program", "helm <release>", "knative-operator", ... */
    source: string;
}

const GPU_RESOURCE = "nvidia.com/gpu";

/** A container's requests; Kubernetes defaults a missing request to its limit. */
function containerRequest(c: Container): Resources & { gpus: number } {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    return {
        cpuMilli: parseCpu(req.cpu ?? lim.cpu),
        memoryMiB: parseMemory(req.memory ?? lim.memory),
        gpus: Number(req[GPU_RESOURCE] ?? lim[GPU_RESOURCE] ?? 0),
    };
}

/** A pod's effective request, as the scheduler sums it: max(sum of containers, largest init container) + overhead. */
export function podRequest(spec: PodSpec): Resources & { gpus: number } {
    const sum = (spec.containers ?? []).map(containerRequest).reduce((a, b) => ({ cpuMilli: a.cpuMilli + b.cpuMilli, memoryMiB: a.memoryMiB + b.memoryMiB, gpus: a.gpus + b.gpus }), { cpuMilli: 0, memoryMiB: 0, gpus: 0 });
    for (const init of (spec.initContainers ?? []).map(containerRequest)) {
        sum.cpuMilli = Math.max(sum.cpuMilli, init.cpuMilli);
        sum.memoryMiB = Math.max(sum.memoryMiB, init.memoryMiB);
        sum.gpus = Math.max(sum.gpus, init.gpus);
    }
    sum.cpuMilli += parseCpu(spec.overhead?.cpu);
    sum.memoryMiB += parseMemory(spec.overhead?.memory);
    return sum;
}

const meta = (o: Obj) => (o.metadata ?? {}) as { name?: string; namespace?: string; annotations?: Record<string, string> };
const key = (ns: string | undefined, kind: string, name: string | undefined) => `${ns ?? ""}/${kind}/${name ?? ""}`;

function scheduling(spec: Scheduling): Scheduling {
    return { nodeSelector: spec.nodeSelector, tolerations: spec.tolerations, affinity: spec.affinity };
}

function workload(name: string, kind: string, source: string, daemon: boolean, replicas: number, spec: PodSpec): WorkloadSpec {
    const r = podRequest(spec);
    return { name, kind, source, daemon, replicas, request: { cpuMilli: r.cpuMilli, memoryMiB: r.memoryMiB }, gpus: r.gpus, scheduling: scheduling(spec) };
}

/** KServe's controller defaults, read from the kserve chart's inferenceservice-config ConfigMap when the plan renders it. */
export function kserveDefaults(objects: readonly Obj[]): typeof KSERVE_DEFAULTS {
    const cm = objects.find((o) => o.kind === "ConfigMap" && meta(o).name === "inferenceservice-config") as { data?: Record<string, string> } | undefined;
    const read = (k: string) => (cm?.data?.[k] ? (JSON.parse(cm.data[k]) as Record<string, unknown>) : undefined);
    const isvc = read("inferenceService")?.resource as { cpuRequest?: string; memoryRequest?: string } | undefined;
    const router = read("router") as { cpuRequest?: string; memoryRequest?: string } | undefined;
    return {
        predictor: { cpu: isvc?.cpuRequest ?? KSERVE_DEFAULTS.predictor.cpu, memory: isvc?.memoryRequest ?? KSERVE_DEFAULTS.predictor.memory },
        router: { cpu: router?.cpuRequest ?? KSERVE_DEFAULTS.router.cpu, memory: router?.memoryRequest ?? KSERVE_DEFAULTS.router.memory },
    };
}

export interface OperatorSettings {
    kserve: typeof KSERVE_DEFAULTS;
    /** queue-proxy's requests on every Knative-mode pod. */
    queueProxy: { cpu: string; memory?: string };
    /** The KnativeServing's config-autoscaler overrides (initial-scale, allow-zero-initial-scale). */
    knativeAutoscaler?: Record<string, string>;
}

const INITIAL_SCALE = "autoscaling.knative.dev/initial-scale";

/**
 * Pods a Knative revision starts with: its initial scale (annotation, else
 * config-autoscaler `initial-scale`, default 1; 0 only when
 * `allow-zero-initial-scale` is "true"), never below minReplicas.
 */
export function knativeStartReplicas(minReplicas: number, annotations: Record<string, string> | undefined, autoscaler: Record<string, string> = {}): number {
    let initial = Number(annotations?.[INITIAL_SCALE] ?? autoscaler["initial-scale"] ?? 1);
    if (initial === 0 && autoscaler["allow-zero-initial-scale"] !== "true") initial = 1;
    return Math.max(minReplicas, initial);
}

/** Framework keys of a KServe predictor that hold the model container. */
const PREDICTOR_MODEL_KEYS = ["model", "sklearn", "xgboost", "tensorflow", "pytorch", "triton", "onnx", "huggingface", "lightgbm", "pmml", "paddle"];

function kserveComponentPod(component: Obj, knative: boolean, s: OperatorSettings): PodSpec {
    const containers: Container[] = [];
    for (const k of PREDICTOR_MODEL_KEYS) {
        const c = component[k] as Container | undefined;
        if (c) containers.push(c);
    }
    containers.push(...((component.containers as Container[] | undefined) ?? []));
    // KServe fills in its default resources for a model container without requests.
    const withDefaults = containers.map((c) =>
        c.resources?.requests || c.resources?.limits ? c : { ...c, resources: { requests: { cpu: s.kserve.predictor.cpu, memory: s.kserve.predictor.memory } } },
    );
    if (knative) withDefaults.push({ name: "queue-proxy", resources: { requests: { cpu: s.queueProxy.cpu, memory: s.queueProxy.memory } } });
    return { ...(component as PodSpec), containers: withDefaults, initContainers: [] };
}

/**
 * Pods of an InferenceService: each component (predictor, transformer, explainer)
 * at its minReplicas (KServe's default 1); in Knative mode at least its initial
 * scale, so minReplicas 0 adds nothing only with initial scale 0 allowed and set.
 */
export function inferenceServiceWorkloads(isvc: Obj, source: string, s: OperatorSettings): WorkloadSpec[] {
    const knative = (meta(isvc).annotations?.["serving.kserve.io/deploymentMode"] ?? "Knative") !== "Standard" && meta(isvc).annotations?.["serving.kserve.io/deploymentMode"] !== "RawDeployment";
    const spec = (isvc.spec ?? {}) as Record<string, Obj | undefined>;
    return (["predictor", "transformer", "explainer"] as const).flatMap((c) => {
        const component = spec[c];
        if (!component) return [];
        const min = typeof component.minReplicas === "number" ? component.minReplicas : 1;
        const annotations = { ...meta(isvc).annotations, ...(component.annotations as Record<string, string> | undefined) };
        const replicas = knative ? knativeStartReplicas(min, annotations, s.knativeAutoscaler) : min;
        return [workload(`${meta(isvc).name}-${c}`, "InferenceService", source, false, replicas, kserveComponentPod(component, knative, s))];
    });
}

/** The router pod of an InferenceGraph (KServe's router defaults, plus queue-proxy in Knative mode). */
export function inferenceGraphWorkloads(graph: Obj, source: string, s: OperatorSettings): WorkloadSpec[] {
    const spec = (graph.spec ?? {}) as Obj & Scheduling & { minReplicas?: number; resources?: Container["resources"] };
    const knative = !["Standard", "RawDeployment"].includes(meta(graph).annotations?.["serving.kserve.io/deploymentMode"] ?? "Knative");
    const router: Container = { name: "router", resources: spec.resources ?? { requests: { cpu: s.kserve.router.cpu, memory: s.kserve.router.memory } } };
    const containers = knative ? [router, { name: "queue-proxy", resources: { requests: { cpu: s.queueProxy.cpu, memory: s.queueProxy.memory } } }] : [router];
    const min = spec.minReplicas ?? 1;
    const replicas = knative ? knativeStartReplicas(min, meta(graph).annotations, s.knativeAutoscaler) : min;
    return [workload(`${meta(graph).name}-router`, "InferenceGraph", source, false, replicas, { ...scheduling(spec), containers })];
}

/** The StatefulSet the Prometheus operator makes from a Prometheus resource: prometheus plus its config-reloader sidecar (operator defaults). */
export function prometheusWorkloads(p: Obj, source: string): WorkloadSpec[] {
    const spec = (p.spec ?? {}) as Scheduling & { replicas?: number; shards?: number; resources?: Container["resources"] };
    const reloader = { requests: { cpu: `${PROMETHEUS_CONFIG_RELOADER.cpuMilli}m`, memory: `${PROMETHEUS_CONFIG_RELOADER.memoryMiB}Mi` } };
    return [
        workload(`prometheus-${meta(p).name}`, "Prometheus", source, false, (spec.replicas ?? 1) * (spec.shards ?? 1), {
            ...scheduling(spec),
            containers: [{ name: "prometheus", resources: spec.resources }, { name: "config-reloader", resources: reloader }],
            initContainers: [{ name: "init-config-reloader", resources: reloader }],
        }),
    ];
}

/** Helm test hooks run only under `helm test`, never with the release. */
function isHelmTest(o: Obj): boolean {
    return (meta(o).annotations?.["helm.sh/hook"] ?? "").split(",").some((h) => h.trim().startsWith("test"));
}

/**
 * Every workload the objects describe. Replicas: an HPA's minReplicas (default 1)
 * or a KEDA ScaledObject's minReplicaCount (default 0) when one targets the
 * workload, else spec.replicas (default 1); Jobs at their parallelism.
 */
export function workloadsFromObjects(items: readonly SourcedObject[], s: OperatorSettings): WorkloadSpec[] {
    const minimum = new Map<string, number>();
    for (const { object: o } of items) {
        const spec = (o.spec ?? {}) as { scaleTargetRef?: { kind?: string; name?: string }; minReplicas?: number; minReplicaCount?: number };
        if (o.kind === "HorizontalPodAutoscaler") minimum.set(key(meta(o).namespace, spec.scaleTargetRef?.kind ?? "Deployment", spec.scaleTargetRef?.name), spec.minReplicas ?? 1);
        if (o.kind === "ScaledObject") minimum.set(key(meta(o).namespace, spec.scaleTargetRef?.kind ?? "Deployment", spec.scaleTargetRef?.name), spec.minReplicaCount ?? 0);
    }
    const out: WorkloadSpec[] = [];
    for (const { object: o, source } of items) {
        if (isHelmTest(o)) continue;
        const name = meta(o).name ?? "?";
        const spec = (o.spec ?? {}) as { replicas?: number; parallelism?: number; suspend?: boolean; template?: { spec?: PodSpec } };
        const pod = spec.template?.spec ?? {};
        switch (o.kind) {
            case "Deployment":
            case "StatefulSet":
            case "ReplicaSet":
                out.push(workload(name, String(o.kind), source, false, minimum.get(key(meta(o).namespace, String(o.kind), name)) ?? spec.replicas ?? 1, pod));
                break;
            case "DaemonSet":
                out.push(workload(name, "DaemonSet", source, true, 1, pod));
                break;
            case "Job":
                // A suspended Job (a parked stack's benchmark or optimization run) has no pods.
                out.push(workload(name, "Job", source, false, spec.suspend ? 0 : (spec.parallelism ?? 1), pod));
                break;
            case "Pod":
                out.push(workload(name, "Pod", source, false, 1, o.spec as PodSpec));
                break;
            case "InferenceService":
                out.push(...inferenceServiceWorkloads(o, source, s));
                break;
            case "InferenceGraph":
                out.push(...inferenceGraphWorkloads(o, source, s));
                break;
            case "Prometheus":
                out.push(...prometheusWorkloads(o, source));
                break;
        }
    }
    return out;
}

/** Deployments the Knative operator scales to `high-availability.replicas` (knative/operator pkg/reconciler/common/ha.go). */
const KNATIVE_HA_DEPLOYMENTS = new Set(["controller", "autoscaler-hpa", "net-kourier-controller", "3scale-kourier-gateway", "autoscaler"]);

interface KnativeServingSpec {
    "high-availability"?: { replicas?: number };
    deployments?: Array<{ name: string; replicas?: number; resources?: Array<{ container: string; requests?: Record<string, string>; limits?: Record<string, string> }>; nodeSelector?: Record<string, string>; tolerations?: unknown[]; affinity?: unknown }>;
    config?: Record<string, Record<string, string>>;
}

/**
 * The objects the Knative operator applies for a KnativeServing, with the
 * resource's high-availability and per-deployment overrides applied as the
 * operator does (replicas, container resources, scheduling).
 */
export function applyKnativeServing(manifests: readonly Obj[], serving: Obj): Obj[] {
    const spec = (serving.spec ?? {}) as KnativeServingSpec;
    const ha = spec["high-availability"]?.replicas;
    return manifests.map((o) => {
        const m = meta(o);
        const override = spec.deployments?.find((d) => d.name === m.name);
        if (o.kind === "HorizontalPodAutoscaler" && ha !== undefined) {
            const s = o.spec as { minReplicas?: number };
            if ((s.minReplicas ?? 1) < ha) return { ...o, spec: { ...s, minReplicas: ha } };
        }
        if (o.kind !== "Deployment") return o;
        const s = o.spec as { replicas?: number; template: { spec: PodSpec } };
        let replicas = s.replicas;
        if (ha !== undefined && KNATIVE_HA_DEPLOYMENTS.has(m.name ?? "")) replicas = ha;
        if (override?.replicas) replicas = override.replicas;
        const pod: PodSpec = {
            ...s.template.spec,
            ...(override?.nodeSelector ? { nodeSelector: override.nodeSelector } : {}),
            ...(override?.tolerations ? { tolerations: override.tolerations as Scheduling["tolerations"] } : {}),
            ...(override?.affinity ? { affinity: override.affinity } : {}),
            containers: (s.template.spec.containers ?? []).map((c) => {
                const r = override?.resources?.find((x) => x.container === c.name);
                return r ? { ...c, resources: { requests: { ...c.resources?.requests, ...r.requests }, limits: { ...c.resources?.limits, ...r.limits } } } : c;
            }),
        };
        return { ...o, spec: { ...s, replicas, template: { ...s.template, spec: pod } } };
    });
}

/** queue-proxy requests from a KnativeServing's config-deployment overrides (Knative's default CPU otherwise). */
export function queueProxyRequests(serving: Obj | undefined): OperatorSettings["queueProxy"] {
    const dep = ((serving?.spec ?? {}) as KnativeServingSpec).config?.deployment ?? {};
    return { cpu: dep["queue-sidecar-cpu-request"] ?? KNATIVE_QUEUE_PROXY_CPU, memory: dep["queue-sidecar-memory-request"] };
}

/** EKS taint effects (`NO_SCHEDULE`) in Kubernetes form (`NoSchedule`). */
function k8sEffect(effect: string): string {
    return effect.includes("_") ? effect.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase()) : effect;
}

/** Node pools from the recorded managed node groups. Pool name: the `mlserve.io/node-pool` label, else the group's name. */
export function poolsFromPlan(resources: readonly RecordedResource[]): PoolSpec[] {
    return resources
        .filter((r) => r.type === "aws:eks/nodeGroup:NodeGroup")
        .map((r) => {
            const i = r.inputs as { instanceTypes?: string[]; scalingConfig?: { desiredSize?: number; maxSize?: number }; labels?: Record<string, string>; taints?: Array<{ key: string; value?: string; effect: string }> };
            const instanceType = i.instanceTypes?.[0] ?? "unknown";
            const gpu = (GPU_INSTANCE_TYPES as Record<string, { gpus: number }>)[instanceType];
            return {
                name: i.labels?.["mlserve.io/node-pool"] ?? r.name,
                instanceType,
                desired: i.scalingConfig?.desiredSize ?? 0,
                max: i.scalingConfig?.maxSize ?? 0,
                labels: { ...(i.labels ?? {}), "eks.amazonaws.com/nodegroup": r.name },
                taints: (i.taints ?? []).map((t): Taint => ({ key: t.key, value: t.value, effect: k8sEffect(t.effect) })),
                gpusPerNode: gpu?.gpus ?? 0,
                shape: nodeShape(instanceType),
            };
        });
}

/** Pods of the recorded EKS add-ons; add-ons this table does not know are returned by name. */
export function addonWorkloads(resources: readonly RecordedResource[]): { workloads: WorkloadSpec[]; unknown: string[] } {
    const workloads: WorkloadSpec[] = [];
    const unknown: string[] = [];
    for (const r of resources.filter((x) => x.type === "aws:eks/addon:Addon")) {
        const name = String(r.inputs.addonName);
        const ws = eksAddonWorkloads(name, r.inputs.configurationValues);
        if (ws) workloads.push(...ws.map((w) => ({ ...w, source: `EKS add-on ${name}` })));
        else unknown.push(name);
    }
    return { workloads, unknown };
}
