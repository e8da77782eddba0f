import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { environmentOf, evaluate, isPinnedImage, RULES, type PolicyInput, type Rule } from "../../policy/rules";
import { listStacks } from "../../infra/plan/stackFile";
import { REPO_ROOT } from "../../infra/plan/render";
import { renderStackFile, type Rendering } from "../harness/render";

const rule = (name: string): Rule => RULES.find((r) => r.name === name)!;
const urn = (stack: string, type: string, name: string) => `urn:pulumi:${stack}::mlserve::${type}::${name}`;
const res = (type: string, props: Record<string, unknown>, extra: Partial<PolicyInput> = {}, stack = "dev"): PolicyInput => ({
    type,
    name: extra.name ?? "r",
    urn: urn(stack, type, extra.name ?? "r"),
    props,
    ...extra,
});
const check = (name: string, rs: PolicyInput[], env: "prod" | "nonprod" = "nonprod") => {
    const r = rule(name);
    return [...(r.resource ? rs.flatMap((x) => r.resource!(x, env)) : []), ...(r.stack ? r.stack(rs, env) : [])];
};

const gpuGroup = (instance: string, maxSize = 1) => res("aws:eks/nodeGroup:NodeGroup", { amiType: "AL2023_x86_64_NVIDIA", instanceTypes: [instance], scalingConfig: { maxSize } });
const deployment = (container: Record<string, unknown>) => res("kubernetes:apps/v1:Deployment", { spec: { template: { spec: { containers: [{ name: "c", ...container }] } } } });
const goodResources = { requests: { cpu: "1", memory: "1Gi" }, limits: { memory: "2Gi" } };

/** Policy inputs from a rendering, with each resource's provider props resolved (as the engine gives them). */
function policyInputs(r: Rendering): PolicyInput[] {
    const byUrn = new Map(r.resources.map((x) => [x.urn, x]));
    return r.resources.map((x) => ({ type: x.type, name: x.name, urn: x.urn, props: x.inputs, id: x.state.id as string | undefined, providerProps: x.provider ? byUrn.get(x.provider)?.inputs : undefined }));
}

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

describe("the whole pack over every stack's planned inventory", () => {
    it("stack environments come from the URN", () => {
        expect(environmentOf(urn("prod", "t", "n"))).toBe("prod");
        expect(environmentOf(urn("dev", "t", "n"))).toBe("nonprod");
    });

    it.each(listStacks(REPO_ROOT))("stack %s passes every rule", async (stack) => {
        const r = await renderStackFile(stack);
        const inputs = policyInputs(r);
        expect(inputs.length).toBeGreaterThan(100);
        expect(evaluate(inputs)).toEqual([]);
    });

    it("the pack does catch a violating stack (a plan with an unpinned image and a public prod endpoint)", async () => {
        const r = await renderStackFile("prod");
        const inputs = policyInputs(r).map((x) =>
            x.type === "eks:index:Cluster" ? { ...x, props: { ...x.props, endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/0"] } } : x,
        );
        inputs.push({ ...deployment({ image: "nginx", resources: goodResources }), urn: urn("prod", "kubernetes:apps/v1:Deployment", "bad") });
        expect(evaluate(inputs).map((v) => v.rule).sort()).toEqual(["pinned-images", "prod-private-eks-endpoint"]);
    });
});
