import { beforeAll, describe, expect, it } from "vitest";
import { kubernetesObjects } from "../../infra/plan/report";
import { renderStackFile, type Rendering } from "../harness/render";
import { CrdValidator, crdDir, validateBuiltin } from "../harness/schemas";

const stacks = ["dev", "prod"];
const renderings: Record<string, Rendering> = {};
// The CRDs come from the reference data (../shared/reference or `npm run reference:fetch`); without them every test here fails with that one message, none is skipped.
let crds: CrdValidator;

beforeAll(async () => {
    crds = new CrdValidator(crdDir());
    for (const s of stacks) renderings[s] = await renderStackFile(s);
});

// Custom resource groups whose schema is an upstream CRD: they must never fall back to the lax check.
const CRD_GROUPS = ["keda.sh", "serving.kserve.io", "serving.knative.dev"];

describe.each(stacks)("every Kubernetes object of stack %s", (stack) => {
    it("renders at least one object (the validation below is not vacuous)", () => {
        expect(kubernetesObjects(renderings[stack]!.resources).length).toBeGreaterThan(0);
    });

    it("validates against its schema (kubernetes-models, or the upstream CRD, strictly)", async () => {
        const failures: string[] = [];
        for (const obj of kubernetesObjects(renderings[stack]!.resources)) {
            const name = `${String(obj.kind)} ${String((obj.metadata as { name?: string } | undefined)?.name)}`;
            // Custom resources with an upstream CRD are checked strictly against it; the rest with kubernetes-models.
            const error = crds.handles(obj) ? crds.validate(obj) : await validateBuiltin(obj);
            if (error) failures.push(`${name}: ${error}`);
        }
        expect(failures).toEqual([]);
    });

    it("custom resources of CRD-backed groups are validated strictly", () => {
        const crs = kubernetesObjects(renderings[stack]!.resources).filter((o) => CRD_GROUPS.includes(String(o.apiVersion).split("/")[0]!));
        expect(crs.length).toBeGreaterThan(0);
        for (const o of crs) expect(crds.handles(o), `${String(o.apiVersion)} ${String(o.kind)}`).toBe(true);
    });
});

describe("strict CRD validation", () => {
    it("finds the upstream CRDs (KServe, KEDA, Knative Serving)", () => {
        const kinds = crds.kinds;
        for (const k of ["serving.kserve.io/v1beta1/InferenceService", "serving.kserve.io/v1alpha1/InferenceGraph", "keda.sh/v1alpha1/ScaledObject", "serving.knative.dev/v1/Service"]) {
            expect(kinds).toContain(k);
        }
    });

    const scaledObject = {
        apiVersion: "keda.sh/v1alpha1",
        kind: "ScaledObject",
        metadata: { name: "worker", namespace: "mlserve" },
        spec: {
            scaleTargetRef: { name: "worker" },
            minReplicaCount: 0,
            maxReplicaCount: 4,
            triggers: [{ type: "aws-sqs-queue", metadata: { queueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/q", awsRegion: "us-east-1", queueLength: "5" } }],
        },
    };

    it("accepts a valid custom resource", () => {
        expect(crds.validate(scaledObject)).toBeUndefined();
    });

    it("rejects an unknown field and a wrong type, naming the path", () => {
        const bad = { ...scaledObject, spec: { ...scaledObject.spec, minReplicaCount: "zero", scaleToZero: true } };
        const error = crds.validate(bad);
        expect(error).toMatch(/\/spec\/minReplicaCount must be integer/);
        expect(error).toMatch(/must NOT have additional properties \(scaleToZero\)/);
    });
});

describe("kubernetes-models validation", () => {
    it("rejects a Deployment without its required selector, and a PodMonitor with a wrong type", async () => {
        expect(await validateBuiltin({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" }, spec: { template: {} } })).toMatch(/selector/);
        expect(
            await validateBuiltin({ apiVersion: "monitoring.coreos.com/v1", kind: "PodMonitor", metadata: { name: "x" }, spec: { selector: {}, podMetricsEndpoints: "all" } }),
        ).toMatch(/podMetricsEndpoints/);
    });

    it("names a kind it has no schema for instead of passing it", async () => {
        expect(await validateBuiltin({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "x" } })).toMatch(/no kubernetes-models schema/);
    });
});
