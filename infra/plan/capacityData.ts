/**
 * Facts the capacity check needs that no rendered object carries: node shapes
 * (vCPU, memory, max pods per instance type), and the pods of EKS managed
 * add-ons and the Container Insights add-on, whose manifests EKS applies
 * itself. Each table says where its numbers come from; check a row before you
 * depend on it for a new instance type or add-on build.
 */
import { GPU_INSTANCE_TYPES } from "../../components/platform/cluster/instanceTypes";
import type { WorkloadSpec } from "./capacity";

export interface NodeShape {
    vcpus: number;
    memoryGiB: number;
    /** Pods the kubelet admits: EKS's eni-max-pods.txt (ENIs × (IPv4 per ENI − 1) + 2), no prefix delegation. */
    maxPods: number;
}

/**
 * Max pods per instance type, from awslabs/amazon-eks-ami nodeadm/internal/kubelet/eni-max-pods.txt.
 * nodeadm computes kube-reserved memory from this value. Unverified: EKS managed node groups
 * may pass a lower kubelet maxPods (110 for types under 30 vCPUs, as EKS's max-pods calculator
 * recommends); that would lower the pod column of types above 110 here (g5.4xlarge), nothing else.
 */
const ENI_MAX_PODS: Record<string, number> = {
    "m5.large": 29, "m5.xlarge": 58, "m5.2xlarge": 58, "m5.4xlarge": 234,
    "m6a.large": 29, "m6a.xlarge": 58, "m6a.2xlarge": 58, "m6a.4xlarge": 234,
    "m6i.large": 29, "m6i.xlarge": 58, "m6i.2xlarge": 58, "m6i.4xlarge": 234,
    "m7i.large": 29, "m7i.xlarge": 58, "m7i.2xlarge": 58, "m7i.4xlarge": 234,
    "c6i.large": 29, "c6i.xlarge": 58, "c6i.2xlarge": 58, "c6i.4xlarge": 234,
    "r6i.large": 29, "r6i.xlarge": 58, "r6i.2xlarge": 58, "r6i.4xlarge": 234,
    "t3.large": 35, "t3.xlarge": 58, "t3.2xlarge": 58,
    "g4dn.xlarge": 29, "g4dn.2xlarge": 29, "g4dn.4xlarge": 29,
    "g5.xlarge": 58, "g5.2xlarge": 58, "g5.4xlarge": 234, "g5.8xlarge": 234, "g5.12xlarge": 737, "g5.48xlarge": 345,
    "g6.xlarge": 58, "g6.2xlarge": 58, "g6.4xlarge": 234, "g6.12xlarge": 234,
    "g6e.xlarge": 58, "g6e.2xlarge": 58, "g6e.12xlarge": 292,
    "p4d.24xlarge": 737, "p5.48xlarge": 100,
};

/** vCPU and memory of the CPU instance types a system pool may use (AWS EC2 instance type pages). */
const CPU_SHAPES: Record<string, { vcpus: number; memoryGiB: number }> = {
    large: { vcpus: 2, memoryGiB: 8 },
    xlarge: { vcpus: 4, memoryGiB: 16 },
    "2xlarge": { vcpus: 8, memoryGiB: 32 },
    "4xlarge": { vcpus: 16, memoryGiB: 64 },
};
/** Memory per vCPU by family letter: general purpose 4 GiB, compute 2 GiB, memory 8 GiB. */
const FAMILY_MEMORY_FACTOR: Record<string, number> = { m: 1, t: 1, c: 0.5, r: 2 };

/** The node shape of an instance type, or undefined when this table does not know it. */
export function nodeShape(instanceType: string): NodeShape | undefined {
    const maxPods = ENI_MAX_PODS[instanceType];
    if (maxPods === undefined) return undefined;
    const gpu = (GPU_INSTANCE_TYPES as Record<string, { vcpus: number; memoryGiB: number }>)[instanceType];
    if (gpu) return { vcpus: gpu.vcpus, memoryGiB: gpu.memoryGiB, maxPods };
    const [family = "", size = ""] = instanceType.split(".");
    const shape = CPU_SHAPES[size];
    const factor = FAMILY_MEMORY_FACTOR[family[0] ?? ""];
    if (!shape || factor === undefined) return undefined;
    return { vcpus: shape.vcpus, memoryGiB: shape.memoryGiB * factor, maxPods };
}

const ALL_NODES = [{ operator: "Exists" }];

/**
 * Pods of the EKS managed add-ons, by add-on name, at their default
 * configuration for the builds pinned in components/versions.ts:
 * - vpc-cni v1.20: aws-node DaemonSet, aws-node container requests cpu 25m,
 *   the network-policy agent none; tolerates every taint (chart aws-vpc-cni
 *   values.yaml at tag v1.20.1);
 * - kube-proxy: DaemonSet requesting cpu 100m, tolerates every taint (the EKS
 *   kube-proxy manifest; not read from the EKS API here);
 * - eks-pod-identity-agent: DaemonSet with no requests, tolerates every taint
 *   (aws/eks-pod-identity-agent chart values.yaml: `resources: {}`);
 * - coredns: 2 replicas requesting 100m / 70Mi (the upstream CoreDNS manifest
 *   EKS ships; 2 is the EKS default replica count), no GPU toleration;
 * - aws-ebs-csi-driver v1.45: controller 2 replicas × 5 containers × 10m/40Mi,
 *   node DaemonSet 3 containers × 10m/40Mi tolerating every taint (its chart at
 *   tag v1.45.0 rendered with helm; the snapshotter sidecar is absent there).
 */
