/** infra/config/benchmark.ts: `mlserve:benchmark` and its rules. */
import { describe, expect, it } from "vitest";
import { benchmarkRules, benchmarkSchema } from "../../infra/config/benchmark";
import { expectBounds, problemsOf } from "./bounds";

const run = (raw: unknown) => benchmarkRules.flatMap((c) => c(raw));
const on = { enabled: true, runId: "run-2026-12-01" };

describe("mlserve:benchmark", () => {
    it("defaults: off, a seed campaign of 100 users on the text-to-SQL set, the sweep 1-50 req/s", () => {
        expect(benchmarkSchema.parse({})).toEqual({
            enabled: false,
            profiles: ["seed"],
            campaign: true,
            dataset: "hf:gretelai/synthetic_text_to_sql",
            users: 100,
            spawnRate: 10,
            rate: 10,
            rates: [1, 2, 5, 10, 20, 50],
            maxNewTokens: 128,
            locustProcesses: 0,
            cpuRequest: "2",
            memoryRequest: "4Gi",
            memoryLimit: "8Gi",
        });
    });

    it("bounds of every number", () => {
        const s = benchmarkSchema;
        expectBounds(s, "durationSeconds", (n) => ({ durationSeconds: n }), 5, 7200);
        expectBounds(s, "users", (n) => ({ users: n }), 1, 10_000);
        expectBounds(s, "spawnRate", (n) => ({ spawnRate: n }), 1, 1000);
        expectBounds(s, "maxNewTokens", (n) => ({ maxNewTokens: n }), 1, 8192);
        expectBounds(s, "locustProcesses", (n) => ({ locustProcesses: n }), 0, 64);
        expect(problemsOf(s, { rate: 10_000, rates: [0.5, 10_000] })).toEqual([]);
        expect(problemsOf(s, { rate: 0 })).toEqual([{ path: "rate", message: "Too small: expected number to be >0" }]);
        expect(problemsOf(s, { rate: 10_001 })).toEqual([{ path: "rate", message: "Too big: expected number to be <=10000" }]);
        expect(problemsOf(s, { rates: [1, 0] })).toEqual([{ path: "rates.1", message: "Too small: expected number to be >0" }]);
        expect(problemsOf(s, { rates: [10_001] })).toEqual([{ path: "rates.0", message: "Too big: expected number to be <=10000" }]);
        expect(problemsOf(s, { rates: [] })).toEqual([{ path: "rates", message: "Too small: expected array to have >=1 items" }]);
        expect(problemsOf(s, { profiles: [] })).toEqual([{ path: "profiles", message: "Too small: expected array to have >=1 items" }]);
        expect(problemsOf(s, { profiles: ["seed", "rate", "sweep"] })).toEqual([]);
    });

    it("runId is a DNS label of up to 24 characters; dataset and variant names are non-empty", () => {
        expect(problemsOf(benchmarkSchema, { runId: "a".repeat(24) })).toEqual([]);
        expect(problemsOf(benchmarkSchema, { runId: "a".repeat(25) })).toEqual([{ path: "runId", message: "must be a DNS label of 1-24 characters starting with a letter" }]);
        expect(problemsOf(benchmarkSchema, { dataset: "" })).toEqual([{ path: "dataset", message: "Too small: expected string to have >=1 characters" }]);
        expect(problemsOf(benchmarkSchema, { variants: [""] })).toEqual([{ path: "variants.0", message: "Too small: expected string to have >=1 characters" }]);
        expect(problemsOf(benchmarkSchema, { image: "r/loadtest" }).map((p) => p.path)).toEqual(["image"]);
    });

    it("targets are variant:, kserve: or graph: names, modelApi or asyncGateway", () => {
        const good = ["variant:fp16", "kserve:sst2", "graph:g-1", "modelApi", "asyncGateway"];
        expect(problemsOf(benchmarkSchema, { targets: good })).toEqual([]);
        const bad = ["variant:", "x:fp16", "modelApix", "xmodelApi", "variant:FP16", "asyncGateway:x", "kserve:a_b", " graph:g"];
        expect(problemsOf(benchmarkSchema, { targets: bad })).toEqual(
            bad.map((_, i) => ({ path: `targets.${i}`, message: "must be variant:<name>, kserve:<model>, graph:<name>, modelApi or asyncGateway" })),
        );
    });
});

