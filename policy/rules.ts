/**
 * The guardrails of mlserve as pure rules over resources as the policy engine
 * sees them ({type, name, urn, props}). policy/index.ts wraps them into a
 * @pulumi/policy PolicyPack; the tests run them over every stack's planned
 * inventory. A rule returns the violations it finds (empty = pass).
 */

import { isScopedWithoutArn, type PolicyDocument } from "../components/platform/cluster/iam";
import { isPinnedImage, isProductionStack } from "../components/validators";

export interface PolicyInput {
    type: string;
    name: string;
    urn: string;
    /** Resource inputs (unknown values during preview are undefined: rules skip them). */
    props: Record<string, unknown>;
    /** Props of the explicit provider the resource uses, if any. */
    providerProps?: Record<string, unknown>;
    /** Physical ID when known (not during a preview of a new resource). */
    id?: string;
}

export interface Rule {
    name: string;
    description: string;
    /** Per-resource check. */
    resource?: (r: PolicyInput, env: Environment) => string[];
    /** Whole-stack check (relations between resources). */
    stack?: (rs: readonly PolicyInput[], env: Environment) => string[];
}

export type Environment = "prod" | "nonprod";

/** GPU instance types and GPU node counts allowed per environment. */
export const ENVIRONMENT_LIMITS: Record<Environment, { gpuInstanceTypes: string[]; maxGpuNodes: number }> = {
    nonprod: { gpuInstanceTypes: ["g4dn.xlarge", "g5.xlarge", "g5.2xlarge", "g5.4xlarge", "g6.xlarge", "g6.2xlarge", "g6.4xlarge"], maxGpuNodes: 2 },
    prod: { gpuInstanceTypes: ["g5.4xlarge", "g5.8xlarge", "g5.12xlarge", "g6.4xlarge", "g6.12xlarge", "g6e.xlarge", "g6e.2xlarge", "g6e.12xlarge"], maxGpuNodes: 8 },
};

export const REQUIRED_TAGS: Record<Environment, string[]> = {
    nonprod: ["mlserve:owner", "mlserve:stack", "mlserve:expires-at"],
    prod: ["mlserve:owner", "mlserve:stack"],
};

/** Stack name from a URN (`urn:pulumi:<stack>::<project>::...`); prod* stacks are production. */
export function environmentOf(urn: string): Environment {
    // split() always yields a first element and a last part (both maybe empty).
    const stack = urn.split("::")[0]!.split(":").pop()!;
    return isProductionStack(stack) ? "prod" : "nonprod";
}

/** Provider inputs may arrive as JSON strings (engine serialization) or objects. */
function objectProp(v: unknown): Record<string, unknown> | undefined {
    if (typeof v === "string") {
        try {
            const parsed = JSON.parse(v) as unknown;
            return parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : undefined;
        }
        // Stryker disable next-line BlockStatement: an emptied catch block returns undefined all the same.
        catch {
            return undefined;
        }
    }
    return v && typeof v === "object" ? (v as Record<string, unknown>) : undefined;
}

const isGpuNodeGroup = (r: PolicyInput) => r.type === "aws:eks/nodeGroup:NodeGroup" && String(r.props.amiType).includes("NVIDIA");

/** Containers of every workload kind the platform renders. */
function containersOf(r: PolicyInput): Array<Record<string, unknown>> {
    const spec = r.props.spec as Record<string, unknown> | undefined;
    if (!spec) return [];
    let podSpec: Record<string, unknown> | undefined;
    switch (r.type) {
        case "kubernetes:apps/v1:Deployment":
        case "kubernetes:apps/v1:StatefulSet":
        case "kubernetes:apps/v1:DaemonSet":
        case "kubernetes:batch/v1:Job":
            podSpec = (spec.template as { spec?: Record<string, unknown> } | undefined)?.spec;
            break;
        case "kubernetes:batch/v1:CronJob":
            podSpec = ((spec.jobTemplate as { spec?: { template?: { spec?: Record<string, unknown> } } } | undefined)?.spec?.template?.spec);
            break;
        case "kubernetes:core/v1:Pod":
            podSpec = spec;
            break;
    }
    // Other kinds leave podSpec undefined: no containers.
    return [...((podSpec?.initContainers as Array<Record<string, unknown>>) ?? []), ...((podSpec?.containers as Array<Record<string, unknown>>) ?? [])];
}

