import { describe, expect, it } from "vitest";
import { evaluate, type PolicyInput } from "../../policy/rules";
import { deployment, urn } from "./inputs";
import { listStacks } from "../../infra/plan/stackFile";
import { REPO_ROOT } from "../../infra/plan/render";
import { renderStackFile, type Rendering } from "../harness/render";

const goodResources = { requests: { cpu: "1", memory: "1Gi" }, limits: { memory: "2Gi" } };

/** Policy inputs from a rendering, with each resource's provider props resolved (as the engine gives them). */
function policyInputs(r: Rendering): PolicyInput[] {
    const byUrn = new Map(r.resources.map((x) => [x.urn, x]));
    return r.resources.map((x) => ({ type: x.type, name: x.name, urn: x.urn, props: x.inputs, id: x.state.id as string | undefined, providerProps: x.provider ? byUrn.get(x.provider)?.inputs : undefined }));
}

// The rules one by one, with hand-made inputs: rules.unit.test.ts (it counts toward the mutation score).

describe("the whole pack over every stack's planned inventory", () => {
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
