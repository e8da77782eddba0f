/**
 * The platform, wired from a validated StackConfig. Plain function of config so
 * the offline plan and the tests run exactly what `pulumi up` runs.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { Cluster } from "../components/cluster/cluster";
import type { StackConfig } from "./config/schema";

/** Tags on every taggable AWS resource (through the provider's defaultTags). */
export function baseTags(cfg: StackConfig): Record<string, string> {
    return {
        "mlserve:project": cfg.project,
        "mlserve:stack": cfg.stack,
        "mlserve:managed-by": "pulumi",
        ...cfg.tags,
    };
}

/** EKS cluster name of a stack. */
export function clusterNameOf(cfg: Pick<StackConfig, "project" | "stack">): string {
    return `${cfg.project}-${cfg.stack}`;
}

export interface PlatformOutputs {
    region: string;
    clusterName: string;
    kubeconfig: pulumi.Output<string>;
    vpcId: pulumi.Output<string>;
    nodeGroups: { system: pulumi.Output<string>; gpu: pulumi.Output<string> };
    /** In-cluster endpoints other areas add (model servers, gateways, Prometheus). */
    endpoints: Record<string, pulumi.Input<string>>;
}

export function buildPlatform(cfg: StackConfig): PlatformOutputs {
    const awsProvider = new aws.Provider("aws", { region: cfg.region as aws.Region, defaultTags: { tags: baseTags(cfg) } });
    const clusterName = clusterNameOf(cfg);

    const cluster = new Cluster(
        clusterName,
        {
            clusterName,
            kubernetesVersion: cfg.cluster.kubernetesVersion,
            network: {
                cidr: cfg.cluster.vpcCidr,
                availabilityZones: cfg.cluster.availabilityZones,
                natGateways: cfg.cluster.natGateways,
            },
            endpointPublicAccess: cfg.cluster.endpointPublicAccess,
            endpointPrivateAccess: cfg.cluster.endpointPrivateAccess,
            publicAccessCidrs: cfg.cluster.publicAccessCidrs,
            logTypes: cfg.cluster.logTypes,
            logRetentionDays: cfg.cluster.logRetentionDays,
            kmsDeletionWindowDays: cfg.cluster.kmsDeletionWindowDays,
            deletionProtection: cfg.cluster.deletionProtection,
            adminRoleArns: cfg.cluster.adminRoleArns,
            systemNodes: cfg.systemNodes,
            gpuNodes: cfg.gpuNodes,
        },
        { providers: { aws: awsProvider } },
    );

    return {
        region: cfg.region,
        clusterName,
        kubeconfig: cluster.kubeconfig,
        vpcId: cluster.vpcId,
        nodeGroups: { system: cluster.systemNodeGroup.nodeGroupName, gpu: cluster.gpuNodeGroup.nodeGroupName },
        endpoints: {},
    };
}
