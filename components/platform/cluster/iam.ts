/** IAM documents the cluster needs, as plain data (tests read them; no wildcards in resources). */

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: Array<{
        Sid?: string;
        Effect: "Allow" | "Deny";
        Principal?: Record<string, string | string[]>;
        Action: string | string[];
        Resource?: string | string[];
        Condition?: Record<string, Record<string, string | string[]>>;
    }>;
}

/** Trust policy for EC2 instances (node groups). */
export function ec2AssumeRolePolicy(): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    };
}

/** Trust policy for EKS Pod Identity (the agent assumes the role and tags the session). */
export function podIdentityAssumeRolePolicy(): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "pods.eks.amazonaws.com" }, Action: ["sts:AssumeRole", "sts:TagSession"] }],
    };
}

/** AWS managed policies every EKS worker node role carries. The CNI policy sits on the node role, the EKS default. */
export const NODE_ROLE_MANAGED_POLICIES = {
    worker: "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    cni: "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    ecr: "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    ssm: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
} as const;

export const CLUSTER_ADMIN_ACCESS_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

/**
 * Read-only actions for which AWS offers no resource-level permissions: they
 * can only be granted on "*". The policy pack accepts "*" for exactly these.
 */
export const ACTIONS_WITHOUT_RESOURCE_SCOPE = [
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeTags",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
] as const;

type Statement = PolicyDocument["Statement"][number];

/**
 * A statement whose "*" resource is still scoped: every action is one that
 * admits no resource scope, or an exact-match condition on a resource tag
 * (aws:ResourceTag/<key>) limits it to tagged resources.
 */
export function isScopedWithoutArn(st: Pick<Statement, "Action" | "Condition">): boolean {
    const actions = [st.Action].flat();
    if (actions.length > 0 && actions.every((a) => (ACTIONS_WITHOUT_RESOURCE_SCOPE as readonly string[]).includes(a))) return true;
    const equals = st.Condition?.StringEquals ?? {};
    return Object.entries(equals).some(([key, value]) => key.startsWith("aws:ResourceTag/") && typeof value === "string" && !value.includes("*"));
}
