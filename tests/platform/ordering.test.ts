/**
 * Creation order across components, over the recorded graph: what the first
 * `pulumi up` needs to exist before each resource is created.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { dependsOn, one, renderStackFile, type Rendering } from "../harness/render";

let dev: Rendering;

beforeAll(async () => {
    dev = await renderStackFile("dev");
});

describe("AWS resources that name the cluster", () => {
    it("every one waits for the EKS cluster (directly or through its dependencies)", () => {
        const eks = one(dev, "eks:index:Cluster");
        const naming = dev.resources.filter((r) => r.type.startsWith("aws:") && r.inputs.clusterName === "mlserve-dev");
        // Node groups, EKS add-ons, Pod Identity associations (KEDA, async, autoscaler), Container Insights.
        expect(naming.length).toBeGreaterThanOrEqual(10);
        const early = naming.filter((r) => !dependsOn(dev, r, eks)).map((r) => `${r.type} ${r.name}`);
        expect(early, "created before the cluster exists").toEqual([]);
    });
});
