import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Vpc } from "../network/vpc";
import { DEFAULT_KUBERNETES_VERSION, type KubernetesVersion } from "../../versions";
import { NvidiaDevicePlugin } from "./devicePlugin";
import { gp3StorageClass } from "./storage";
import { eksAddonSpecs } from "./eksAddons";
import { CLUSTER_ADMIN_ACCESS_POLICY, podIdentityAssumeRolePolicy } from "./iam";
import { NodeGroup } from "./nodeGroup";
import type { NodeGroupSizing } from "./nodeGroupSpec";

export type ControlPlaneLogType = "api" | "audit" | "authenticator" | "controllerManager" | "scheduler";

export interface ClusterArgs {
    /** Physical EKS cluster name (also used in subnet and autoscaler tags). */
    clusterName: string;
    /** Control-plane version; must have an add-on row in components/versions.ts. Default 1.33. */
    kubernetesVersion?: KubernetesVersion;
    /** VPC layout. Defaults: 10.0.0.0/16, 2 AZs, a single NAT gateway. */
    network?: { cidr?: string; availabilityZones?: number; natGateways?: "single" | "perAz" };
    /** Public API endpoint. Default true. */
    endpointPublicAccess?: boolean;
    /** Private (in-VPC) API endpoint. Default true. */
    endpointPrivateAccess?: boolean;
    /** CIDRs allowed on the public endpoint. Default ["0.0.0.0/0"]. */
    publicAccessCidrs?: string[];
    /** Control-plane log types. Default api, audit, authenticator. */
    logTypes?: ControlPlaneLogType[];
    /** Control-plane log retention in days. Default 30. */
    logRetentionDays?: number;
    /** Deletion window of the secrets-encryption KMS key. Default 7. */
    kmsDeletionWindowDays?: number;
    /** Block cluster deletion. Default false. */
    deletionProtection?: boolean;
    /** IAM roles granted cluster-admin via access entries. Default none. */
    adminRoleArns?: string[];
    systemNodes: NodeGroupSizing;
    gpuNodes: NodeGroupSizing;
    /** Cluster Autoscaler manages both groups' desired size. Default false. */
    nodeAutoscaler?: boolean;
}

/**
 * The EKS cluster of one stack: VPC, control plane (API authentication mode,
 * KMS secrets encryption, control-plane logs), EKS managed add-ons, a CPU system
 * node group, a GPU node group, the NVIDIA device plugin, and the Kubernetes
 * provider every in-cluster component uses.
 */
export class Cluster extends pulumi.ComponentResource {
    readonly clusterName: string;
    /**
     * The same name as an output of the EKS cluster: AWS resources that name the
     * cluster (add-ons, node groups, Pod Identity associations) take this so they
     * wait for the cluster to exist. The plain `clusterName` carries no such edge.
     */
    readonly name: pulumi.Output<string>;
    /** Kubeconfig (uses `aws eks get-token`); secret. */
    readonly kubeconfig: pulumi.Output<string>;
    /** Server-side apply on; deleteUnreachable so a destroy finishes when the cluster is already gone. */
    readonly provider: k8s.Provider;
    readonly vpcId: pulumi.Output<string>;
    readonly oidcProviderArn: pulumi.Output<string>;
    readonly oidcProviderUrl: pulumi.Output<string>;
    readonly systemNodeGroup: NodeGroup;
    readonly gpuNodeGroup: NodeGroup;
    readonly devicePlugin: NvidiaDevicePlugin;

    constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:cluster:Cluster", name, {}, opts);
        const child = { parent: this };
        const version = args.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION;
        this.clusterName = args.clusterName;

        const vpc = new Vpc(
            `${name}-vpc`,
            {
                ...args.network,
                clusterName: args.clusterName,
                requiredInstanceTypes: [...new Set([args.systemNodes.instanceType, args.gpuNodes.instanceType])],
            },
            child,
        );

        const kmsKey = new aws.kms.Key(
            `${name}-secrets`,
            {
                description: `EKS secrets encryption for ${args.clusterName}`,
                enableKeyRotation: true,
                deletionWindowInDays: args.kmsDeletionWindowDays ?? 7,
            },
            child,
        );
        new aws.kms.Alias(`${name}-secrets`, { name: `alias/${args.clusterName}-eks-secrets`, targetKeyId: kmsKey.keyId }, child);

        // EKS writes to this exact name; creating it first is the only way to set its retention.
        const logGroup = new aws.cloudwatch.LogGroup(
            `${name}-control-plane`,
            { name: `/aws/eks/${args.clusterName}/cluster`, retentionInDays: args.logRetentionDays ?? 30 },
            child,
        );

        const adminEntries = Object.fromEntries(
            (args.adminRoleArns ?? []).map((arn, i) => [
                `admin-${i}`,
                {
                    principalArn: arn,
                    accessPolicies: { admin: { policyArn: CLUSTER_ADMIN_ACCESS_POLICY, accessScope: { type: "cluster" } } },
                },
            ]),
        );

