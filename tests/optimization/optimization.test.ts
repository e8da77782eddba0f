/**
 * The optimization run in the stack: the Job and its contract with optimize/,
 * the roles scoped to the run's S3 prefix, and the variants it makes served as
 * InferenceServices (and exported as load-test targets).
 */
import * as fs from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../infra/config/load";
import { kubernetesObjects } from "../../infra/plan/report";
import { REPO_ROOT } from "../../infra/plan/render";
import { isWildcardResource } from "../../policy/rules";
import { dependsOn, one, ofType, renderConfig, type Rendering, stackFileConfig } from "../harness/render";
import { CrdValidator, crdDir, validateBuiltin } from "../harness/schemas";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- deep reads of rendered specs
type Json = Record<string, any>;

const dev = stackFileConfig("dev");
/** The dev stack with an optimization run; the fp16 variant is parked so the run gets the GPU. */
const devWith = (optimization: Record<string, unknown>) =>
    renderConfig(
        {
            ...dev,
            "mlserve:variants": [{ name: "fp16" }, { name: "eetq", quantize: "eetq" }],
            "mlserve:optimization": { enabled: true, runId: "r1", ...optimization },
        },
        "dev",
    );

let r: Rendering;
beforeAll(async () => {
    r = await devWith({});
});

const job = () => one(r, "kubernetes:batch/v1:Job", "mlserve-dev-optimize-job").inputs as Json;
const env = () => Object.fromEntries((job().spec.template.spec.containers[0].env as Json[]).map((e) => [e.name, e.value]));
const bucket = () => String(one(r, "aws:s3/bucket:Bucket", "mlserve-dev-artifacts").state.bucket);
const policyOf = (id: string) => JSON.parse(String(one(r, "aws:iam/rolePolicy:RolePolicy", `mlserve-dev-optimize-${id}`).inputs.policy));

// Variants of a run (variantsOf, servableAsMeasured): tests/optimization/spec.unit.test.ts, with the mutation suite.

