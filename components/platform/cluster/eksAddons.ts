/**
 * The EKS managed add-ons a GPU serving cluster needs, pinned per Kubernetes
 * version in components/versions.ts. Pure data: the Cluster component registers them.
 */
import { KUBERNETES_VERSIONS, type EksAddonName, type KubernetesVersion } from "../../versions";

export interface EksAddonSpec {
    name: EksAddonName;
    version: string;
    /**
     * "beforeNodes": nodes cannot become Ready without it (CNI, kube-proxy) or it must
     * be there when the first pods start (Pod Identity agent). "afterNodes": it runs
     * as a Deployment and would wait, DEGRADED, for a node to schedule on.
     */
    phase: "beforeNodes" | "afterNodes";
    /** Pod Identity: the add-on's service account gets a role with these AWS managed policies. */
    podIdentity?: { serviceAccount: string; managedPolicyArns: string[] };
    why: string;
}

export function eksAddonSpecs(kubernetesVersion: KubernetesVersion): EksAddonSpec[] {
    const v = KUBERNETES_VERSIONS[kubernetesVersion];
    return [
        { name: "vpc-cni", version: v["vpc-cni"], phase: "beforeNodes", why: "pod networking" },
        { name: "kube-proxy", version: v["kube-proxy"], phase: "beforeNodes", why: "Service routing on every node" },
        {
            name: "eks-pod-identity-agent",
            version: v["eks-pod-identity-agent"],
            phase: "beforeNodes",
            why: "AWS credentials for pods (KEDA, async workers, EBS CSI)",
        },
        { name: "coredns", version: v.coredns, phase: "afterNodes", why: "cluster DNS" },
        {
            name: "aws-ebs-csi-driver",
            version: v["aws-ebs-csi-driver"],
            phase: "afterNodes",
            podIdentity: {
                serviceAccount: "ebs-csi-controller-sa",
                managedPolicyArns: ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"],
            },
            why: "EBS volumes for PVCs (Prometheus data, model caches)",
        },
    ];
}
