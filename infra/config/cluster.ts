/**
 * `mlserve:cluster`, `mlserve:systemNodes` and `mlserve:gpuNodes`: the EKS
 * control plane, its network, and the two node groups, with their rules.
 */
import { z } from "zod";
import { GPU_INSTANCE_TYPE_NAMES, isGpuInstanceType, looksLikeAcceleratedInstance } from "../../components/platform/cluster/instanceTypes";
import { DEFAULT_KUBERNETES_VERSION, SUPPORTED_KUBERNETES_VERSIONS } from "../../components/versions";
import { at, rule, type Check, type Issue } from "./rules";
import { labelKey, labelValue } from "../../components/validators";

const ipv4Cidr = z.string().refine(
    (s) => {
        const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
        return m !== null && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
    },
    { message: "must be an IPv4 CIDR such as 10.0.0.0/16 (octets <= 255, prefix <= 32)" },
);

const CLOUDWATCH_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

const controlPlaneLogType = z.enum(["api", "audit", "authenticator", "controllerManager", "scheduler"]);

const instanceTypeName = z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "must be an EC2 instance type such as m6i.large");

const endpointPublicAccess = z.boolean().default(true);
const endpointPrivateAccess = z.boolean().default(true);

export const clusterSchema = z.strictObject({
    /** Kubernetes minor version of the control plane; each has a pinned add-on row in components/versions.ts. */
    kubernetesVersion: z.enum(SUPPORTED_KUBERNETES_VERSIONS).default(DEFAULT_KUBERNETES_VERSION),
    /** Availability zones the VPC spans (one public and one private subnet each). */
    availabilityZones: z.int().min(2, "EKS needs subnets in at least 2 AZs").max(4).default(2),
    /** VPC address range; split into /20 (or smaller) subnets per AZ. */
    vpcCidr: ipv4Cidr
        .refine((s) => {
            const prefix = Number(s.split("/")[1]);
            return prefix >= 16 && prefix <= 20;
        }, { message: "VPC prefix must be between /16 and /20" })
        .default("10.0.0.0/16"),
    /** "single" NAT gateway (cheap, one AZ is a single point of failure) or one "perAz" (production). */
    natGateways: z.enum(["single", "perAz"]).default("single"),
    /** Expose the Kubernetes API on the internet (restricted by publicAccessCidrs). */
    endpointPublicAccess,
    /** Expose the Kubernetes API inside the VPC (nodes then talk to it privately). */
    endpointPrivateAccess,
    /** CIDRs allowed to reach the public API endpoint. */
    publicAccessCidrs: z.array(ipv4Cidr).min(1).default(["0.0.0.0/0"]),
    /** Control-plane log types sent to CloudWatch. */
    logTypes: z.array(controlPlaneLogType).default(["api", "audit", "authenticator"]),
    /** Retention of the control-plane log group (a CloudWatch-allowed value). */
    logRetentionDays: z
        .int()
        .refine((d) => (CLOUDWATCH_RETENTION_DAYS as readonly number[]).includes(d), {
            message: `must be one of CloudWatch's retention values: ${CLOUDWATCH_RETENTION_DAYS.join(", ")}`,
        })
        .default(30),
    /** Waiting period before the secrets-encryption KMS key is deleted after destroy. */
    kmsDeletionWindowDays: z.int().min(7).max(30).default(7),
    /** Refuse `pulumi destroy` of the EKS cluster until this is turned off. */
    deletionProtection: z.boolean().default(false),
    /** IAM role ARNs granted cluster-admin through EKS access entries (the deploying identity always is). */
    adminRoleArns: z
        .array(z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, "must be an IAM role ARN such as arn:aws:iam::123456789012:role/platform-admin"))
        .default([]),
});

export const clusterRules: Check[] = [
    rule({ endpointPublicAccess, endpointPrivateAccess }, (c) =>
        !c.endpointPublicAccess && !c.endpointPrivateAccess
            ? [{ path: ["endpointPrivateAccess"], input: false, message: "the API must be reachable somehow: enable endpointPublicAccess or endpointPrivateAccess" }]
            : [],
    ),
];

