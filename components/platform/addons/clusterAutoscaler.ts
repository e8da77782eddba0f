import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { ACTIONS_WITHOUT_RESOURCE_SCOPE, podIdentityAssumeRolePolicy, type PolicyDocument } from "../cluster/iam";
import { Addon, defineAddon, enabledByDefault, type AddonDefinition, type ReleaseSpec } from "./addon";

export const CLUSTER_AUTOSCALER_NAMESPACE = "kube-system";
export const CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler";

/** The ASG tag that marks a group as this cluster's (set by components/platform/cluster/nodeGroupSpec.ts). */
export function ownershipTag(clusterName: string): string {
    return `k8s.io/cluster-autoscaler/${clusterName}`;
}

/**
 * Least privilege: change the size of (and terminate instances in) only the
 * Auto Scaling groups tagged as owned by this cluster; describe only its own
 * node groups; discovery calls as AWS allows them.
 */
export function clusterAutoscalerPolicy(clusterName: string, nodeGroupArns: string[]): PolicyDocument {
    if (nodeGroupArns.length === 0) throw new Error("clusterAutoscalerPolicy needs the cluster's node group ARNs");
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "ScaleOwnGroups",
                Effect: "Allow",
                Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                Resource: "*",
                Condition: { StringEquals: { [`aws:ResourceTag/${ownershipTag(clusterName)}`]: "owned" } },
            },
            // Discovery and node templates: AWS allows these only on "*".
            { Sid: "DiscoverGroups", Effect: "Allow", Action: [...ACTIONS_WITHOUT_RESOURCE_SCOPE], Resource: "*" },
            { Sid: "DescribeOwnNodegroups", Effect: "Allow", Action: ["eks:DescribeNodegroup"], Resource: [...nodeGroupArns].sort() },
        ],
    };
}

export interface ClusterAutoscalerSettings {
    /** Physical cluster name: auto-discovery matches the node groups' ASG tags on it. */
    clusterName: string;
    region: string;
}

export function clusterAutoscalerReleases(s: ClusterAutoscalerSettings): ReleaseSpec[] {
    return [
        {
            name: "cluster-autoscaler",
            chart: "clusterAutoscaler",
            values: {
                cloudProvider: "aws",
                awsRegion: s.region,
                // Every ASG tagged k8s.io/cluster-autoscaler/enabled and .../<cluster>; sizes come from the groups.
                autoDiscovery: { clusterName: s.clusterName },
                fullnameOverride: "cluster-autoscaler",
                rbac: { serviceAccount: { name: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT } },
                extraArgs: {
                    // Model servers mount emptyDir (/dev/shm) and hostPath caches; without this their nodes never scale down.
                    "skip-nodes-with-local-storage": false,
                    "balance-similar-node-groups": true,
                    expander: "least-waste",
                },
                resources: { requests: { cpu: "50m", memory: "300Mi" }, limits: { memory: "600Mi" } },
            },
        },
    ];
}

export interface ClusterAutoscalerArgs {
    settings: ClusterAutoscalerSettings;
    /** The cluster name as an output of the cluster (the Pod Identity association waits for it). */
    clusterNameOutput: pulumi.Input<string>;
    /** ARNs of the cluster's managed node groups (eks:DescribeNodegroup). */
    nodeGroupArns: pulumi.Input<string>[];
    waitFor?: pulumi.Resource[];
}

/**
 * Cluster Autoscaler: adds a node when pods are pending (a GPU node for a
 * variant scaled to 1, from zero thanks to the ASG node-template tags) and
 * removes nodes nothing needs (the GPU node once every variant is parked).
 */
export class ClusterAutoscaler extends Addon {
    constructor(name: string, args: ClusterAutoscalerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:addons:ClusterAutoscaler", name, CLUSTER_AUTOSCALER_NAMESPACE, opts);
        const child = { parent: this };
        const role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: JSON.stringify(podIdentityAssumeRolePolicy()) }, child);
        new aws.iam.RolePolicy(
            `${name}-scaling`,
            { role: role.id, policy: pulumi.all(args.nodeGroupArns).apply((arns) => JSON.stringify(clusterAutoscalerPolicy(args.settings.clusterName, arns))) },
            child,
        );
        // Before the pod starts, or it runs without AWS credentials until restarted.
        const association = new aws.eks.PodIdentityAssociation(
            `${name}-identity`,
            { clusterName: args.clusterNameOutput, namespace: CLUSTER_AUTOSCALER_NAMESPACE, serviceAccount: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT, roleArn: role.arn },
            child,
        );
        this.installReleases(clusterAutoscalerReleases(args.settings), [...(args.waitFor ?? []), association]);
        this.registerOutputs({ charts: this.charts, roleArn: role.arn });
    }
}

export const clusterAutoscalerSettings = z.strictObject({ ...enabledByDefault }).prefault({});

export const clusterAutoscalerAddon: AddonDefinition<typeof clusterAutoscalerSettings, ClusterAutoscaler> = defineAddon({
    title: "Cluster Autoscaler",
    provides: "nodes for pending pods (a GPU node from zero) and removal of idle ones",
    settings: clusterAutoscalerSettings,
    create: (name, ctx, opts) =>
        new ClusterAutoscaler(
            name,
            { settings: { clusterName: ctx.cluster.plainName, region: ctx.cluster.region }, clusterNameOutput: ctx.cluster.name, nodeGroupArns: ctx.cluster.nodeGroupArns, waitFor: ctx.waitFor },
            opts,
        ),
});