/**
 * A wildcard resource: "*", or a "*" anywhere but in an S3 object key after a
 * fixed bucket and a non-empty prefix (arn:aws:s3:::bucket/results/* is scoped;
 * arn:aws:s3:::* or arn:aws:sqs:...:mlserve-* is not).
 */
export function isWildcardResource(arn: string): boolean {
    if (!arn.includes("*")) return false;
    const s3Object = /^arn:aws[a-z-]*:s3:::([^/*]+)\/([^*]+)\*$/.exec(arn);
    return !(s3Object && s3Object[2]!.endsWith("/"));
}

function statements(policy: unknown): Array<{ Effect?: string; Resource?: unknown; Action?: unknown; Condition?: unknown }> {
    const doc = objectProp(policy);
    const st = doc?.Statement;
    // A list of statements, one statement, or none.
    return Array.isArray(st) ? st : [st as never].filter(Boolean);
}

export const RULES: Rule[] = [
    {
        name: "gpu-instance-types",
        description: "GPU node groups use an instance type allowed for the environment",
        resource: (r, env) => {
            if (!isGpuNodeGroup(r)) return [];
            const types = (r.props.instanceTypes as string[] | undefined) ?? [];
            const allowed = ENVIRONMENT_LIMITS[env].gpuInstanceTypes;
            return types.filter((t) => !allowed.includes(t)).map((t) => `GPU instance type ${t} is not allowed in ${env}; allowed: ${allowed.join(", ")}`);
        },
    },
    {
        name: "gpu-node-count",
        description: "GPU node groups cannot grow past the environment's maximum",
        stack: (rs, env) => {
            const total = rs.filter(isGpuNodeGroup).reduce((n, r) => n + Number((r.props.scalingConfig as { maxSize?: number } | undefined)?.maxSize ?? 0), 0);
            const max = ENVIRONMENT_LIMITS[env].maxGpuNodes;
            return total > max ? [`GPU node groups may grow to ${total} nodes; ${env} allows ${max}`] : [];
        },
    },
    {
        name: "lifecycle-tags",
        description: "every AWS resource carries owner, stack and (outside prod) expiry tags, directly or through the provider's default tags",
        resource: (r, env) => {
            if (!r.type.startsWith("aws:") || r.type.startsWith("aws:iam/rolePolicyAttachment") || r.type === "aws:autoscaling/tag:Tag") return [];
            const defaults = objectProp(objectProp(r.providerProps?.defaultTags)?.tags) ?? {};
            const own = objectProp(r.props.tags) ?? {};
            const missing = REQUIRED_TAGS[env].filter((t) => !(t in defaults) && !(t in own));
            return missing.length ? [`${r.type} ${r.name} is missing tag(s) ${missing.join(", ")}`] : [];
        },
    },
    {
        name: "pinned-images",
        description: "no container image without a pinned tag or digest (never latest)",
        resource: (r) =>
            containersOf(r)
                .filter((c) => typeof c.image === "string" && !isPinnedImage(c.image))
                .map((c) => `container ${String(c.name)} of ${r.name} uses unpinned image ${String(c.image)}`),
    },
    {
        name: "container-resources",
        description: "every container has CPU and memory requests and a memory limit",
        resource: (r) =>
            containersOf(r).flatMap((c) => {
                const res = (c.resources ?? {}) as { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
                const missing = [
                    ...(res.requests?.cpu === undefined ? ["requests.cpu"] : []),
                    ...(res.requests?.memory === undefined ? ["requests.memory"] : []),
                    ...(res.limits?.memory === undefined ? ["limits.memory"] : []),
                ];
                return missing.length ? [`container ${String(c.name)} of ${r.name} has no ${missing.join(", ")}`] : [];
            }),
    },
    {
        name: "no-iam-wildcard-resources",
        description: "IAM policies name their resources; `*` only for actions AWS cannot scope, or under an exact resource-tag condition",
        resource: (r) => {
            if (!["aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy", "aws:sns/topicPolicy:TopicPolicy", "aws:sqs/queuePolicy:QueuePolicy", "aws:s3/bucketPolicy:BucketPolicy"].includes(r.type)) return [];
            return statements(r.props.policy)
                .filter((s) => s.Effect !== "Deny" && [s.Resource].flat().some((x) => typeof x === "string" && isWildcardResource(x)))
                .filter((s) => !isScopedWithoutArn({ Action: (s.Action ?? []) as string | string[], Condition: s.Condition as PolicyDocument["Statement"][number]["Condition"] }))
                .map((s) => `${r.type} ${r.name} allows ${JSON.stringify(s.Action)} on ${JSON.stringify(s.Resource)}`);
        },
    },
    {
        name: "encrypted-queues",
        description: "SQS queues are encrypted (SSE-SQS or KMS)",
        resource: (r) => (r.type === "aws:sqs/queue:Queue" && r.props.sqsManagedSseEnabled !== true && !r.props.kmsMasterKeyId ? [`queue ${r.name} is not encrypted`] : []),
    },
    {
        name: "encrypted-buckets",
        description: "every S3 bucket has a server-side encryption configuration",
        stack: (rs) => bucketsWithout(rs, ["aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"], () => true, "no server-side encryption configuration"),
    },
    {
        name: "bucket-public-access-block",
        description: "every S3 bucket blocks all public access",
        stack: (rs) =>
            bucketsWithout(
                rs,
                ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"],
                (b) => ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every((k) => b.props[k] === true),
                "no public access block with all four settings true",
            ),
    },
    {
        name: "prod-private-eks-endpoint",
        description: "in prod the EKS API is not open to 0.0.0.0/0",
        resource: (r, env) => {
            if (env !== "prod" || r.type !== "eks:index:Cluster" || r.props.endpointPublicAccess === false) return [];
            const cidrs = (r.props.publicAccessCidrs as string[] | undefined) ?? ["0.0.0.0/0"];
            return cidrs.includes("0.0.0.0/0") ? [`EKS cluster ${r.name} has a public endpoint open to 0.0.0.0/0`] : [];
        },
    },
];

/**
 * Buckets with no companion resource that passes `ok`. A companion belongs to a
 * bucket when its `bucket` input is the bucket's name or ID, or, while that is
 * still unknown (preview of a new bucket), when its logical name starts with the
 * bucket's (the convention: <bucket>-sse, <bucket>-public-access).
 */
function bucketsWithout(rs: readonly PolicyInput[], companionTypes: string[], ok: (c: PolicyInput) => boolean, what: string): string[] {
    const buckets = rs.filter((r) => r.type === "aws:s3/bucket:Bucket" || r.type === "aws:s3/bucketV2:BucketV2");
    const companions = rs.filter((r) => companionTypes.includes(r.type) && ok(r));
    const belongs = (c: PolicyInput, b: PolicyInput) =>
        c.props.bucket === undefined
            ? c.name.startsWith(`${b.name}-`)
            : [b.props.bucket, b.id, b.name].includes(c.props.bucket as string);
    return buckets.filter((b) => !companions.some((c) => belongs(c, b))).map((b) => `bucket ${b.name} has ${what}`);
}

/** Run every rule over a stack's resources: the violations, by rule. */
export function evaluate(rs: readonly PolicyInput[], rules: readonly Rule[] = RULES): Array<{ rule: string; message: string }> {
    const env = rs[0] ? environmentOf(rs[0].urn) : "nonprod";
    return rules.flatMap((rule) => [
        ...(rule.resource ? rs.flatMap((r) => rule.resource!(r, env)) : []),
        ...(rule.stack ? rule.stack(rs, env) : []),
    ].map((message) => ({ rule: rule.name, message })));
}
