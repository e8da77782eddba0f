import * as fs from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { kubernetesObjects } from "../../infra/plan/report";
import { renderStackFile, type Rendering } from "../harness/render";
import { CRD_DIR, CrdValidator, validateBuiltin } from "../harness/schemas";

const stacks = ["dev", "prod"];
const renderings: Record<string, Rendering> = {};
// CI always has ../shared beside the checkout; a missing folder there must fail, not skip.
const haveCrds = fs.existsSync(CRD_DIR);
let crds: CrdValidator | undefined;

beforeAll(async () => {
    for (const s of stacks) renderings[s] = await renderStackFile(s);
    if (haveCrds) crds = new CrdValidator(CRD_DIR);
});

describe.each(stacks)("every Kubernetes object of stack %s", (stack) => {
    it("renders at least one object (the validation below is not vacuous)", () => {
        expect(kubernetesObjects(renderings[stack]!.resources).length).toBeGreaterThan(0);
    });

    it("validates against its schema (kubernetes-models, or the upstream CRD, strictly)", async () => {
        const failures: string[] = [];
        for (const obj of kubernetesObjects(renderings[stack]!.resources)) {
            const name = `${String(obj.kind)} ${String((obj.metadata as { name?: string } | undefined)?.name)}`;
            const builtinError = await validateBuiltin(obj);
            if (builtinError === undefined) continue;
            if (crds?.handles(obj)) {
                const crdError = crds.validate(obj);
                if (crdError) failures.push(`${name}: ${crdError}`);
            } else {
                failures.push(`${name}: ${builtinError}`);
            }
        }
        expect(failures).toEqual([]);
    });
});

describe.runIf(haveCrds || process.env.CI)("strict CRD validation", () => {
    it("finds the upstream CRDs (KServe, KEDA, Knative Serving)", () => {
        expect(haveCrds, `no CRD folder at ${CRD_DIR}`).toBe(true);
        const kinds = crds!.kinds;
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
        expect(crds!.validate(scaledObject)).toBeUndefined();
    });

    it("rejects an unknown field and a wrong type, naming the path", () => {
        const bad = { ...scaledObject, spec: { ...scaledObject.spec, minReplicaCount: "zero", scaleToZero: true } };
        const error = crds!.validate(bad);
        expect(error).toMatch(/\/spec\/minReplicaCount must be integer/);
        expect(error).toMatch(/must NOT have additional properties \(scaleToZero\)/);
    });
});
