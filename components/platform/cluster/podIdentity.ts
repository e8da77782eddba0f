import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { podIdentityAssumeRolePolicy } from "./iam";

export interface PodIdentityRoleArgs {
    /** The cluster name as an output of the cluster, so the association waits for it. */
    clusterName: pulumi.Input<string>;
    namespace: string;
    serviceAccount: string;
    /** The role's inline policy document (JSON). */
    policy: pulumi.Input<string>;
}

/**
 * An IAM role with one inline policy, bound to a Kubernetes service account by
 * EKS Pod Identity. All three resources share `name`. Wait for all three before
 * starting a pod that uses the account: without the association it runs with no
 * AWS credentials.
 */
export function podIdentityRole(name: string, args: PodIdentityRoleArgs, opts: pulumi.CustomResourceOptions): { role: aws.iam.Role; resources: pulumi.Resource[] } {
    const role = new aws.iam.Role(name, { assumeRolePolicy: JSON.stringify(podIdentityAssumeRolePolicy()) }, opts);
    const policy = new aws.iam.RolePolicy(name, { role: role.id, policy: args.policy }, opts);
    const association = new aws.eks.PodIdentityAssociation(name, { clusterName: args.clusterName, namespace: args.namespace, serviceAccount: args.serviceAccount, roleArn: role.arn }, opts);
    return { role, resources: [role, policy, association] };
}
