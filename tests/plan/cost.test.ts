import { describe, expect, it } from "vitest";
import { estimateCost } from "../../infra/cost/estimate";
import type { RecordedResource } from "../../infra/plan/render";

function res(type: string, name: string, inputs: Record<string, unknown> = {}): RecordedResource {
    return { urn: `urn:${type}::${name}`, type, name, custom: true, remote: false, dependencies: [], ignoreChanges: [], inputs, state: inputs };
}

describe("estimateCost", () => {
    it("prices node groups at desired size, plus their root volumes", () => {
        const cost = estimateCost(
            [res("aws:eks/nodeGroup:NodeGroup", "gpu", { instanceTypes: ["g5.4xlarge"], scalingConfig: { desiredSize: 2 }, diskSize: 730 })],
            "us-east-1",
        );
        expect(cost.items[0]).toMatchObject({ quantity: 2, unitHourlyUsd: 1.624, hourlyUsd: 2 * 1.624 });
        // 730 GiB at $0.08/GiB-month is $0.08/h per volume.
        expect(cost.items[1]!.hourlyUsd).toBeCloseTo(2 * 0.08, 6);
        expect(cost.hourlyUsd).toBeCloseTo(3.248 + 0.16, 4);
        expect(cost.monthlyUsd).toBeCloseTo(cost.hourlyUsd * 730, 2);
    });

    it("a parked GPU group (desired 0) costs nothing but is still listed", () => {
        const cost = estimateCost([res("aws:eks/nodeGroup:NodeGroup", "gpu", { instanceTypes: ["g5.4xlarge"], scalingConfig: { desiredSize: 0 }, diskSize: 200 })], "us-east-1");
        expect(cost.items.map((i) => i.hourlyUsd)).toEqual([0, 0]);
        expect(cost.items[0]!.quantity).toBe(0);
    });

    it("counts the control plane, NAT gateways, public IPs and KMS keys", () => {
        const cost = estimateCost(
            [
                { ...res("eks:index:Cluster", "c", { name: "c" }), custom: false, remote: true },
                res("aws:ec2/natGateway:NatGateway", "n0"),
                res("aws:ec2/natGateway:NatGateway", "n1"),
                res("aws:ec2/eip:Eip", "e0"),
                res("aws:kms/key:Key", "k"),
                res("aws:ec2/vpc:Vpc", "v"),
            ],
            "us-east-1",
        );
        // us-east-1 list prices: EKS $0.10/h, NAT gateway $0.045/h each, public IPv4 $0.005/h, KMS key $1/month.
        expect(cost.hourlyUsd).toBeCloseTo(0.1 + 2 * 0.045 + 0.005 + 1 / 730, 4);
        expect(cost.items).toHaveLength(5);
    });

    it("an unpriced instance type is listed with no price and a warning, not silently dropped", () => {
        const cost = estimateCost([res("aws:eks/nodeGroup:NodeGroup", "x", { instanceTypes: ["z9.huge"], scalingConfig: { desiredSize: 1 } })], "us-east-1");
        expect(cost.items[0]).toMatchObject({ unitHourlyUsd: null, hourlyUsd: 0 });
        expect(cost.warnings.join()).toMatch(/no price for instance type z9\.huge/);
    });

    it("says when the stack's region is not the price table's", () => {
        expect(estimateCost([], "eu-west-1").warnings.join()).toMatch(/us-east-1 on-demand; eu-west-1/);
    });
});
