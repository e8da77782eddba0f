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

describe("waits that match what the controllers need", () => {
    it("KnativeServing is awaited until Ready, and KServe installs only after it", () => {
        const serving = one(dev, "kubernetes:operator.knative.dev/v1beta1:KnativeServing");
        const metadata = serving.inputs.metadata as { annotations?: Record<string, string> };
        expect(metadata.annotations?.["pulumi.com/waitFor"]).toBe("condition=Ready");
        const kserve = dev.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && String(r.inputs.chart).endsWith("/kserve-resources"))!;
        expect(dependsOn(dev, kserve, serving)).toBe(true);
    });

    it("an LLM Deployment is awaited at least as long as its startup probe allows, plus node join and image pull", () => {
        const deployments = dev.resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment" && (r.inputs.metadata as { namespace?: string }).namespace === "llm");
        expect(deployments.length).toBeGreaterThanOrEqual(7);
        for (const d of deployments) {
            const spec = d.inputs.spec as { template: { spec: { containers: Array<{ startupProbe: { periodSeconds: number; failureThreshold: number } }> } } };
            const probe = spec.template.spec.containers[0]!.startupProbe;
            const timeout = Number((d.inputs.metadata as { annotations?: Record<string, string> }).annotations?.["pulumi.com/timeoutSeconds"]);
            // Pulumi's default await is 600 s; the probe alone allows 20 minutes (10 s × 120), plus
            // 15 minutes for a GPU node to join and the image to pull: 2,100 s, as the README says.
            expect(probe, d.name).toMatchObject({ periodSeconds: 10, failureThreshold: 120 });
            expect(timeout, d.name).toBe(2100);
        }
    });
});

describe("destroy order", () => {
    it("the models namespace is deleted before KServe and Knative (Kourier), so ingress finalizers are still cleared", () => {
        const ns = dev.resources.find((r) => r.type === "kubernetes:core/v1:Namespace" && (r.inputs.metadata as { name?: string }).name === "models")!;
        const serving = one(dev, "kubernetes:operator.knative.dev/v1beta1:KnativeServing");
        const kserve = dev.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && String(r.inputs.chart).endsWith("/kserve-resources"))!;
        // Pulumi deletes dependents first: a namespace that depends on them goes before them.
        expect(dependsOn(dev, ns, serving)).toBe(true);
        expect(dependsOn(dev, ns, kserve)).toBe(true);
    });
});