/** Fields shared by both node groups. */
function nodeGroupShape(defaults: { instanceType: string; minSize: number; desiredSize: number; maxSize: number; diskSizeGiB: number }) {
    return {
        instanceType: instanceTypeName.default(defaults.instanceType),
        /** ON_DEMAND, or SPOT (cheaper, can be reclaimed with two minutes' notice). */
        capacityType: z.enum(["ON_DEMAND", "SPOT"]).default("ON_DEMAND"),
        minSize: z.int().min(0).default(defaults.minSize),
        desiredSize: z.int().min(0).default(defaults.desiredSize),
        maxSize: z.int().min(1).max(100).default(defaults.maxSize),
        /** Root volume size; on GPU nodes model weights and container images live here. */
        diskSizeGiB: z.int().min(20).max(16384).default(defaults.diskSizeGiB),
        /** Extra node labels. */
        labels: z.record(labelKey, labelValue).default({}),
    };
}

/** min <= desired <= max, reported on the field that breaks it. */
function sizeOrder(v: { minSize: number; desiredSize: number; maxSize: number }): Issue[] {
    const issues: Issue[] = [];
    if (v.minSize > v.maxSize) issues.push({ path: ["minSize"], input: v.minSize, message: `must be <= maxSize (${v.maxSize})` });
    if (v.desiredSize < v.minSize) issues.push({ path: ["desiredSize"], input: v.desiredSize, message: `must be >= minSize (${v.minSize})` });
    if (v.desiredSize > v.maxSize) issues.push({ path: ["desiredSize"], input: v.desiredSize, message: `must be <= maxSize (${v.maxSize})` });
    return issues;
}

// m6i.xlarge: what runs on the system pool requests 5.6 (prod) to 7.1 (dev) vCPU (the plan's capacity table); 2× m6i.large allocate 3.9.
const systemShape = nodeGroupShape({ instanceType: "m6i.xlarge", minSize: 1, desiredSize: 2, maxSize: 3, diskSizeGiB: 50 });
export const systemNodesSchema = z.strictObject(systemShape);
export const systemNodesRules: Check[] = [
    rule({ minSize: systemShape.minSize, desiredSize: systemShape.desiredSize, maxSize: systemShape.maxSize }, sizeOrder),
    rule({ instanceType: systemShape.instanceType }, (v) =>
        looksLikeAcceleratedInstance(v.instanceType)
            ? [{ path: ["instanceType"], input: v.instanceType, message: "is an accelerated instance type; system nodes run CPU add-ons, put GPU capacity in mlserve:gpuNodes" }]
            : [],
    ),
    rule({ minSize: systemShape.minSize }, (v) =>
        v.minSize < 1 ? [{ path: ["minSize"], input: v.minSize, message: "must be >= 1: CoreDNS and the platform add-ons need a CPU node" }] : [],
    ),
];

const gpuShape = {
    ...nodeGroupShape({ instanceType: "g5.4xlarge", minSize: 0, desiredSize: 1, maxSize: 2, diskSizeGiB: 200 }),
    /** With Cluster Autoscaler: remove a GPU node this long after its last GPU pod left (GPUs bill by the second). */
    scaleDownIdleAfter: z.string().regex(/^([1-9]\d?m|[1-9]h)$/, "must be minutes or hours such as 10m, 30m or 1h (1m to 9h)").default("10m"),
};
export const gpuNodesSchema = z.strictObject(gpuShape);
export const gpuNodesRules: Check[] = [
    rule({ minSize: gpuShape.minSize, desiredSize: gpuShape.desiredSize, maxSize: gpuShape.maxSize }, sizeOrder),
    rule({ instanceType: gpuShape.instanceType }, (v) =>
        isGpuInstanceType(v.instanceType)
            ? []
            : [{ path: ["instanceType"], input: v.instanceType, message: `is not a known GPU instance type; allowed: ${GPU_INSTANCE_TYPE_NAMES.join(", ")}` }],
    ),
];

/** The areas as the stack schema holds them (a missing key takes every default). */
export const clusterAreas = {
    cluster: clusterSchema.prefault({}),
    systemNodes: systemNodesSchema.prefault({}),
    gpuNodes: gpuNodesSchema.prefault({}),
};

export const clusterAreaRules: Check[] = [at("cluster", clusterRules), at("systemNodes", systemNodesRules), at("gpuNodes", gpuNodesRules)];

export type SystemNodesConfig = z.infer<typeof systemNodesSchema>;
export type GpuNodesConfig = z.infer<typeof gpuNodesSchema>;