export const EKS_ADDON_WORKLOADS: Record<string, WorkloadSpec[]> = {
    "vpc-cni": [{ name: "aws-node", kind: "DaemonSet", daemon: true, replicas: 1, request: { cpuMilli: 25, memoryMiB: 0 }, gpus: 0, scheduling: { tolerations: ALL_NODES } }],
    "kube-proxy": [{ name: "kube-proxy", kind: "DaemonSet", daemon: true, replicas: 1, request: { cpuMilli: 100, memoryMiB: 0 }, gpus: 0, scheduling: { tolerations: ALL_NODES } }],
    "eks-pod-identity-agent": [
        { name: "eks-pod-identity-agent", kind: "DaemonSet", daemon: true, replicas: 1, request: { cpuMilli: 0, memoryMiB: 0 }, gpus: 0, scheduling: { tolerations: ALL_NODES } },
    ],
    coredns: [{ name: "coredns", kind: "Deployment", daemon: false, replicas: 2, request: { cpuMilli: 100, memoryMiB: 70 }, gpus: 0, scheduling: {} }],
    "aws-ebs-csi-driver": [
        { name: "ebs-csi-controller", kind: "Deployment", daemon: false, replicas: 2, request: { cpuMilli: 50, memoryMiB: 200 }, gpus: 0, scheduling: {} },
        { name: "ebs-csi-node", kind: "DaemonSet", daemon: true, replicas: 1, request: { cpuMilli: 30, memoryMiB: 120 }, gpus: 0, scheduling: { tolerations: ALL_NODES } },
    ],
};

/**
 * The Container Insights add-on (amazon-cloudwatch-observability v4.3.0,
 * aws-observability/helm-charts chart 4.3.0 values.yaml): the operator
 * Deployment 100m/64Mi; the CloudWatch agent 250m/128Mi and Fluent Bit 50m/25Mi
 * DaemonSets on every node (root tolerations `operator: Exists`); its DCGM
 * exporter 250m/128Mi on GPU nodes only (the operator gives it a node affinity
 * to GPU instance types). `configurationValues` can switch the DCGM exporter
 * (`dcgmExporter.enabled`) and Fluent Bit (`containerLogs.enabled`) off.
 */
export function containerInsightsWorkloads(configurationValues: unknown): WorkloadSpec[] {
    let cfg: { dcgmExporter?: { enabled?: boolean }; containerLogs?: { enabled?: boolean } } = {};
    if (typeof configurationValues === "string" && configurationValues.trim()) cfg = JSON.parse(configurationValues) as typeof cfg;
    const gpuInstanceTypes = Object.keys(GPU_INSTANCE_TYPES);
    return [
        { name: "amazon-cloudwatch-observability-controller-manager", kind: "Deployment", daemon: false, replicas: 1, request: { cpuMilli: 100, memoryMiB: 64 }, gpus: 0, scheduling: {} },
        { name: "cloudwatch-agent", kind: "DaemonSet", daemon: true, replicas: 1, request: { cpuMilli: 250, memoryMiB: 128 }, gpus: 0, scheduling: { tolerations: ALL_NODES } },
        ...(cfg.containerLogs?.enabled === false
            ? []
            : [{ name: "fluent-bit", kind: "DaemonSet", daemon: true, replicas: 1, request: { cpuMilli: 50, memoryMiB: 25 }, gpus: 0, scheduling: { tolerations: ALL_NODES } }]),
        ...(cfg.dcgmExporter?.enabled === false
            ? []
            : [
                  {
                      name: "dcgm-exporter (Container Insights)",
                      kind: "DaemonSet",
                      daemon: true,
                      replicas: 1,
                      request: { cpuMilli: 250, memoryMiB: 128 },
                      gpus: 0,
                      scheduling: {
                          tolerations: ALL_NODES,
                          affinity: {
                              nodeAffinity: {
                                  requiredDuringSchedulingIgnoredDuringExecution: {
                                      nodeSelectorTerms: [{ matchExpressions: [{ key: "node.kubernetes.io/instance-type", operator: "In", values: gpuInstanceTypes }] }],
                                  },
                              },
                          },
                      },
                  },
              ]),
    ];
}

/** Add-ons whose pods EKS runs, by add-on name; unknown add-ons are reported, not guessed. */
export function eksAddonWorkloads(addonName: string, configurationValues: unknown): WorkloadSpec[] | undefined {
    if (addonName === "amazon-cloudwatch-observability") return containerInsightsWorkloads(configurationValues);
    return EKS_ADDON_WORKLOADS[addonName];
}

/** prometheus-operator's default config-reloader requests (its --config-reloader-cpu-request / -memory-request flags). */
export const PROMETHEUS_CONFIG_RELOADER = { cpuMilli: 10, memoryMiB: 50 };
/** Knative's queue-proxy CPU request when config-deployment sets none (its memory request applies only with queueproxy.resource-defaults). */
export const KNATIVE_QUEUE_PROXY_CPU = "25m";
/** KServe v0.20 inferenceservice-config defaults, used when the kserve chart's ConfigMap is not in the plan. */
export const KSERVE_DEFAULTS = { predictor: { cpu: "1", memory: "2Gi" }, router: { cpu: "100m", memory: "100Mi" } };
