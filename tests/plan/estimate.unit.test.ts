/**
 * The offline cost estimate (infra/cost/estimate.ts) over hand-made recorded
 * resources. Expected prices are AWS us-east-1 on-demand list prices, and every
 * sum and rounding below is worked out by hand in the comments.
 */
import { describe, expect, it } from "vitest";
import { estimateCost } from "../../infra/cost/estimate";
import type { RecordedResource } from "../../infra/plan/render";

function res(type: string, name: string, inputs: Record<string, unknown> = {}): RecordedResource {
    return { urn: `urn:pulumi:dev::mlserve::${type}::${name}`, type, name, custom: true, remote: false, dependencies: [], ignoreChanges: [], inputs, state: inputs };
}
const nodeGroup = (name: string, inputs: Record<string, unknown>) => res("aws:eks/nodeGroup:NodeGroup", name, inputs);

describe("estimateCost", () => {
    it("a small stack, item by item: control plane, nodes and their root volumes, NAT, public IP, KMS key; other types are free", () => {
        const cost = estimateCost(
            [
                { ...res("eks:index:Cluster", "cluster", { name: "mlserve-dev" }), custom: false, remote: true },
                nodeGroup("system", { instanceTypes: ["m6i.xlarge", "m5.xlarge"], scalingConfig: { minSize: 1, desiredSize: 2, maxSize: 3 }, diskSize: 50 }),
                res("aws:ec2/natGateway:NatGateway", "nat-a"),
                res("aws:ec2/eip:Eip", "eip-a"),
                res("aws:kms/key:Key", "secrets"),
                res("aws:ec2/vpc:Vpc", "vpc"),
                res("aws:sqs/queue:Queue", "jobs"),
            ],
            "us-east-1",
        );
        expect(cost).toEqual({
            // 0.1 + 0.384 + 0.011 + 0.045 + 0.005 + 0.0014 = 0.5464 $/h; × 730 h = 398.872 → 398.87 $/month.
            hourlyUsd: 0.5464,
            monthlyUsd: 398.87,
            pricesAsOf: "2026-11-25",
            priceRegion: "us-east-1",
            region: "us-east-1",
            items: [
                { name: "EKS control plane (mlserve-dev)", quantity: 1, unitHourlyUsd: 0.1, hourlyUsd: 0.1 },
                // The first instance type is the one priced: m6i.xlarge $0.192/h.
                { name: "EC2 m6i.xlarge (node group system, desired 2)", quantity: 2, unitHourlyUsd: 0.192, hourlyUsd: 0.384 },
                // 50 GiB × $0.08/GiB-month / 730 h = 0.00547945… → 0.005479 $/h each; × 2 = 0.010958 → 0.011.
                { name: "EBS gp3 root volumes 50 GiB (node group system)", quantity: 2, unitHourlyUsd: 0.005479, hourlyUsd: 0.011 },
                { name: "NAT gateway (nat-a)", quantity: 1, unitHourlyUsd: 0.045, hourlyUsd: 0.045 },
                { name: "Public IPv4 address (eip-a)", quantity: 1, unitHourlyUsd: 0.005, hourlyUsd: 0.005 },
                // $1/month / 730 h = 0.00136986… → 0.00137 $/h, shown as 0.0014.
                { name: "KMS key (secrets)", quantity: 1, unitHourlyUsd: 0.00137, hourlyUsd: 0.0014 },
            ],
            notEstimated: expect.arrayContaining(["data transfer out and cross-AZ traffic"]),
            warnings: [],
        });
    });

    it("a GPU node group at its desired size, root volumes at EKS's default 20 GiB when no disk size is set", () => {
        const cost = estimateCost([nodeGroup("gpu", { instanceTypes: ["g5.4xlarge"], scalingConfig: { minSize: 0, desiredSize: 3, maxSize: 4 } })], "us-east-1");
        expect(cost.items).toEqual([
            // g5.4xlarge $1.624/h × 3 = 4.872.
            { name: "EC2 g5.4xlarge (node group gpu, desired 3)", quantity: 3, unitHourlyUsd: 1.624, hourlyUsd: 4.872 },
            // 20 GiB × 0.08 / 730 = 0.00219178… → 0.002192; × 3 = 0.006576 → 0.0066.
            { name: "EBS gp3 root volumes 20 GiB (node group gpu)", quantity: 3, unitHourlyUsd: 0.002192, hourlyUsd: 0.0066 },
        ]);
        // 4.872 + 0.0066 = 4.8786 $/h; × 730 = 3561.378 → 3561.38.
        expect([cost.hourlyUsd, cost.monthlyUsd]).toEqual([4.8786, 3561.38]);
    });

    it("a parked GPU group (desired 0) is listed at no cost", () => {
        const cost = estimateCost([nodeGroup("gpu", { instanceTypes: ["g5.4xlarge"], scalingConfig: { minSize: 0, desiredSize: 0, maxSize: 4 }, diskSize: 200 })], "us-east-1");
        expect(cost.items).toEqual([
            { name: "EC2 g5.4xlarge (node group gpu, desired 0)", quantity: 0, unitHourlyUsd: 1.624, hourlyUsd: 0 },
            // 200 × 0.08 / 730 = 0.02191780… → 0.021918.
            { name: "EBS gp3 root volumes 200 GiB (node group gpu)", quantity: 0, unitHourlyUsd: 0.021918, hourlyUsd: 0 },
        ]);
        expect([cost.hourlyUsd, cost.monthlyUsd]).toEqual([0, 0]);
    });

    it("sizes that are not finite numbers count as 0 nodes and 20 GiB; a negative size is never a credit", () => {
        const names = (inputs: Record<string, unknown>) => estimateCost([nodeGroup("g", { instanceTypes: ["t3.medium"], ...inputs })], "us-east-1").items.map((i) => [i.name, i.hourlyUsd]);
        expect(names({ scalingConfig: { desiredSize: "2" }, diskSize: "100" })).toEqual([
            ["EC2 t3.medium (node group g, desired 0)", 0],
            ["EBS gp3 root volumes 20 GiB (node group g)", 0],
        ]);
        expect(names({ scalingConfig: { desiredSize: Number.POSITIVE_INFINITY }, diskSize: Number.NaN })).toEqual([
            ["EC2 t3.medium (node group g, desired 0)", 0],
            ["EBS gp3 root volumes 20 GiB (node group g)", 0],
        ]);
        expect(names({})).toEqual([
            ["EC2 t3.medium (node group g, desired 0)", 0],
            ["EBS gp3 root volumes 20 GiB (node group g)", 0],
        ]);
        // t3.medium $0.0416/h.
        expect(names({ scalingConfig: { desiredSize: 1 }, diskSize: 20 })[0]).toEqual(["EC2 t3.medium (node group g, desired 1)", 0.0416]);
        expect(names({ scalingConfig: { desiredSize: -1 } })).toEqual([
            ["EC2 t3.medium (node group g, desired -1)", 0],
            ["EBS gp3 root volumes 20 GiB (node group g)", 0],
        ]);
    });

    it("an unpriced or missing instance type is listed with no price and a warning naming the type, the table and the group", () => {
        const cost = estimateCost([nodeGroup("x", { instanceTypes: ["z9.huge"], scalingConfig: { desiredSize: 1 }, diskSize: 730 }), nodeGroup("y", { scalingConfig: { desiredSize: 2 }, diskSize: 730 })], "us-east-1");
        expect(cost.items).toEqual([
            { name: "EC2 z9.huge (node group x, desired 1)", quantity: 1, unitHourlyUsd: null, hourlyUsd: 0 },
            // 730 GiB × 0.08 / 730 = 0.08 $/h per volume.
            { name: "EBS gp3 root volumes 730 GiB (node group x)", quantity: 1, unitHourlyUsd: 0.08, hourlyUsd: 0.08 },
            { name: "EC2 unknown (node group y, desired 2)", quantity: 2, unitHourlyUsd: null, hourlyUsd: 0 },
            { name: "EBS gp3 root volumes 730 GiB (node group y)", quantity: 2, unitHourlyUsd: 0.08, hourlyUsd: 0.16 },
        ]);
        expect(cost.warnings).toEqual([
            "no price for instance type z9.huge in infra/cost/prices.ts; node group x is not summed",
            "no price for instance type unknown in infra/cost/prices.ts; node group y is not summed",
        ]);
        // Only the volumes are summed: 0.24 $/h, 175.2 $/month.
        expect([cost.hourlyUsd, cost.monthlyUsd]).toEqual([0.24, 175.2]);
    });

    it("the control plane falls back to the resource name; sums are rounded to 4 decimals per hour and 2 per month", () => {
        const cost = estimateCost([res("eks:index:Cluster", "c"), ...["k1", "k2", "k3"].map((k) => res("aws:kms/key:Key", k))], "us-east-1");
        expect(cost.items[0]).toEqual({ name: "EKS control plane (c)", quantity: 1, unitHourlyUsd: 0.1, hourlyUsd: 0.1 });
        // 0.1 + 3 × 0.0014 = 0.1042 $/h; × 730 = 76.066 → 76.07.
        expect([cost.hourlyUsd, cost.monthlyUsd]).toEqual([0.1042, 76.07]);
    });

    it("warns when the stack's region is not the price table's", () => {
        const cost = estimateCost([], "eu-west-1");
        expect(cost.warnings).toEqual(["prices are us-east-1 on-demand; eu-west-1 usually differs by a few percent"]);
        expect(cost).toMatchObject({ hourlyUsd: 0, monthlyUsd: 0, items: [], region: "eu-west-1", priceRegion: "us-east-1" });
    });
});