describe("benchmark rules", () => {
    it("nothing is checked while the benchmark is off", () => {
        expect(run({ benchmark: { variants: ["nope"], targets: ["modelApi"] }, variants: [] })).toEqual([]);
        expect(run({})).toEqual([]);
    });

    it("an enabled benchmark needs a run id", () => {
        expect(run({ benchmark: { enabled: true } })).toEqual([
            { path: ["benchmark", "runId"], message: "is required when a benchmark is enabled: a DNS label starting with a letter, such as run-2026-12-01 (a new id starts a new run)" },
        ]);
        expect(run({ benchmark: on })).toEqual([]);
    });

    it("each variant it walks must exist, listing the variants", () => {
        expect(run({ benchmark: { ...on, variants: ["a", "zz", "b"] }, variants: [{ name: "a" }, { name: "b" }] })).toEqual([
            { path: ["benchmark", "variants", 1], input: "zz", message: 'no variant named "zz" in mlserve:variants (variants: a, b)' },
        ]);
        expect(run({ benchmark: { ...on, campaign: false, variants: ["zz"] }, variants: [] })).toEqual([
            { path: ["benchmark", "variants", 0], input: "zz", message: 'no variant named "zz" in mlserve:variants (variants: none)' },
        ]);
    });

    it("a campaign needs variants to walk", () => {
        expect(run({ benchmark: on, variants: [] })).toEqual([{ path: ["benchmark", "campaign"], input: true, message: "a campaign walks the LLM variants, and mlserve:variants is empty" }]);
        expect(run({ benchmark: { ...on, campaign: false }, variants: [] })).toEqual([]);
    });

    it("a campaign refuses a walked variant KEDA holds above zero", () => {
        const variants = [{ name: "a" }, { name: "b", replicas: 1, autoscaling: { enabled: true } }, { name: "c", replicas: 0, autoscaling: { enabled: true } }, { name: "d", replicas: 2 }];
        expect(run({ benchmark: on, variants })).toEqual([
            {
                path: ["variants", 1, "autoscaling", "enabled"],
                input: true,
                message:
                    "the benchmark campaign walks variant b, but KEDA keeps it at 1 replica(s) and would bring it back while another variant holds the GPU: set its replicas to 0, or leave it out of mlserve:benchmark.variants",
            },
        ]);
        // Left out of the walk, or no campaign: fine.
        expect(run({ benchmark: { ...on, variants: ["a", "c"] }, variants })).toEqual([]);
        expect(run({ benchmark: { ...on, campaign: false }, variants })).toEqual([]);
    });

    it("targets apply to a single run, not a campaign", () => {
        expect(run({ benchmark: { ...on, targets: ["modelApi"] } })).toEqual([
            { path: ["benchmark", "targets"], message: "a campaign measures the variants one at a time; targets apply to a single run (campaign: false)" },
        ]);
        expect(run({ benchmark: { ...on, campaign: false, targets: ["modelApi"] } })).toEqual([]);
    });

    it("with no mlserve:variants, the default variants are walked (fp16 runs, none autoscaled)", () => {
        expect(run({ benchmark: { ...on, variants: ["fp16", "eetq", "fp8", "int8", "nf4", "fp4"] } })).toEqual([]);
        expect(run({ benchmark: { ...on, variants: ["fp32"] } })).toEqual([
            { path: ["benchmark", "variants", 0], input: "fp32", message: 'no variant named "fp32" in mlserve:variants (variants: fp16, eetq, fp8, int8, nf4, fp4)' },
        ]);
    });
});
