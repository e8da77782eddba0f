import { describe, expect, it } from "vitest";
import { natAzFor, natGatewayCount, planSubnets } from "../../components/platform/network/subnets";
import { pickAvailabilityZones } from "../../components/platform/network/zones";

function range(cidr: string): [number, number] {
    const [ip, prefix] = cidr.split("/") as [string, string];
    const start = ip.split(".").reduce((a, o) => a * 256 + Number(o), 0);
    return [start, start + 2 ** (32 - Number(prefix)) - 1];
}

describe("planSubnets", () => {
    it("a /16 over 3 AZs gives /19 private and /22 public subnets", () => {
        const plan = planSubnets("10.0.0.0/16", 3, "c");
        expect(plan.filter((s) => s.tier === "private").map((s) => s.cidr)).toEqual(["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"]);
        expect(plan.filter((s) => s.tier === "public").map((s) => s.cidr)).toEqual(["10.0.224.0/22", "10.0.228.0/22", "10.0.232.0/22"]);
    });

    it.each([
        ["10.0.0.0/16", 4],
        ["172.20.0.0/18", 2],
        ["192.168.0.0/20", 3],
    ])("subnets of %s over %i AZs lie inside the VPC and never overlap", (vpc, azs) => {
        const [lo, hi] = range(vpc);
        const ranges = planSubnets(vpc, azs, "c").map((s) => range(s.cidr));
        for (const [a, b] of ranges) {
            expect(a).toBeGreaterThanOrEqual(lo);
            expect(b).toBeLessThanOrEqual(hi);
        }
        const sorted = [...ranges].sort((x, y) => x[0] - y[0]);
        for (let i = 1; i < sorted.length; i++) expect(sorted[i]![0]).toBeGreaterThan(sorted[i - 1]![1]);
    });

    it("tags subnets for load balancer discovery", () => {
        const plan = planSubnets("10.0.0.0/16", 2, "mlserve-dev");
        for (const s of plan) {
            expect(s.tags["kubernetes.io/cluster/mlserve-dev"]).toBe("shared");
            expect(s.tags[s.tier === "public" ? "kubernetes.io/role/elb" : "kubernetes.io/role/internal-elb"]).toBe("1");
        }
    });

    it("refuses a VPC too small to split", () => {
        expect(() => planSubnets("10.0.0.0/24", 2, "c")).toThrow(/too small/);
    });
});

describe("NAT placement", () => {
    it("single routes every AZ through AZ 0; perAz keeps traffic in its AZ", () => {
        expect([0, 1, 2].map((i) => natAzFor(i, "single"))).toEqual([0, 0, 0]);
        expect([0, 1, 2].map((i) => natAzFor(i, "perAz"))).toEqual([0, 1, 2]);
        expect(natGatewayCount(3, "single")).toBe(1);
        expect(natGatewayCount(3, "perAz")).toBe(3);
    });
});

describe("pickAvailabilityZones", () => {
    const offered = [
        { instanceType: "g5.4xlarge", location: "us-east-1a" },
        { instanceType: "g5.4xlarge", location: "us-east-1c" },
        { instanceType: "g5.4xlarge", location: "us-east-1d" },
        { instanceType: "m6i.large", location: "us-east-1a" },
        { instanceType: "m6i.large", location: "us-east-1b" },
        { instanceType: "m6i.large", location: "us-east-1c" },
        { instanceType: "m6i.large", location: "us-east-1d" },
    ];
    const zones = ["us-east-1d", "us-east-1a", "us-east-1b", "us-east-1c"];

    it("keeps only AZs that offer every node type, in name order", () => {
        expect(pickAvailabilityZones(zones, offered, ["g5.4xlarge", "m6i.large"], 2)).toEqual(["us-east-1a", "us-east-1c"]);
    });

    it("explains what to change when too few AZs qualify", () => {
        expect(() => pickAvailabilityZones(zones, offered, ["g5.4xlarge", "m6i.large"], 4)).toThrow(
            /only 3 availability zone\(s\) \[us-east-1a, us-east-1c, us-east-1d\] offer all of g5\.4xlarge, m6i\.large.*availabilityZones is 4/,
        );
    });
});
