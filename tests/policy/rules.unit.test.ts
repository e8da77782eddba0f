/**
 * The policy rules (policy/rules.ts) over hand-made policy inputs: each rule
 * passes a good resource and reports a bad one, with the message the policy pack
 * prints. The renders of every stack through the whole pack are in policy.test.ts.
 */
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
// isPinnedImage is the stack config's check too (components/validators.ts); the pack uses it for every container.
import { isPinnedImage } from "../../components/validators";
import { environmentOf, evaluate, isWildcardResource, RULES, type PolicyInput, type Rule } from "../../policy/rules";
import { deployment, res, urn } from "./inputs";

const rule = (name: string): Rule => RULES.find((r) => r.name === name)!;

const check = (name: string, rs: PolicyInput[], env: "prod" | "nonprod" = "nonprod") => {
    const r = rule(name);
    return [...(r.resource ? rs.flatMap((x) => r.resource!(x, env)) : []), ...(r.stack ? r.stack(rs, env) : [])];
};

const gpuGroup = (instance: string, maxSize = 1) => res("aws:eks/nodeGroup:NodeGroup", { amiType: "AL2023_x86_64_NVIDIA", instanceTypes: [instance], scalingConfig: { maxSize } });
const goodResources = { requests: { cpu: "1", memory: "1Gi" }, limits: { memory: "2Gi" } };

