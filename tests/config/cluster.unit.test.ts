/** infra/config/cluster.ts: `mlserve:cluster`, `mlserve:systemNodes`, `mlserve:gpuNodes` and their rules. */
import { describe, expect, it } from "vitest";
import { clusterAreaRules, clusterSchema, gpuNodesSchema, systemNodesSchema } from "../../infra/config/cluster";
import { expectBounds, problemsOf } from "./bounds";

const run = (raw: unknown) => clusterAreaRules.flatMap((c) => c(raw));
const CIDR = "must be an IPv4 CIDR such as 10.0.0.0/16 (octets <= 255, prefix <= 32)";

describe("mlserve:cluster", () => {
    it("defaults: Kubernetes 1.33 over 2 AZs in 10.0.0.0/16, one NAT, both endpoints, three log types kept 30 days", () => {
        expect(clusterSchema.parse({})).toEqual({
            kubernetesVersion: "1.33",
            availabilityZones: 2,
            vpcCidr: "10.0.0.0/16",
            natGateways: "single",
            endpointPublicAccess: true,
            endpointPrivateAccess: true,
            publicAccessCidrs: ["0.0.0.0/0"],
            logTypes: ["api", "audit", "authenticator"],
            logRetentionDays: 30,
            kmsDeletionWindowDays: 7,
            deletionProtection: false,
            adminRoleArns: [],
        });
    });

    it("bounds: 2-4 AZs (EKS needs 2), KMS deletion window 7-30 days", () => {
        expect(problemsOf(clusterSchema, { availabilityZones: 1 })).toEqual([{ path: "availabilityZones", message: "EKS needs subnets in at least 2 AZs" }]);
        expect(problemsOf(clusterSchema, { availabilityZones: 4 })).toEqual([]);
        expect(problemsOf(clusterSchema, { availabilityZones: 5 })).toEqual([{ path: "availabilityZones", message: "Too big: expected number to be <=4" }]);
        expectBounds(clusterSchema, "kmsDeletionWindowDays", (n) => ({ kmsDeletionWindowDays: n }), 7, 30);
    });

    it("CIDRs: four octets up to 255 and a prefix up to 32; the VPC's prefix /16 to /20", () => {
        expect(problemsOf(clusterSchema, { vpcCidr: "10.1.0.0/20", publicAccessCidrs: ["203.0.113.7/32", "255.255.255.255/0", "1.2.3.4/9"] })).toEqual([]);
        const bad = ["256.0.0.0/8", "1.256.0.0/8", "1.1.256.0/8", "1.1.1.256/8", "1.2.3.4/33", "1.2.3.4", "1.2.3/8", "x1.2.3.4/8", "1.2.3.4/8x", "1.2.3.4/100", "1234.1.1.1/8", "a.b.c.d/8"];
        expect(problemsOf(clusterSchema, { publicAccessCidrs: bad })).toEqual(bad.map((_, i) => ({ path: `publicAccessCidrs.${i}`, message: CIDR })));
        expect(problemsOf(clusterSchema, { publicAccessCidrs: [] })).toEqual([{ path: "publicAccessCidrs", message: "Too small: expected array to have >=1 items" }]);
        expect(problemsOf(clusterSchema, { vpcCidr: "10.0.0.0/16" })).toEqual([]);
        for (const vpcCidr of ["10.0.0.0/15", "10.0.0.0/21"]) expect(problemsOf(clusterSchema, { vpcCidr })).toEqual([{ path: "vpcCidr", message: "VPC prefix must be between /16 and /20" }]);
    });

    it("log retention is one of CloudWatch's values", () => {
        const allowed = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
        for (const d of allowed) expect(problemsOf(clusterSchema, { logRetentionDays: d }), String(d)).toEqual([]);
        const msg = "must be one of CloudWatch's retention values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653";
        for (const d of [0, 2, 10, 366, 730, 3652, 3654]) expect(problemsOf(clusterSchema, { logRetentionDays: d })).toEqual([{ path: "logRetentionDays", message: msg }]);
    });

    it("log types and admin role ARNs", () => {
        expect(problemsOf(clusterSchema, { logTypes: ["api", "audit", "authenticator", "controllerManager", "scheduler"] })).toEqual([]);
        expect(problemsOf(clusterSchema, { logTypes: ["kubelet"] }).map((p) => p.path)).toEqual(["logTypes.0"]);
        const good = ["arn:aws:iam::123456789012:role/platform-admin", "arn:aws-us-gov:iam::123456789012:role/path/to/Admin+x=y,z.w@v-u_t"];
        expect(problemsOf(clusterSchema, { adminRoleArns: good })).toEqual([]);
        const bad = ["arn:aws:iam::12345678901:role/a", "arn:aws:iam::123456789012:user/a", "arn:aws:iam::123456789012:role/", "xarn:aws:iam::123456789012:role/a", "arn:aws:iam::123456789012:role/a b"];
        expect(problemsOf(clusterSchema, { adminRoleArns: bad })).toEqual(
            bad.map((_, i) => ({ path: `adminRoleArns.${i}`, message: "must be an IAM role ARN such as arn:aws:iam::123456789012:role/platform-admin" })),
        );
    });

    it("the API must be reachable through at least one endpoint", () => {
        expect(run({ cluster: { endpointPublicAccess: false, endpointPrivateAccess: false } })).toEqual([
            { path: ["cluster", "endpointPrivateAccess"], input: false, message: "the API must be reachable somehow: enable endpointPublicAccess or endpointPrivateAccess" },
        ]);
        expect(run({ cluster: { endpointPublicAccess: false } })).toEqual([]);
        expect(run({ cluster: { endpointPrivateAccess: false } })).toEqual([]);
    });
});

