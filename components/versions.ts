/**
 * Every pinned version of the platform, in one table: the upgrade story is
 * "change one line here, run `npm run plan`, review the `pulumi preview` diff".
 * Nothing else in the code base spells a chart, add-on or image version.
 */

/** Kubernetes minor versions the stack can create, with the EKS managed add-on builds pinned for each. */
export const KUBERNETES_VERSIONS = {
    // Each build was seen in public EKS 1.33 configurations (not read from the EKS API here);
    // confirm a new row with `aws eks describe-addon-versions --kubernetes-version <v> --addon-name <name>`.
    "1.33": {
        "vpc-cni": "v1.20.1-eksbuild.3",
        "kube-proxy": "v1.33.0-eksbuild.1",
        coredns: "v1.12.1-eksbuild.2",
        "aws-ebs-csi-driver": "v1.45.0-eksbuild.2",
        "eks-pod-identity-agent": "v1.3.7-eksbuild.2",
    },
} as const;

export type KubernetesVersion = keyof typeof KUBERNETES_VERSIONS;

/**
 * The CloudWatch Observability (Container Insights) EKS add-on, installed only for
 * the idle-GPU alarm; per Kubernetes version like the rows above. Unverified build.
 * v4.3.0 is the first whose configuration can turn its DCGM exporter off (guardrails.ts).
 */
export const CONTAINER_INSIGHTS_ADDON = { "1.33": "v4.3.0-eksbuild.1" } as const satisfies Record<KubernetesVersion, string>;
export type EksAddonName = keyof (typeof KUBERNETES_VERSIONS)[KubernetesVersion];
export const SUPPORTED_KUBERNETES_VERSIONS = Object.keys(KUBERNETES_VERSIONS) as [KubernetesVersion, ...KubernetesVersion[]];
export const DEFAULT_KUBERNETES_VERSION: KubernetesVersion = "1.33";

/** A Helm chart pinned to one version. */
export interface PinnedChart {
    chart: string;
    version: string;
    /** Helm repository URL, or undefined when `chart` is an `oci://` reference. */
    repo?: string;
}

/**
 * Helm charts, pinned. `seen` says where the version was confirmed to exist (a
 * release index or a public deployment); check a new one with
 * `helm search repo <chart> --versions` before the first `pulumi up`.
 */
export const CHARTS = {
    nvidiaDevicePlugin: {
        chart: "nvidia-device-plugin",
        version: "0.18.0",
        repo: "https://nvidia.github.io/k8s-device-plugin",
        seen: "public HelmRelease upgrade 0.17.1 -> 0.18.0",
    },
    metricsServer: {
        chart: "metrics-server",
        version: "3.13.0",
        repo: "https://kubernetes-sigs.github.io/metrics-server/",
        seen: "public install scripts (helm install ... --version 3.13.0)",
    },
    keda: { chart: "keda", version: "2.20.2", repo: "https://kedacore.github.io/charts", seen: "kedacore/charts tag v2.20.2 (chart keda 2.20.2, app 2.20.2)" },
    certManager: { chart: "cert-manager", version: "v1.19.1", repo: "https://charts.jetstack.io", seen: "public install script (--version v1.19.1)" },
    knativeOperator: {
        chart: "knative-operator",
        version: "v1.23.0",
        repo: "https://knative.github.io/operator",
        seen: "knative/operator chart index (v1.23.0, app 1.23.0)",
    },
    kserveCrd: { chart: "oci://ghcr.io/kserve/charts/kserve-crd", version: "v0.20.0", seen: "kserve/kserve tag v0.20.0, charts/kserve-crd" },
    kserveResources: { chart: "oci://ghcr.io/kserve/charts/kserve-resources", version: "v0.20.0", seen: "kserve/kserve tag v0.20.0, charts/kserve-resources" },
    /** The ClusterServingRuntimes (huggingfaceserver, sklearn, ...): kserve-resources v0.20 ships none. */
    kserveRuntimeConfigs: {
        chart: "oci://ghcr.io/kserve/charts/kserve-runtime-configs",
        version: "v0.20.0",
        seen: "kserve/kserve tag v0.20.0, charts/kserve-runtime-configs",
    },
    clusterAutoscaler: {
        chart: "cluster-autoscaler",
        version: "9.51.0",
        repo: "https://kubernetes.github.io/autoscaler",
        // appVersion 1.33.0: the autoscaler minor must match the cluster's Kubernetes minor.
        seen: "kubernetes/autoscaler tag cluster-autoscaler-chart-9.51.0",
    },
    kubePrometheusStack: {
        chart: "kube-prometheus-stack",
        version: "80.4.1",
        repo: "https://prometheus-community.github.io/helm-charts",
        seen: "public install script (--version 80.4.1)",
    },
    dcgmExporter: {
        chart: "dcgm-exporter",
        version: "3.4.2",
        repo: "https://nvidia.github.io/dcgm-exporter/helm-charts",
        // Newer 4.x charts exist upstream but no 4.x version was seen in a release index here.
        seen: "public Flux HelmRelease (version 3.4.2)",
    },
} as const satisfies Record<string, PinnedChart & { seen: string }>;

export type ChartName = keyof typeof CHARTS;

/** Knative Serving version the operator installs (KnativeServing `spec.version`); the tests validate against its CRDs. */
export const KNATIVE_SERVING_VERSION = "1.23";

/** Container images the stack runs itself (charts pin their own images through their version). */
export const IMAGES = {
    /** KServe's Hugging Face runtime: serves a small text classifier on CPU out of the box (the HPA model API). */
    huggingfaceServer: "kserve/huggingfaceserver:v0.20.0",
    /** Hugging Face Text Generation Inference (in maintenance mode upstream since Dec 2025, per its README). */
    tgi: "ghcr.io/huggingface/text-generation-inference:3.3.7",
    /** vLLM's OpenAI-compatible server. */
    vllm: "vllm/vllm-openai:v0.11.0",
} as const;