        const cluster = new eks.Cluster(
            name,
            {
                name: args.clusterName,
                version,
                vpcId: vpc.vpcId,
                publicSubnetIds: vpc.publicSubnetIds,
                privateSubnetIds: vpc.privateSubnetIds,
                nodeAssociatePublicIpAddress: false,
                authenticationMode: eks.AuthenticationMode.Api,
                accessEntries: adminEntries,
                skipDefaultNodeGroup: true,
                createOidcProvider: true,
                enabledClusterLogTypes: args.logTypes ?? ["api", "audit", "authenticator"],
                encryptionConfigKeyArn: kmsKey.arn,
                endpointPublicAccess: args.endpointPublicAccess ?? true,
                endpointPrivateAccess: args.endpointPrivateAccess ?? true,
                publicAccessCidrs: (args.endpointPublicAccess ?? true) ? (args.publicAccessCidrs ?? ["0.0.0.0/0"]) : undefined,
                deletionProtection: args.deletionProtection ?? false,
                // The EKS managed add-ons below are pinned by this stack instead.
                useDefaultVpcCni: true,
                corednsAddonOptions: { enabled: false },
                kubeProxyAddonOptions: { enabled: false },
            },
            { ...child, dependsOn: [logGroup] },
        );
        this.name = cluster.eksCluster.name;

        const addonRole = (addon: string, policies: string[]) => {
            const role = new aws.iam.Role(
                `${name}-${addon}`,
                { assumeRolePolicy: JSON.stringify(podIdentityAssumeRolePolicy()) },
                child,
            );
            policies.forEach((policyArn, i) => new aws.iam.RolePolicyAttachment(`${name}-${addon}-${i}`, { role: role.name, policyArn }, child));
            return role;
        };
        const registerAddon = (spec: ReturnType<typeof eksAddonSpecs>[number], dependsOn: pulumi.Resource[]) =>
            new aws.eks.Addon(
                `${name}-${spec.name}`,
                {
                    clusterName: this.name,
                    addonName: spec.name,
                    addonVersion: spec.version,
                    // EKS pre-installs self-managed vpc-cni/kube-proxy/coredns; take them over.
                    resolveConflictsOnCreate: "OVERWRITE",
                    resolveConflictsOnUpdate: "OVERWRITE",
                    podIdentityAssociations: spec.podIdentity
                        ? [
                              {
                                  serviceAccount: spec.podIdentity.serviceAccount,
                                  roleArn: addonRole(spec.name, spec.podIdentity.managedPolicyArns).arn,
                              },
                          ]
                        : undefined,
                },
                { ...child, dependsOn },
            );

        const specs = eksAddonSpecs(version);
        const beforeNodes = specs.filter((s) => s.phase === "beforeNodes").map((s) => registerAddon(s, [cluster]));

        const nodeGroupArgs = {
            clusterName: this.name,
            clusterNameForTags: args.clusterName,
            subnetIds: vpc.privateSubnetIds,
            autoscaled: args.nodeAutoscaler ?? false,
            waitFor: [cluster, ...beforeNodes],
        };
        this.systemNodeGroup = new NodeGroup(
            `${name}-system`,
            { ...nodeGroupArgs, pool: "system", sizing: args.systemNodes },
            child,
        );
        this.gpuNodeGroup = new NodeGroup(
            `${name}-gpu`,
            { ...nodeGroupArgs, pool: "gpu", sizing: args.gpuNodes },
            child,
        );
        const afterNodes = specs.filter((s) => s.phase === "afterNodes").map((s) => registerAddon(s, [cluster, this.systemNodeGroup]));

        this.kubeconfig = pulumi.secret(cluster.kubeconfigJson);
        this.provider = new k8s.Provider(
            `${name}-k8s`,
            { kubeconfig: this.kubeconfig, enableServerSideApply: true, deleteUnreachable: true },
            { ...child, dependsOn: [this.systemNodeGroup, ...afterNodes] },
        );

        this.devicePlugin = new NvidiaDevicePlugin(`${name}-nvidia-device-plugin`, {}, { ...child, provider: this.provider });
        // Encrypted gp3 as the default class: Prometheus data and model-cache PVCs land here.
        new k8s.storage.v1.StorageClass(`${name}-gp3`, gp3StorageClass(), { ...child, provider: this.provider });

        this.vpcId = vpc.vpcId;
        this.oidcProviderArn = cluster.oidcProviderArn;
        this.oidcProviderUrl = cluster.oidcProviderUrl;
        this.registerOutputs({
            clusterName: this.clusterName,
            kubeconfig: this.kubeconfig,
            vpcId: this.vpcId,
            oidcProviderArn: this.oidcProviderArn,
            systemNodeGroupName: this.systemNodeGroup.nodeGroupName,
            gpuNodeGroupName: this.gpuNodeGroup.nodeGroupName,
        });
    }
}
