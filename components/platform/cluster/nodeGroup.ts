import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ec2AssumeRolePolicy, NODE_ROLE_MANAGED_POLICIES } from "./iam";
import { buildNodeGroupSpec, type NodeGroupSizing, type NodePool } from "./nodeGroupSpec";

export interface NodeGroupArgs {
    /** "system" (CPU add-ons) or "gpu" (model servers; tainted `nvidia.com/gpu=true:NoSchedule`). */
    pool: NodePool;
    /** EKS cluster name. The caller makes this resource depend on the cluster. */
    clusterName: pulumi.Input<string>;
    /** Plain cluster name for the Cluster Autoscaler tag key (tag keys cannot be outputs). */
    clusterNameForTags: string;
    /** Private subnets the nodes launch in. */
    subnetIds: pulumi.Input<string>[];
    sizing: NodeGroupSizing;
    /** Cluster Autoscaler owns the desired size: `pulumi up` sets it at creation and leaves it alone after. */
    autoscaled: boolean;
    /**
     * Resources that must exist before nodes launch (the CNI and kube-proxy add-ons).
     * A component's own `dependsOn` does not reach its children, so it is passed here.
     */
    waitFor?: pulumi.Resource[];
}

/**
 * An EKS managed node group with its own IAM role. The Cluster Autoscaler
 * node-template tags go on the Auto Scaling group itself (EKS does not copy
 * node group tags to the ASG), so a group at size 0 can still be scaled up.
 */
export class NodeGroup extends pulumi.ComponentResource {
    readonly nodeGroupName: pulumi.Output<string>;
    readonly arn: pulumi.Output<string>;
    readonly roleArn: pulumi.Output<string>;
    readonly asgName: pulumi.Output<string>;

    constructor(name: string, args: NodeGroupArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:cluster:NodeGroup", name, {}, opts);
        const child = { parent: this };
        const spec = buildNodeGroupSpec(args.pool, args.clusterNameForTags, args.sizing);

        const role = new aws.iam.Role(`${name}-node`, { assumeRolePolicy: JSON.stringify(ec2AssumeRolePolicy()) }, child);
        const attachments = Object.entries(NODE_ROLE_MANAGED_POLICIES).map(
            ([key, policyArn]) => new aws.iam.RolePolicyAttachment(`${name}-node-${key}`, { role: role.name, policyArn }, child),
        );

        const nodeGroup = new aws.eks.NodeGroup(
            name,
            {
                clusterName: args.clusterName,
                nodeRoleArn: role.arn,
                subnetIds: args.subnetIds,
                amiType: spec.amiType,
                instanceTypes: spec.instanceTypes,
                capacityType: spec.capacityType,
                diskSize: spec.diskSize,
                scalingConfig: spec.scalingConfig,
                labels: spec.labels,
                taints: spec.taints,
                updateConfig: { maxUnavailable: 1 },
                tags: spec.autoscalerTags,
            },
            // Policies must be attached before nodes try to join, and stay until they have left.
            {
                ...child,
                dependsOn: [...attachments, ...(args.waitFor ?? [])],
                // Otherwise every `pulumi up` would reset the size the autoscaler chose (and kill nodes in use).
                ignoreChanges: args.autoscaled ? ["scalingConfig.desiredSize"] : [],
            },
        );

        this.asgName = nodeGroup.resources.apply((r) => r[0]?.autoscalingGroups?.[0]?.name ?? "");
        for (const [key, value] of Object.entries(spec.autoscalerTags)) {
            new aws.autoscaling.Tag(
                `${name}-asg-${key.replace("k8s.io/cluster-autoscaler/", "ca-").replace(/[^A-Za-z0-9-]+/g, "-")}`,
                { autoscalingGroupName: this.asgName, tag: { key, value, propagateAtLaunch: false } },
                child,
            );
        }

        this.nodeGroupName = nodeGroup.nodeGroupName;
        this.arn = nodeGroup.arn;
        this.roleArn = role.arn;
        this.registerOutputs({ nodeGroupName: this.nodeGroupName, roleArn: this.roleArn, asgName: this.asgName });
    }
}