describe("each rule passes a good resource and reports a bad one", () => {
    it("gpu-instance-types", () => {
        expect(check("gpu-instance-types", [gpuGroup("g5.4xlarge")])).toEqual([]);
        expect(check("gpu-instance-types", [gpuGroup("p5.48xlarge")])[0]).toMatch(/p5\.48xlarge is not allowed in nonprod/);
        expect(check("gpu-instance-types", [gpuGroup("g6e.12xlarge")], "prod")).toEqual([]);
    });

    it("gpu-node-count", () => {
        expect(check("gpu-node-count", [gpuGroup("g5.4xlarge", 2)])).toEqual([]);
        expect(check("gpu-node-count", [gpuGroup("g5.4xlarge", 2), gpuGroup("g5.xlarge", 1)])[0]).toMatch(/may grow to 3 nodes; nonprod allows 2/);
        expect(check("gpu-node-count", [gpuGroup("g5.4xlarge", 6)], "prod")).toEqual([]);
    });

    it("lifecycle-tags (through provider default tags or own tags)", () => {
        const tags = { "mlserve:owner": "a", "mlserve:stack": "dev", "mlserve:expires-at": "2026-12-31" };
        expect(check("lifecycle-tags", [res("aws:ec2/vpc:Vpc", {}, { providerProps: { defaultTags: JSON.stringify({ tags }) } })])).toEqual([]);
        expect(check("lifecycle-tags", [res("aws:ec2/vpc:Vpc", { tags })])).toEqual([]);
        expect(check("lifecycle-tags", [res("aws:ec2/vpc:Vpc", { tags: { "mlserve:owner": "a" } })])[0]).toMatch(/missing tag\(s\) mlserve:stack, mlserve:expires-at/);
        // Production needs no expiry.
        expect(check("lifecycle-tags", [res("aws:ec2/vpc:Vpc", { tags: { "mlserve:owner": "a", "mlserve:stack": "prod" } })], "prod")).toEqual([]);
    });

    it("pinned-images", () => {
        expect(check("pinned-images", [deployment({ image: "ghcr.io/huggingface/text-generation-inference:3.3.7" })])).toEqual([]);
        expect(check("pinned-images", [deployment({ image: `r.example.com/x@sha256:${"0".repeat(64)}` })])).toEqual([]);
        expect(check("pinned-images", [deployment({ image: "nginx" })])[0]).toMatch(/unpinned image nginx/);
        expect(check("pinned-images", [deployment({ image: "nginx:latest" })])).toHaveLength(1);
        expect(isPinnedImage("localhost:5000/img")).toBe(false);
    });

    it("container-resources", () => {
        expect(check("container-resources", [deployment({ image: "a:1", resources: goodResources })])).toEqual([]);
        expect(check("container-resources", [deployment({ image: "a:1", resources: { requests: { cpu: "1" } } })])[0]).toMatch(/no requests\.memory, limits\.memory/);
        const cron = res("kubernetes:batch/v1:CronJob", { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: "j", image: "a:1" }] } } } } } });
        expect(check("container-resources", [cron])).toHaveLength(1);
    });

    it("no-iam-wildcard-resources", () => {
        const policy = (resource: unknown) => res("aws:iam/rolePolicy:RolePolicy", { policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sqs:GetQueueAttributes", Resource: resource }] }) });
        expect(check("no-iam-wildcard-resources", [policy(["arn:aws:sqs:us-east-1:123456789012:q"])])).toEqual([]);
        expect(check("no-iam-wildcard-resources", [policy("*")])).toHaveLength(1);
        expect(check("no-iam-wildcard-resources", [policy(["arn:aws:sqs:us-east-1:123456789012:mlserve-*"])])).toHaveLength(1);
        // Object keys under a fixed bucket and prefix are scoped; a bucket wildcard is not.
        expect(check("no-iam-wildcard-resources", [policy(["arn:aws:s3:::jobs-bucket/results/*"])])).toEqual([]);
        expect(check("no-iam-wildcard-resources", [policy(["arn:aws:s3:::jobs-bucket/*"])])).toHaveLength(1);
        expect(check("no-iam-wildcard-resources", [policy(["arn:aws:s3:::*/results/*"])])).toHaveLength(1);
    });

    it("no-iam-wildcard-resources: * only for actions AWS cannot scope, or under an exact resource-tag condition", () => {
        const policy = (st: Record<string, unknown>) => res("aws:iam/rolePolicy:RolePolicy", { policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Resource: "*", ...st }] }) });
        expect(check("no-iam-wildcard-resources", [policy({ Action: ["autoscaling:DescribeAutoScalingGroups", "ec2:DescribeInstanceTypes"] })])).toEqual([]);
        // One scopable action among them makes the whole statement a wildcard grant.
        expect(check("no-iam-wildcard-resources", [policy({ Action: ["autoscaling:DescribeAutoScalingGroups", "autoscaling:SetDesiredCapacity"] })])).toHaveLength(1);
        const tagged = (value: string) => ({ Action: ["autoscaling:SetDesiredCapacity"], Condition: { StringEquals: { "aws:ResourceTag/k8s.io/cluster-autoscaler/c": value } } });
        expect(check("no-iam-wildcard-resources", [policy(tagged("owned"))])).toEqual([]);
        expect(check("no-iam-wildcard-resources", [policy(tagged("*"))])).toHaveLength(1);
        expect(check("no-iam-wildcard-resources", [policy({ Action: ["autoscaling:SetDesiredCapacity"], Condition: { StringLike: { "aws:ResourceTag/team": "ml*" } } })])).toHaveLength(1);
        expect(check("no-iam-wildcard-resources", [policy({ Action: ["autoscaling:SetDesiredCapacity"], Condition: { StringEquals: { "aws:RequestedRegion": "us-east-1" } } })])).toHaveLength(1);
    });

    it("encrypted-queues", () => {
        expect(check("encrypted-queues", [res("aws:sqs/queue:Queue", { sqsManagedSseEnabled: true })])).toEqual([]);
        expect(check("encrypted-queues", [res("aws:sqs/queue:Queue", { kmsMasterKeyId: "alias/x" })])).toEqual([]);
        expect(check("encrypted-queues", [res("aws:sqs/queue:Queue", {})])).toHaveLength(1);
    });

    const bucket = res("aws:s3/bucketV2:BucketV2", { bucket: "results" }, { name: "results" });
    it("encrypted-buckets", () => {
        const sse = res("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", { bucket: "results" }, { name: "results-sse" });
        expect(check("encrypted-buckets", [bucket, sse])).toEqual([]);
        expect(check("encrypted-buckets", [bucket])).toEqual(["bucket results has no server-side encryption configuration"]);
        // During a preview the bucket name is unknown: the companion is matched by its name.
        expect(check("encrypted-buckets", [bucket, { ...sse, props: {} }])).toEqual([]);
    });

    it("bucket-public-access-block", () => {
        const block = (v: boolean) => res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", { bucket: "results", blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: v }, { name: "results-public-access" });
        expect(check("bucket-public-access-block", [bucket, block(true)])).toEqual([]);
        expect(check("bucket-public-access-block", [bucket, block(false)])).toHaveLength(1);
    });

    it("prod-private-eks-endpoint", () => {
        const cluster = (props: Record<string, unknown>) => res("eks:index:Cluster", props);
        expect(check("prod-private-eks-endpoint", [cluster({ endpointPublicAccess: false })], "prod")).toEqual([]);
        expect(check("prod-private-eks-endpoint", [cluster({ endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] })], "prod")).toEqual([]);
        expect(check("prod-private-eks-endpoint", [cluster({ endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/0"] })], "prod")).toHaveLength(1);
        expect(check("prod-private-eks-endpoint", [cluster({ endpointPublicAccess: true })], "prod")).toHaveLength(1);
        expect(check("prod-private-eks-endpoint", [cluster({ endpointPublicAccess: true })], "nonprod")).toEqual([]);
    });

    it("every rule has a test above with a passing and a violating case", () => {
        // Read from this file, so deleting a rule's test (or one of its two cases) fails here.
        const source = fs.readFileSync(__filename, "utf8");
        const checks = (name: string) => source.split(`check("${name}"`).slice(1).map((after) => after.slice(0, after.indexOf("\n")));
        for (const { name } of RULES) {
            expect(checks(name).some((c) => c.includes(".toEqual([])")), `${name}: no passing case`).toBe(true);
            expect(checks(name).some((c) => /\[0\]\)\.toMatch\(|toHaveLength\([1-9]|toEqual\(\[["`]/.test(c)), `${name}: no violating case`).toBe(true);
        }
        expect(RULES).toHaveLength(10);
    });
});

describe("the pack as `pulumi preview --policy-pack` shows it", () => {
    it("ten rules, by name, with their descriptions", () => {
        expect(RULES.map((r) => [r.name, r.description, r.resource ? "resource" : "stack"])).toEqual([
            ["gpu-instance-types", "GPU node groups use an instance type allowed for the environment", "resource"],
            ["gpu-node-count", "GPU node groups cannot grow past the environment's maximum", "stack"],
            ["lifecycle-tags", "every AWS resource carries owner, stack and (outside prod) expiry tags, directly or through the provider's default tags", "resource"],
            ["pinned-images", "no container image without a pinned tag or digest (never latest)", "resource"],
            ["container-resources", "every container has CPU and memory requests and a memory limit", "resource"],
            ["no-iam-wildcard-resources", "IAM policies name their resources; `*` only for actions AWS cannot scope, or under an exact resource-tag condition", "resource"],
            ["encrypted-queues", "SQS queues are encrypted (SSE-SQS or KMS)", "resource"],
            ["encrypted-buckets", "every S3 bucket has a server-side encryption configuration", "stack"],
            ["bucket-public-access-block", "every S3 bucket blocks all public access", "stack"],
            ["prod-private-eks-endpoint", "in prod the EKS API is not open to 0.0.0.0/0", "resource"],
        ]);
    });

    it("the environment comes from the stack in the URN: prod, production and prod-* stacks are production", () => {
        expect(environmentOf(urn("prod", "t", "n"))).toBe("prod");
        expect(environmentOf(urn("prod-eu", "t", "n"))).toBe("prod");
        expect(environmentOf(urn("production", "t", "n"))).toBe("prod");
        expect(environmentOf(urn("dev", "t", "n"))).toBe("nonprod");
        expect(environmentOf(urn("products", "t", "n"))).toBe("nonprod");
        // The stack is the last ":" part before the first "::", not the project or type after it.
        expect(environmentOf("urn:pulumi:dev::prod::aws:ec2/vpc:Vpc::prod")).toBe("nonprod");
        expect(environmentOf("")).toBe("nonprod");
    });
});

describe("GPU limits per environment", () => {
    const nonprodAllowed = "g4dn.xlarge, g5.xlarge, g5.2xlarge, g5.4xlarge, g6.xlarge, g6.2xlarge, g6.4xlarge";
    const prodAllowed = "g5.4xlarge, g5.8xlarge, g5.12xlarge, g6.4xlarge, g6.12xlarge, g6e.xlarge, g6e.2xlarge, g6e.12xlarge";

    it("every allowed type passes in its environment; each disallowed type of a group is reported with the allowed list", () => {
        for (const t of nonprodAllowed.split(", ")) expect(check("gpu-instance-types", [gpuGroup(t)]), t).toEqual([]);
        for (const t of prodAllowed.split(", ")) expect(check("gpu-instance-types", [gpuGroup(t)], "prod"), t).toEqual([]);
        const mixed = res("aws:eks/nodeGroup:NodeGroup", { amiType: "AL2023_x86_64_NVIDIA", instanceTypes: ["g5.xlarge", "p4d.24xlarge", "g5.12xlarge"] });
        expect(check("gpu-instance-types", [mixed])).toEqual([
            `GPU instance type p4d.24xlarge is not allowed in nonprod; allowed: ${nonprodAllowed}`,
            `GPU instance type g5.12xlarge is not allowed in nonprod; allowed: ${nonprodAllowed}`,
        ]);
        expect(check("gpu-instance-types", [gpuGroup("g4dn.xlarge")], "prod")).toEqual([`GPU instance type g4dn.xlarge is not allowed in prod; allowed: ${prodAllowed}`]);
    });

    it("only NVIDIA node groups count: CPU groups, other resource types and groups with no instance types pass", () => {
        const cpuGroup = res("aws:eks/nodeGroup:NodeGroup", { amiType: "AL2023_x86_64_STANDARD", instanceTypes: ["p5.48xlarge"], scalingConfig: { maxSize: 50 } });
        const template = res("aws:ec2/launchTemplate:LaunchTemplate", { amiType: "AL2023_x86_64_NVIDIA", instanceTypes: ["p5.48xlarge"], scalingConfig: { maxSize: 50 } });
        const unknownAmi = res("aws:eks/nodeGroup:NodeGroup", { instanceTypes: ["p5.48xlarge"], scalingConfig: { maxSize: 50 } });
        const noTypes = res("aws:eks/nodeGroup:NodeGroup", { amiType: "BOTTLEROCKET_x86_64_NVIDIA" });
        expect(check("gpu-instance-types", [cpuGroup, template, unknownAmi, noTypes])).toEqual([]);
        expect(check("gpu-node-count", [cpuGroup, template, unknownAmi, noTypes, gpuGroup("g5.xlarge", 2)])).toEqual([]);
    });

    it("GPU node count: the sum of the groups' maxSize, up to 2 outside prod and 8 in prod", () => {
        expect(check("gpu-node-count", [gpuGroup("g5.xlarge", 1), gpuGroup("g5.xlarge", 1)])).toEqual([]);
        expect(check("gpu-node-count", [gpuGroup("g5.xlarge", 2), gpuGroup("g5.xlarge", 1)])).toEqual(["GPU node groups may grow to 3 nodes; nonprod allows 2"]);
        expect(check("gpu-node-count", [gpuGroup("g5.4xlarge", 5), gpuGroup("g6e.xlarge", 3)], "prod")).toEqual([]);
        expect(check("gpu-node-count", [gpuGroup("g5.4xlarge", 5), gpuGroup("g6e.xlarge", 4)], "prod")).toEqual(["GPU node groups may grow to 9 nodes; prod allows 8"]);
        // A maxSize given as a string still counts; a group without scaling config counts 0.
        const stringMax = res("aws:eks/nodeGroup:NodeGroup", { amiType: "AL2023_x86_64_NVIDIA", scalingConfig: { maxSize: "3" } });
        expect(check("gpu-node-count", [stringMax])).toEqual(["GPU node groups may grow to 3 nodes; nonprod allows 2"]);
        const noScaling = res("aws:eks/nodeGroup:NodeGroup", { amiType: "AL2023_x86_64_NVIDIA" });
        const noMax = res("aws:eks/nodeGroup:NodeGroup", { amiType: "AL2023_x86_64_NVIDIA", scalingConfig: { minSize: 9 } });
        expect(check("gpu-node-count", [noScaling, noMax, gpuGroup("g5.xlarge", 2)])).toEqual([]);
        expect(check("gpu-node-count", [noScaling, noMax, gpuGroup("g5.xlarge", 3)])).toEqual(["GPU node groups may grow to 3 nodes; nonprod allows 2"]);
    });
});

describe("lifecycle tags", () => {
    const all = { "mlserve:owner": "a", "mlserve:stack": "dev", "mlserve:expires-at": "2026-12-31" };

    it("names the resource and every missing tag: owner, stack and expiry outside prod; owner and stack in prod", () => {
        const vpc = res("aws:ec2/vpc:Vpc", {}, { name: "vpc" });
        expect(check("lifecycle-tags", [vpc])).toEqual(["aws:ec2/vpc:Vpc vpc is missing tag(s) mlserve:owner, mlserve:stack, mlserve:expires-at"]);
        expect(check("lifecycle-tags", [vpc], "prod")).toEqual(["aws:ec2/vpc:Vpc vpc is missing tag(s) mlserve:owner, mlserve:stack"]);
        expect(check("lifecycle-tags", [res("aws:ec2/vpc:Vpc", { tags: { "mlserve:stack": "dev", "mlserve:expires-at": "x" } }, { name: "v" })])).toEqual(["aws:ec2/vpc:Vpc v is missing tag(s) mlserve:owner"]);
    });

    it("provider default tags (a JSON string or an object) and the resource's own tags add up", () => {
        const defaults = (defaultTags: unknown, tags?: unknown) => res("aws:s3/bucketV2:BucketV2", tags === undefined ? {} : { tags }, { name: "b", providerProps: { defaultTags } });
        expect(check("lifecycle-tags", [defaults({ tags: all })])).toEqual([]);
        expect(check("lifecycle-tags", [defaults(JSON.stringify({ tags: { "mlserve:owner": "a" } }), { "mlserve:stack": "dev", "mlserve:expires-at": "x" })])).toEqual([]);
        expect(check("lifecycle-tags", [defaults({ tags: JSON.stringify({ "mlserve:owner": "a", "mlserve:stack": "dev" }) })])).toEqual(["aws:s3/bucketV2:BucketV2 b is missing tag(s) mlserve:expires-at"]);
    });

    it("default tags or tags that are not a JSON object count as none", () => {
        const missingAll = "aws:s3/bucketV2:BucketV2 b is missing tag(s) mlserve:owner, mlserve:stack, mlserve:expires-at";
        for (const defaultTags of ["{not json", "null", "5", '"tags"', 5, true, null]) {
            expect(check("lifecycle-tags", [res("aws:s3/bucketV2:BucketV2", { tags: defaultTags }, { name: "b", providerProps: { defaultTags } })]), String(defaultTags)).toEqual([missingAll]);
        }
    });

    it("only AWS resources that take tags: not Kubernetes objects, role policy attachments or ASG tags", () => {
        const untaggable = [
            res("kubernetes:core/v1:Namespace", {}),
            res("eks:index:Cluster", {}),
            res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {}),
            res("aws:autoscaling/tag:Tag", {}),
        ];
        expect(check("lifecycle-tags", untaggable)).toEqual([]);
        expect(check("lifecycle-tags", [res("aws:autoscaling/group:Group", {}, { name: "g" })])).toEqual(["aws:autoscaling/group:Group g is missing tag(s) mlserve:owner, mlserve:stack, mlserve:expires-at"]);
    });
});

describe("containers: pinned images and resources in every workload kind", () => {
    const pod = (containers: unknown[], initContainers?: unknown[]) => ({ containers, ...(initContainers ? { initContainers } : {}) });
    const kinds = (podSpec: Record<string, unknown>) => [
        res("kubernetes:apps/v1:Deployment", { spec: { template: { spec: podSpec } } }, { name: "deploy" }),
        res("kubernetes:apps/v1:StatefulSet", { spec: { template: { spec: podSpec } } }, { name: "sts" }),
        res("kubernetes:apps/v1:DaemonSet", { spec: { template: { spec: podSpec } } }, { name: "ds" }),
        res("kubernetes:batch/v1:Job", { spec: { template: { spec: podSpec } } }, { name: "job" }),
        res("kubernetes:batch/v1:CronJob", { spec: { jobTemplate: { spec: { template: { spec: podSpec } } } } }, { name: "cron" }),
        res("kubernetes:core/v1:Pod", { spec: podSpec }, { name: "pod" }),
    ];

    it("init containers and containers of each kind are checked, with the container and workload named", () => {
        const spec = pod([{ name: "main", image: "nginx", resources: goodResources }], [{ name: "init", image: "busybox:latest", resources: { requests: { memory: "1Gi" }, limits: { memory: "1Gi" } } }]);
        const names = ["deploy", "sts", "ds", "job", "cron", "pod"];
        expect(check("pinned-images", kinds(spec))).toEqual(names.flatMap((n) => [`container init of ${n} uses unpinned image busybox:latest`, `container main of ${n} uses unpinned image nginx`]));
        expect(check("container-resources", kinds(spec))).toEqual(names.map((n) => `container init of ${n} has no requests.cpu`));
    });

    it("a container with no resources misses all three; a good one passes", () => {
        expect(check("container-resources", [res("kubernetes:core/v1:Pod", { spec: pod([{ name: "bare", image: "a:1" }, { name: "ok", image: "a:1", resources: goodResources }]) }, { name: "p" })])).toEqual([
            "container bare of p has no requests.cpu, requests.memory, limits.memory",
        ]);
        expect(check("container-resources", [res("kubernetes:core/v1:Pod", { spec: pod([{ name: "lim", image: "a:1", resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "1" } } }]) }, { name: "p" })])).toEqual([
            "container lim of p has no limits.memory",
        ]);
    });

    it("resources without a pod spec, with no containers, or of other kinds have nothing to check", () => {
        const bad = [{ name: "x", image: "nginx" }];
        const none = [
            res("kubernetes:apps/v1:Deployment", {}),
            res("kubernetes:apps/v1:Deployment", { spec: {} }),
            res("kubernetes:batch/v1:CronJob", { spec: {} }),
            res("kubernetes:batch/v1:CronJob", { spec: { jobTemplate: {} } }),
            res("kubernetes:batch/v1:CronJob", { spec: { jobTemplate: { spec: {} } } }),
            res("kubernetes:core/v1:Pod", { spec: {} }),
            res("kubernetes:apps/v1:ReplicaSet", { spec: { template: { spec: pod(bad) } } }),
            res("kubernetes:core/v1:ConfigMap", { spec: pod(bad) }),
        ];
        expect(check("pinned-images", none)).toEqual([]);
        expect(check("container-resources", none)).toEqual([]);
        // An image not known yet (preview) is not judged.
        expect(check("pinned-images", [res("kubernetes:core/v1:Pod", { spec: pod([{ name: "x" }]) })])).toEqual([]);
    });

    it("isPinnedImage: a tag other than latest, or a digest; the registry's port is not a tag", () => {
        expect(isPinnedImage("nginx:1.27.3")).toBe(true);
        expect(isPinnedImage("registry.example.com:5000/team/img:v2")).toBe(true);
        expect(isPinnedImage(`registry.example.com:5000/img@sha256:${"ab".repeat(32)}`)).toBe(true);
        expect(isPinnedImage("registry.example.com:5000/img")).toBe(false);
        expect(isPinnedImage("nginx:latest")).toBe(false);
        // Only the tag latest floats; a tag that starts with it is another tag.
        expect(isPinnedImage("nginx:latest-1.27")).toBe(true);
        expect(isPinnedImage("nginx:")).toBe(false);
        // A digest must be whole: the part after "sha256:" is not a tag (the config refuses these too).
        expect(isPinnedImage("app@sha256:abc")).toBe(false);
        expect(isPinnedImage(`app:v1@sha256:${"ab".repeat(31)}`)).toBe(false);
        expect(isPinnedImage(`app@sha512:${"cd".repeat(64)}`)).toBe(true);
        expect(isPinnedImage("nginx")).toBe(false);
    });
});

describe("IAM wildcard resources", () => {
    it("isWildcardResource: only object keys after a fixed bucket and a prefix ending in / are scoped", () => {
        expect(isWildcardResource("arn:aws:sqs:us-east-1:123456789012:jobs")).toBe(false);
        expect(isWildcardResource("arn:aws:s3:::jobs/results/key.json")).toBe(false);
        expect(isWildcardResource("arn:aws:s3:::jobs/results/*")).toBe(false);
        expect(isWildcardResource("arn:aws:s3:::jobs/a/b/*")).toBe(false);
        expect(isWildcardResource("arn:aws-us-gov:s3:::jobs/results/*")).toBe(false);
        expect(isWildcardResource("*")).toBe(true);
        expect(isWildcardResource("arn:aws:s3:::jobs/results*")).toBe(true);
        expect(isWildcardResource("arn:aws:s3:::jobs/*")).toBe(true);
        expect(isWildcardResource("arn:aws:s3:::jobs*/results/*")).toBe(true);
        expect(isWildcardResource("arn:aws:s3:::jobs/results/*/logs")).toBe(true);
        expect(isWildcardResource("arn:aws:s3:::jobs/results/**")).toBe(true);
        expect(isWildcardResource("arn:aws:s3:::/results/*")).toBe(true);
        expect(isWildcardResource("prefix-arn:aws:s3:::jobs/results/*")).toBe(true);
        expect(isWildcardResource("arn:aws:sqs:us-east-1:123456789012:jobs/results/*")).toBe(true);
    });

    const wildcard = { Effect: "Allow", Action: "sqs:SendMessage", Resource: "*" };
    it("every policy type is checked, named with the statement's actions and resources", () => {
        const types = ["aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy", "aws:sns/topicPolicy:TopicPolicy", "aws:sqs/queuePolicy:QueuePolicy", "aws:s3/bucketPolicy:BucketPolicy"];
        const rs = types.map((t) => res(t, { policy: JSON.stringify({ Version: "2012-10-17", Statement: [wildcard] }) }, { name: "p" }));
        expect(check("no-iam-wildcard-resources", rs)).toEqual(types.map((t) => `${t} p allows "sqs:SendMessage" on "*"`));
        // A role's trust policy and other types are not resource policies.
        expect(check("no-iam-wildcard-resources", [res("aws:iam/role:Role", { policy: JSON.stringify({ Statement: [wildcard] }), assumeRolePolicy: JSON.stringify({ Statement: [wildcard] }) })])).toEqual([]);
    });

    it("a policy object or string, one statement or many; Deny statements, unknown resources and missing policies pass", () => {
        const p = (policy: unknown) => res("aws:iam/policy:Policy", { policy }, { name: "pol" });
        expect(check("no-iam-wildcard-resources", [p({ Statement: { ...wildcard, Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::b/k", "arn:aws:s3:::b*"] } })])).toEqual([
            'aws:iam/policy:Policy pol allows ["s3:GetObject"] on ["arn:aws:s3:::b/k","arn:aws:s3:::b*"]',
        ]);
        expect(check("no-iam-wildcard-resources", [p({ Statement: [{ ...wildcard, Effect: "Deny" }, { ...wildcard, Resource: "arn:aws:sqs:us-east-1:1:q" }] })])).toEqual([]);
        expect(check("no-iam-wildcard-resources", [p({ Statement: [{ ...wildcard, Resource: [undefined, { "Fn::GetAtt": "x" }] }] })])).toEqual([]);
        expect(check("no-iam-wildcard-resources", [p(undefined), p("{not json"), p({ Version: "2012-10-17" }), p({ Statement: null })])).toEqual([]);
        // A statement with no Action and a wildcard is still a wildcard grant.
        expect(check("no-iam-wildcard-resources", [p({ Statement: [{ Effect: "Allow", Resource: "*" }] })])).toHaveLength(1);
    });
});

describe("encryption and endpoints", () => {
    it("queues: SSE-SQS (exactly true) or a KMS key; other types are not queues", () => {
        expect(check("encrypted-queues", [res("aws:sqs/queue:Queue", { sqsManagedSseEnabled: false, kmsMasterKeyId: "alias/aws/sqs" })])).toEqual([]);
        expect(check("encrypted-queues", [res("aws:sqs/queue:Queue", { sqsManagedSseEnabled: "true", kmsMasterKeyId: "" }, { name: "jobs" })])).toEqual(["queue jobs is not encrypted"]);
        expect(check("encrypted-queues", [res("aws:sns/topic:Topic", {}), res("aws:sqs/queuePolicy:QueuePolicy", {})])).toEqual([]);
    });

    it("a bucket's companion is matched by its bucket input (the bucket's name, ID or logical name), or by its logical name while that is unknown", () => {
        const sseType = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";
        const v1 = res("aws:s3/bucket:Bucket", { bucket: "data-123" }, { name: "data", id: "data-phys" });
        const v2 = res("aws:s3/bucketV2:BucketV2", {}, { name: "logs", id: "logs-456" });
        const sse = (bucket: unknown, name = "other") => res(sseType, bucket === undefined ? {} : { bucket }, { name });
        const msg = (b: string) => `bucket ${b} has no server-side encryption configuration`;
        expect(check("encrypted-buckets", [v1, v2])).toEqual([msg("data"), msg("logs")]);
        expect(check("encrypted-buckets", [v1, v2, sse("data-123"), sse("logs-456")])).toEqual([]);
        expect(check("encrypted-buckets", [v1, v2, sse("data-phys"), sse("logs")])).toEqual([]);
        expect(check("encrypted-buckets", [v1, v2, sse(undefined, "data-sse"), sse(undefined, "logs-sse")])).toEqual([]);
        // A bucket input that names another bucket, or a name that only shares a prefix, does not count.
        expect(check("encrypted-buckets", [v1, v2, sse("other-bucket", "data-sse"), sse(undefined, "logsarchive-sse"), sse(undefined, "logs")])).toEqual([msg("data"), msg("logs")]);
        // Other companion types do not count as encryption.
        expect(check("encrypted-buckets", [v2, res("aws:s3/bucketVersioningV2:BucketVersioningV2", { bucket: "logs-456" })])).toEqual([msg("logs")]);
    });

    it("a public access block counts only with all four settings exactly true", () => {
        const bucket = res("aws:s3/bucket:Bucket", {}, { name: "data" });
        const settings = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];
        const block = (over: Record<string, unknown>) => res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", { bucket: "data", ...Object.fromEntries(settings.map((k) => [k, true])), ...over });
        expect(check("bucket-public-access-block", [bucket, block({})])).toEqual([]);
        for (const k of settings) {
            expect(check("bucket-public-access-block", [bucket, block({ [k]: "true" })]), k).toEqual(["bucket data has no public access block with all four settings true"]);
        }
        expect(check("bucket-public-access-block", [bucket])).toEqual(["bucket data has no public access block with all four settings true"]);
    });

    it("prod EKS: a public endpoint (the default when unset) must not be open to 0.0.0.0/0, which is also the default CIDR", () => {
        const cluster = (props: Record<string, unknown>) => res("eks:index:Cluster", props, { name: "main" });
        expect(check("prod-private-eks-endpoint", [cluster({ publicAccessCidrs: ["10.0.0.0/8", "0.0.0.0/0"] })], "prod")).toEqual(["EKS cluster main has a public endpoint open to 0.0.0.0/0"]);
        expect(check("prod-private-eks-endpoint", [cluster({})], "prod")).toEqual(["EKS cluster main has a public endpoint open to 0.0.0.0/0"]);
        expect(check("prod-private-eks-endpoint", [cluster({ publicAccessCidrs: ["198.51.100.0/24"] })], "prod")).toEqual([]);
        expect(check("prod-private-eks-endpoint", [res("aws:eks/cluster:Cluster", { endpointPublicAccess: true }, { name: "raw" })], "prod")).toEqual([]);
    });
});

describe("evaluate", () => {
    it("runs every rule with the environment of the first resource's stack, and names the rule of each violation", () => {
        const groups = (stack: string) => [
            { ...gpuGroup("g5.4xlarge", 2), urn: urn(stack, "aws:eks/nodeGroup:NodeGroup", "a"), props: { ...gpuGroup("g5.4xlarge", 2).props, tags: { "mlserve:owner": "a", "mlserve:stack": stack } } },
            { ...gpuGroup("g5.4xlarge", 2), urn: urn(stack, "aws:eks/nodeGroup:NodeGroup", "b"), props: { ...gpuGroup("g5.4xlarge", 2).props, tags: { "mlserve:owner": "a", "mlserve:stack": stack } } },
        ];
        expect(evaluate(groups("prod"))).toEqual([]);
        expect(evaluate(groups("dev"))).toEqual([
            { rule: "gpu-node-count", message: "GPU node groups may grow to 4 nodes; nonprod allows 2" },
            { rule: "lifecycle-tags", message: "aws:eks/nodeGroup:NodeGroup r is missing tag(s) mlserve:expires-at" },
            { rule: "lifecycle-tags", message: "aws:eks/nodeGroup:NodeGroup r is missing tag(s) mlserve:expires-at" },
        ]);
    });

    it("resource checks per resource before the rule's stack check; an empty stack is nonprod", () => {
        const probe: Rule = { name: "probe", description: "d", resource: (r, env) => [`${r.name} in ${env}`], stack: (rs, env) => [`${rs.length} in ${env}`] };
        const only: Rule = { name: "stack-only", description: "d", stack: (rs) => [`${rs.length} resources`] };
        expect(evaluate([res("t", {}, { name: "x" }, "prod"), res("t", {}, { name: "y" }, "dev")], [probe, only])).toEqual([
            { rule: "probe", message: "x in prod" },
            { rule: "probe", message: "y in prod" },
            { rule: "probe", message: "2 in prod" },
            { rule: "stack-only", message: "2 resources" },
        ]);
        expect(evaluate([], [probe])).toEqual([{ rule: "probe", message: "0 in nonprod" }]);
        expect(evaluate([])).toEqual([]);
    });
});
