/**
 * Every pinned version of the platform, in one table: the upgrade story is
 * "change one line here, run `npm run plan`, review the `pulumi preview` diff".
 * Nothing else in the code base spells a chart, add-on or image version.
 */

/** Kubernetes minor versions the stack can create, with the EKS managed add-on builds pinned for each. */
export const KUBERNETES_VERSIONS = {
    // Add-on builds as published for 1.33 (confirm a new row with
    // `aws eks describe-addon-versions --kubernetes-version <v> --addon-name <name>`).
    "1.33": {
        "vpc-cni": "v1.20.1-eksbuild.3",
        "kube-proxy": "v1.33.0-eksbuild.1",
        coredns: "v1.12.1-eksbuild.2",
        "aws-ebs-csi-driver": "v1.45.0-eksbuild.2",
        "eks-pod-identity-agent": "v1.3.7-eksbuild.2",
    },
} as const;

export type KubernetesVersion = keyof typeof KUBERNETES_VERSIONS;
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

/** Helm charts, pinned. */
export const CHARTS = {
    nvidiaDevicePlugin: {
        chart: "nvidia-device-plugin",
        version: "0.18.0",
        repo: "https://nvidia.github.io/k8s-device-plugin",
    },
} as const satisfies Record<string, PinnedChart>;

export type ChartName = keyof typeof CHARTS;