describe("the Job", () => {
    it("one per run id, not awaited by Pulumi, on the GPU node with one GPU", () => {
        expect(job().metadata).toMatchObject({ name: "optimize-r1", namespace: "optimization", annotations: { "pulumi.com/skipAwait": "true" } });
        const pod = job().spec.template.spec;
        expect(pod).toMatchObject({ restartPolicy: "Never", serviceAccountName: "optimizer", nodeSelector: { "mlserve.io/node-pool": "gpu" } });
        expect(pod.containers[0].resources.limits["nvidia.com/gpu"]).toBe("1");
        expect(pod.tolerations).toEqual([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
    });

    it("passes optimize/'s MLSERVE_OPT_* contract: run id, an output ending with the run id, methods, device", () => {
        expect(env()).toMatchObject({
            MLSERVE_OPT_RUN_ID: "r1",
            MLSERVE_OPT_OUTPUT: `s3://${bucket()}/models/r1/`,
            MLSERVE_OPT_METHODS: "distill,ffn,heads,sparse,int8,distill+ffn+int8",
            MLSERVE_OPT_DEVICE: "cuda",
            MLSERVE_OPT_TARGET_SPARSITY: "0.5",
        });
        // Every option the Job sets is one the optimizer's CLI reads.
        const cli = fs.readFileSync(`${REPO_ROOT}/optimize/mlserve_optimize/cli.py`, "utf8");
        for (const name of Object.keys(env())) {
            const option = name.replace("MLSERVE_OPT_", "").toLowerCase().replace(/_/g, "-");
            expect(cli, `optimize/ has no option --${option}`).toContain(`opt("${option}"`);
        }
    });

    it("a parked stack suspends the run (un-parking resumes it); the served models stay at zero pods", async () => {
        expect(job().spec.suspend).toBe(false);
        const parked = await renderConfig(
            {
                ...dev,
                "mlserve:variants": [{ name: "fp16" }],
                "mlserve:lifecycle": { owner: "ops", parked: true },
                "mlserve:optimization": { enabled: true, runId: "r1" },
            },
            "dev",
        );
        expect((one(parked, "kubernetes:batch/v1:Job", "mlserve-dev-optimize-job").inputs as Json).spec.suspend).toBe(true);
    });

    it("CPU runs stay off the GPU node", async () => {
        const cpu = await devWith({ device: "cpu" });
        const pod = (one(cpu, "kubernetes:batch/v1:Job", "mlserve-dev-optimize-job").inputs as Json).spec.template.spec;
        expect(pod.nodeSelector).toBeUndefined();
        expect(JSON.stringify(pod.containers[0].resources)).not.toContain("nvidia.com/gpu");
    });

    it("its image is built from optimize/ into an immutable repository and referenced by digest, or pinned", async () => {
        expect(String(job().spec.template.spec.containers[0].image)).toMatch(/\.dkr\.ecr\..+@sha256:[0-9a-f]{64}$/);
        const image = ofType(r, "docker-build:index:Image").find((i) => i.name === "mlserve-dev-optimize-image")!;
        expect((image.inputs.context as Json).location).toMatch(/\/optimize$/);
        const pinned = await devWith({ image: "registry.example.com/optimize:1.2.3" });
        expect((one(pinned, "kubernetes:batch/v1:Job", "mlserve-dev-optimize-job").inputs as Json).spec.template.spec.containers[0].image).toBe("registry.example.com/optimize:1.2.3");
    });

    it("may write only its run's prefix, and waits for its identity", () => {
        const policy = policyOf("optimizer");
        expect(policy.Statement).toEqual([{ Effect: "Allow", Action: ["s3:PutObject", "s3:AbortMultipartUpload"], Resource: `arn:aws:s3:::${bucket()}/models/r1/*` }]);
        expect(isWildcardResource(policy.Statement[0].Resource)).toBe(false);
        const association = one(r, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "mlserve-dev-optimize-optimizer");
        expect(association.inputs).toMatchObject({ namespace: "optimization", serviceAccount: "optimizer" });
        expect(dependsOn(r, one(r, "kubernetes:batch/v1:Job", "mlserve-dev-optimize-job"), association)).toBe(true);
    });
});

describe("the optimized models", () => {
    const isvcs = () => ofType(r, "kubernetes:serving.kserve.io/v1beta1:InferenceService").filter((i) => String((i.inputs.metadata as Json).name).startsWith("opt-"));

    it("each servable variant is an InferenceService loading its S3 prefix as an account that may only read the run", () => {
        expect(isvcs().map((i) => (i.inputs.metadata as Json).name).sort()).toEqual(["opt-baseline", "opt-distill", "opt-distill-ffn", "opt-ffn", "opt-sparse"]);
        for (const i of isvcs()) {
            const p = (i.inputs as Json).spec.predictor;
            const variant = (i.inputs.metadata as Json).labels["mlserve.io/optimized-variant"];
            expect(p.model.storageUri).toBe(`s3://${bucket()}/models/r1/${variant}/`);
            expect(p.serviceAccountName).toBe("optimized-models");
            expect(p.minReplicas).toBe(0);
        }
        const reader = policyOf("models");
        expect(reader.Statement.flatMap((s: Json) => s.Action).sort()).toEqual(["s3:GetObject", "s3:ListBucket"]);
        expect(reader.Statement.find((s: Json) => s.Action.includes("s3:ListBucket")).Condition).toEqual({ StringLikeIfExists: { "s3:prefix": ["models/r1/*"] } });
    });

    it("are exported with the other KServe models, so load tests target them", () => {
        const models = (r.outputs.kserve!.value as Json).models;
        expect(Object.keys(models)).toEqual(expect.arrayContaining(["sst2", "opt-baseline", "opt-distill-ffn"]));
        expect(models["opt-distill"]).toMatchObject({ protocol: "v1", path: "/v1/models/opt-distill:predict" });
        expect(r.outputs.optimization!.value).toMatchObject({ runId: "r1", output: `s3://${bucket()}/models/r1/` });
    });

    it("every object the run adds validates (kubernetes-models; InferenceServices strictly against the KServe CRD)", async () => {
        const crds = new CrdValidator(crdDir());
        const added = kubernetesObjects(r.resources).filter((o) => ["Job", "InferenceService", "ServiceAccount", "Namespace"].includes(String(o.kind)));
        expect(added.length).toBeGreaterThan(5);
        const failures: string[] = [];
        for (const obj of added) {
            const error = crds.handles(obj) ? crds.validate(obj) : await validateBuiltin(obj);
            if (error) failures.push(`${String(obj.kind)}: ${error}`);
        }
        expect(failures).toEqual([]);
    });
});

describe("config", () => {
    const problems = (o: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
        renderConfig({ "mlserve:optimization": { enabled: true, ...o }, ...extra }).then(
            () => [],
            (e: unknown) => (e as ConfigError).problems,
        );

    it("a run needs a run id", async () => {
        expect(await problems({})).toEqual([expect.objectContaining({ path: "mlserve:optimization.runId" })]);
    });

    it("serves only variants its methods make and the runtime serves as measured", async () => {
        const ps = await problems({ runId: "r1", methods: ["distill", "heads"], serve: ["ffn", "heads"] }, { "mlserve:variants": [{ name: "a" }] });
        expect(ps.map((p) => [p.path, p.message.slice(0, 40)])).toEqual([
            ["mlserve:optimization.serve[0]", "is not a variant these methods produce ("],
            ["mlserve:optimization.serve[1]", "is not served as measured by KServe's Hu"],
        ]);
    });

    it("a GPU run needs a GPU the running variants leave free", async () => {
        const ps = await problems({ runId: "r1" }, { "mlserve:variants": [{ name: "a", replicas: 1 }], "mlserve:gpuNodes": { maxSize: 1 } });
        expect(ps).toEqual([expect.objectContaining({ path: "mlserve:optimization.device", message: expect.stringMatching(/park a variant .* or set device: cpu/) })]);
        expect(await problems({ runId: "r1", device: "cpu" }, { "mlserve:variants": [{ name: "a", replicas: 1 }], "mlserve:gpuNodes": { maxSize: 1 } })).toEqual([]);
    });

    it("bad methods name the key", async () => {
        const ps = await problems({ runId: "r1", methods: ["distill+prune"] });
        expect(ps[0]).toMatchObject({ path: "mlserve:optimization.methods[0]" });
    });
});