describe("node groups", () => {
    it("defaults: system 1-2-3 m6i.xlarge with 50 GiB, GPU 0-1-2 g5.4xlarge with 200 GiB, scaled down after 10m idle", () => {
        expect(systemNodesSchema.parse({})).toEqual({ instanceType: "m6i.xlarge", capacityType: "ON_DEMAND", minSize: 1, desiredSize: 2, maxSize: 3, diskSizeGiB: 50, labels: {} });
        expect(gpuNodesSchema.parse({})).toEqual({
            instanceType: "g5.4xlarge",
            capacityType: "ON_DEMAND",
            minSize: 0,
            desiredSize: 1,
            maxSize: 2,
            diskSizeGiB: 200,
            labels: {},
            scaleDownIdleAfter: "10m",
        });
        expect(run({})).toEqual([]);
    });

    it("bounds: sizes from 0, maxSize 1-100, disks 20-16384 GiB", () => {
        for (const s of [systemNodesSchema, gpuNodesSchema]) {
            expectBounds(s, "minSize", (n) => ({ minSize: n }), 0, undefined);
            expectBounds(s, "desiredSize", (n) => ({ desiredSize: n }), 0, undefined);
            expectBounds(s, "maxSize", (n) => ({ maxSize: n }), 1, 100);
            expectBounds(s, "diskSizeGiB", (n) => ({ diskSizeGiB: n }), 20, 16384);
        }
    });

    it("instance types look like m6i.large; labels follow Kubernetes' rules; SPOT is allowed", () => {
        const msg = "must be an EC2 instance type such as m6i.large";
        expect(problemsOf(systemNodesSchema, { instanceType: "c7i-flex.large", capacityType: "SPOT", labels: { "mlserve.io/pool": "system" } })).toEqual([]);
        for (const instanceType of ["M6i.large", "m6i", "6i.large", "m6i.large.x", "m6i.", "xm6i.large!"]) expect(problemsOf(systemNodesSchema, { instanceType })).toEqual([{ path: "instanceType", message: msg }]);
        expect(problemsOf(systemNodesSchema, { labels: { "kubernetes.io/role": "x" } }).map((p) => p.path)).toEqual(["labels.kubernetes.io/role"]);
        expect(problemsOf(systemNodesSchema, { labels: { team: "a b" } }).map((p) => p.path)).toEqual(["labels.team"]);
    });

    it("scaleDownIdleAfter is 1m to 99m or 1h to 9h", () => {
        for (const v of ["1m", "10m", "99m", "1h", "9h"]) expect(problemsOf(gpuNodesSchema, { scaleDownIdleAfter: v })).toEqual([]);
        const msg = "must be minutes or hours such as 10m, 30m or 1h (1m to 9h)";
        for (const v of ["0m", "100m", "0h", "10h", "5s", "05m", "x5m", "5mx", "m"]) expect(problemsOf(gpuNodesSchema, { scaleDownIdleAfter: v })).toEqual([{ path: "scaleDownIdleAfter", message: msg }]);
    });

    it("min <= desired <= max, on the field that breaks it, for both groups", () => {
        expect(run({ gpuNodes: { minSize: 2, desiredSize: 2, maxSize: 2 }, systemNodes: { minSize: 3, desiredSize: 3, maxSize: 3 } })).toEqual([]);
        expect(run({ gpuNodes: { minSize: 3, desiredSize: 1, maxSize: 2 } })).toEqual([
            { path: ["gpuNodes", "minSize"], input: 3, message: "must be <= maxSize (2)" },
            { path: ["gpuNodes", "desiredSize"], input: 1, message: "must be >= minSize (3)" },
        ]);
        expect(run({ systemNodes: { desiredSize: 4 } })).toEqual([{ path: ["systemNodes", "desiredSize"], input: 4, message: "must be <= maxSize (3)" }]);
        expect(run({ systemNodes: { minSize: 2, desiredSize: 1 } })).toEqual([{ path: ["systemNodes", "desiredSize"], input: 1, message: "must be >= minSize (2)" }]);
    });

    it("system nodes: at least one, and no accelerated instance types", () => {
        expect(run({ systemNodes: { minSize: 0, desiredSize: 0 } })).toEqual([
            { path: ["systemNodes", "minSize"], input: 0, message: "must be >= 1: CoreDNS and the platform add-ons need a CPU node" },
        ]);
        expect(run({ systemNodes: { minSize: 1, desiredSize: 1 } })).toEqual([]);
        expect(run({ systemNodes: { instanceType: "g5.xlarge" } })).toEqual([
            { path: ["systemNodes", "instanceType"], input: "g5.xlarge", message: "is an accelerated instance type; system nodes run CPU add-ons, put GPU capacity in mlserve:gpuNodes" },
        ]);
    });

    it("GPU nodes must be a known GPU instance type, listing them", () => {
        expect(run({ gpuNodes: { instanceType: "m6i.large" } })).toEqual([
            {
                path: ["gpuNodes", "instanceType"],
                input: "m6i.large",
                message:
                    "is not a known GPU instance type; allowed: g4dn.xlarge, g4dn.2xlarge, g4dn.4xlarge, g5.xlarge, g5.2xlarge, g5.4xlarge, g5.8xlarge, g5.12xlarge, g5.48xlarge, g6.xlarge, g6.2xlarge, g6.4xlarge, g6.12xlarge, g6e.xlarge, g6e.2xlarge, g6e.12xlarge, p4d.24xlarge, p5.48xlarge",
            },
        ]);
        expect(run({ gpuNodes: { instanceType: "p5.48xlarge" } })).toEqual([]);
    });
});
