/** IAM documents the cluster needs, as plain data (tests read them; no wildcards in resources). */

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: Array<{
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
