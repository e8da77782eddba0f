/** infra/config/load.ts: the raw Pulumi config map to a StackConfig, or one ConfigError naming every problem. */
import { beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, formatProblems, knownKeysAt, parkedConfigProblems, parseStackConfig, parseValue, type ConfigProblem } from "../../infra/config/load";

const ctx = { project: "mlserve", stack: "dev", source: "Pulumi.dev.yaml" };
const flat = (config: Record<string, unknown>, base: Record<string, string> = { "aws:region": "us-east-1", "mlserve:lifecycle": '{"owner":"me"}' }): Record<string, string> => ({
    ...base,
    ...Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
});
function error(raw: Record<string, string>, c: Partial<typeof ctx> & { isSecret?: (k: string) => boolean } = {}): ConfigError {
    try {
        parseStackConfig(raw, { ...ctx, ...c });
    } catch (err) {
        if (err instanceof ConfigError) return err;
        throw err;
    }
    throw new Error("expected a ConfigError");
}
const problems = (config: Record<string, unknown>, c: Partial<typeof ctx> & { isSecret?: (k: string) => boolean } = {}): ConfigProblem[] => error(flat(config), c).problems;
/** A config with no warning of its own: restricted API, NAT per AZ, one plain variant. */
const quiet = { "mlserve:cluster": { publicAccessCidrs: ["203.0.113.0/24"], natGateways: "perAz" }, "mlserve:variants": [{ name: "a", replicas: 1 }] };
const warnings = (config: Record<string, unknown>) => parseStackConfig(flat({ ...quiet, ...config }), ctx).warnings;

describe("a valid config", () => {
    it("comes back with the project, stack, region and no secrets, and only mlserve: keys are read", () => {
        const { config, warnings: w } = parseStackConfig(flat({ ...quiet, "aws:profile": "x", "other:thing": "1", nocolon: "2", mlservex: "3", "mlservex:y": "4" }), ctx);
        expect([config.project, config.stack, config.region, config.secrets]).toEqual(["mlserve", "dev", "us-east-1", {}]);
        expect(config.variants.map((v) => v.name)).toEqual(["a"]);
        expect(w).toEqual([]);
    });

    it("a key named just mlserve, with no area, is not an mlserve: key", () => {
        expect(parseStackConfig({ ...flat(quiet), mlserve: "x" }, ctx).config.stack).toBe("dev");
    });

    it("a Hugging Face token stored as a secret becomes a secret output", () => {
        const { config } = parseStackConfig(flat({ "mlserve:hfToken": "hf_abc" }), { ...ctx, isSecret: (k) => k === "mlserve:hfToken" });
        expect(config.secrets.hfToken).toBeDefined();
        expect(parseStackConfig(flat({ "mlserve:hfToken": "hf_abc" }), ctx).config.secrets.hfToken).toBeDefined();
    });

    it("stack names: 1-31 lowercase letters, digits or '-', starting with a letter or digit", () => {
        for (const stack of ["a", "1", "dev-2", "a".repeat(31)]) expect(parseStackConfig(flat({}), { ...ctx, stack }).config.stack).toBe(stack);
        for (const stack of ["a".repeat(32), "-dev", "Dev", "dev_1", "", "dev.1"])
            expect(error(flat({}), { stack }).problems).toEqual([
                { path: "(stack name)", given: JSON.stringify(stack), message: "must be 1-31 lowercase letters, digits or '-', starting with a letter or digit (it names the EKS cluster)" },
            ]);
    });
});

describe("the error", () => {
    it("lists every problem with its key path, the value given and the fix, in one message", () => {
        const err = error(flat({ "mlserve:gpuNodes": { maxSize: 0, minSize: -1 }, "mlserve:variants": [{ name: "a" }, { name: "a" }] }));
        expect(err.name).toBe("ConfigError");
        expect(err.source).toBe("Pulumi.dev.yaml");
        expect(err.message).toBe(
            [
                "Invalid stack configuration in Pulumi.dev.yaml: 3 problems.",
                "  - mlserve:gpuNodes.minSize: got -1; Too small: expected number to be >=0",
                "  - mlserve:gpuNodes.maxSize: got 0; Too small: expected number to be >=1",
                "  - mlserve:variants[1].name: got \"a\"; duplicates variants[0]; variant names must be unique",
                "Fix them in the stack file or with `pulumi config set --path <key> <value>`; no resources were registered.",
            ].join("\n"),
        );
    });

    it("formats one problem, and a problem with no value", () => {
        expect(formatProblems([{ path: "mlserve:x", message: "is wrong" }], "Pulumi.prod.yaml")).toBe(
            ["Invalid stack configuration in Pulumi.prod.yaml: 1 problem.", "  - mlserve:x: is wrong", "Fix them in the stack file or with `pulumi config set --path <key> <value>`; no resources were registered."].join("\n"),
        );
    });

    it("shows at most 80 characters of a value", () => {
        const at = (n: number) => problems({ "mlserve:modelApi": { modelName: "X".repeat(n) } })[0]?.given;
        expect(at(78)).toBe(`"${"X".repeat(78)}"`);
        expect(at(79)).toBe(`"${"X".repeat(76)}...`);
    });

    it("an unknown top-level key suggests the closest one and lists every key, hfToken included", () => {
        expect(problems({ "mlserve:clustr": {} })).toEqual([
            {
                path: "mlserve:clustr",
                given: "{}",
                message:
                    'unknown key; did you mean "cluster"?; known keys: mlserve:cluster, mlserve:systemNodes, mlserve:gpuNodes, mlserve:addons, mlserve:modelApi, mlserve:variants, mlserve:fleet, mlserve:kserveModels, mlserve:kserveGraphs, mlserve:async, mlserve:optimization, mlserve:benchmark, mlserve:lifecycle, mlserve:tags, mlserve:hfToken',
            },
        ]);
        expect(problems({ "mlserve:hfTokn": "x" })[0]?.message).toMatch(/^unknown key; did you mean "hfToken"\?; known keys: /);
        expect(problems({ "mlserve:zzzzzzzz": "plain" })[0]).toMatchObject({ given: '"plain"', message: expect.stringMatching(/^unknown key; known keys: mlserve:cluster, /) });
    });

    it("an unknown nested key suggests a key of that object and lists them, in objects, arrays and add-ons", () => {
        expect(problems({ "mlserve:cluster": { natGateway: "single" } })).toEqual([
            {
                path: "mlserve:cluster.natGateway",
                message:
                    'unknown key; did you mean "natGateways"?; known keys here: kubernetesVersion, availabilityZones, vpcCidr, natGateways, endpointPublicAccess, endpointPrivateAccess, publicAccessCidrs, logTypes, logRetentionDays, kmsDeletionWindowDays, deletionProtection, adminRoleArns',
            },
        ]);
        expect(problems({ "mlserve:variants": [{ name: "a", autoscaling: { maxReplica: 2 } }] })).toEqual([
            { path: "mlserve:variants[0].autoscaling.maxReplica", message: 'unknown key; did you mean "maxReplicas"?; known keys here: enabled, maxReplicas, queueDepthTarget' },
        ]);
        expect(problems({ "mlserve:kserveModels": [{ name: "m", batcher: { maxBatchSiz: 2 } }], "mlserve:kserveGraphs": [] })).toEqual([
            { path: "mlserve:kserveModels[0].batcher.maxBatchSiz", message: 'unknown key; did you mean "maxBatchSize"?; known keys here: enabled, maxBatchSize, maxLatencyMs, timeoutSeconds' },
        ]);
        expect(problems({ "mlserve:addons": { kserve: { mode: "Standard" } } })).toEqual([
            { path: "mlserve:addons.kserve.mode", message: "unknown key; known keys here: enabled, deploymentMode" },
        ]);
        expect(problems({ "mlserve:async": { images: { gatway: "r/g:1" } } })).toEqual([
            { path: "mlserve:async.images.gatway", message: 'unknown key; did you mean "gateway"?; known keys here: gateway, worker' },
        ]);
    });

    it("the keys known at a path are found through records, arrays and every zod wrapper around them", () => {
        const leaf = () => z.strictObject({ x: z.int(), y: z.string() });
        const root = z.strictObject({
            plain: leaf(),
            withDefault: leaf().default({ x: 1, y: "a" }),
            withPrefault: leaf().prefault({ x: 1, y: "a" }),
            optional: leaf().optional(),
            nullable: leaf().nullable(),
            // .transform() wraps the object in a pipe whose input is the object.
            transformed: leaf().transform((v) => v.x),
            byName: z.record(z.string(), leaf()),
            list: z.array(leaf().optional()),
            nested: z.strictObject({ deeper: z.array(z.record(z.string(), leaf().nullable())) }).optional(),
            scalar: z.int(),
        });
        const at = (...path: PropertyKey[]) => knownKeysAt(path, root);
        expect(at()).toEqual(["plain", "withDefault", "withPrefault", "optional", "nullable", "transformed", "byName", "list", "nested", "scalar"]);
        for (const key of ["plain", "withDefault", "withPrefault", "optional", "nullable", "transformed"]) expect(at(key), key).toEqual(["x", "y"]);
        expect(at("byName", "any")).toEqual(["x", "y"]);
        expect(at("list", 3)).toEqual(["x", "y"]);
        expect(at("nested")).toEqual(["deeper"]);
        expect(at("nested", "deeper", 0, "k")).toEqual(["x", "y"]);
        // Not an object there, or no such key: nothing to suggest.
        expect(at("scalar")).toEqual([]);
        expect(at("scalar", "below")).toEqual([]);
        expect(at("missing")).toEqual([]);
        expect(at("missing", "deeper", 0)).toEqual([]);
        expect(at("list")).toEqual([]);
        expect(at("plain", "x")).toEqual([]);
        // The stack schema is the default root.
        expect(knownKeysAt(["addons", "kserve"])).toEqual(["enabled", "deploymentMode"]);
    });

    it("a problem with no value shows none (a missing key, a rule on a missing field)", () => {
        const ps = error(flat({ "mlserve:lifecycle": {}, "mlserve:benchmark": { enabled: true } })).problems;
        expect(ps).toEqual([
            { path: "mlserve:lifecycle.owner", message: "is required: who owns this stack, e.g. `pulumi config set --path mlserve:lifecycle.owner you@example.com`" },
            { path: "mlserve:benchmark.runId", message: "is required when a benchmark is enabled: a DNS label starting with a letter, such as run-2026-12-01 (a new id starts a new run)" },
        ]);
        expect(ps.map((p) => p.given)).toEqual([undefined, undefined]);
    });

    it("schema problems and rule problems are reported together", () => {
        expect(problems({ "mlserve:gpuNodes": { maxSize: 0 }, "mlserve:systemNodes": { minSize: 0, desiredSize: 0 } }).map((p) => p.path)).toEqual(["mlserve:gpuNodes.maxSize", "mlserve:systemNodes.minSize"]);
    });

    it("the region is required, and must look like one", () => {
        const base = { "mlserve:lifecycle": '{"owner":"me"}' };
        expect(error(flat({}, base)).problems).toEqual([{ path: "aws:region", message: "is required: run `pulumi config set aws:region us-east-1`" }]);
        expect(error(flat({ "aws:region": "mars" }, base)).problems).toEqual([{ path: "aws:region", given: '"mars"', message: "must be an AWS region such as us-east-1" }]);
    });
});

describe("the Hugging Face token", () => {
    it("must be stored encrypted, and is never echoed", () => {
        expect(problems({ "mlserve:hfToken": "hf_secret" }, { isSecret: () => false })).toEqual([
            { path: "mlserve:hfToken", message: "must be stored encrypted: run `pulumi config set --secret mlserve:hfToken <value>`" },
        ]);
    });
    it("must not be empty", () => {
        expect(problems({ "mlserve:hfToken": "" })).toEqual([{ path: "mlserve:hfToken", message: "is empty" }]);
        expect(problems({ "mlserve:hfToken": " \t" }, { isSecret: () => true })).toEqual([{ path: "mlserve:hfToken", message: "is empty" }]);
    });
});

describe("warnings", () => {
    it("an API open to the internet, a single NAT gateway", () => {
        expect(warnings({ "mlserve:cluster": { natGateways: "perAz" } })).toEqual([
            "mlserve:cluster.publicAccessCidrs includes 0.0.0.0/0: the Kubernetes API is reachable from the whole internet (authentication still applies). Restrict it for shared or production stacks.",
        ]);
        expect(warnings({ "mlserve:cluster": { natGateways: "perAz", endpointPublicAccess: false } })).toEqual([]);
        expect(warnings({ "mlserve:cluster": { publicAccessCidrs: ["203.0.113.0/24", "0.0.0.0/0"], natGateways: "single" } })).toEqual([
            "mlserve:cluster.publicAccessCidrs includes 0.0.0.0/0: the Kubernetes API is reachable from the whole internet (authentication still applies). Restrict it for shared or production stacks.",
            'mlserve:cluster.natGateways is "single": nodes lose egress if that AZ fails. Use "perAz" in production.',
        ]);
    });

    it("engine warnings name the variant's key and name", () => {
        expect(warnings({ "mlserve:variants": [{ name: "a", replicas: 1 }, { name: "q8", quantize: "bitsandbytes" }] })).toEqual([
            "mlserve:variants[1].quantize (variant q8): bitsandbytes 8-bit disables CUDA graphs and is deprecated upstream in favour of eetq; expect it to be the slowest mode",
        ]);
    });

    it("an autoscaled variant that is parked is not autoscaled", () => {
        expect(warnings({ "mlserve:variants": [{ name: "a", replicas: 1 }, { name: "b", autoscaling: { enabled: true } }] })).toEqual([
            "mlserve:variants[1].autoscaling (variant b): the variant is parked (replicas 0), so it is not autoscaled until replicas is at least 1",
        ]);
    });

    it("full autoscale beyond the GPU node group warns; exactly at it does not", () => {
        // g5.4xlarge: 1 GPU; maxSize 3 allows 3. Autoscaled a: 2 replicas at peak; b runs 1; c is parked.
        const variants = [{ name: "a", replicas: 1, autoscaling: { enabled: true, maxReplicas: 2 } }, { name: "b", replicas: 1 }, { name: "c" }];
        expect(warnings({ "mlserve:variants": variants, "mlserve:gpuNodes": { maxSize: 3 } })).toEqual([]);
        expect(warnings({ "mlserve:variants": variants, "mlserve:gpuNodes": { maxSize: 2 } })).toEqual([
            "mlserve:variants: at full autoscale the variants want 3 GPU(s), more than mlserve:gpuNodes.maxSize allows (2); the extra replicas stay Pending",
        ]);
        // g5.12xlarge: 4 GPUs x maxSize 1; a at 2 replicas x 2 GPUs = 4 fits, 3 replicas do not.
        const big = (maxReplicas: number) => ({
            "mlserve:variants": [{ name: "a", replicas: 1, gpus: 2, autoscaling: { enabled: true, maxReplicas } }],
            "mlserve:gpuNodes": { instanceType: "g5.12xlarge", maxSize: 1, desiredSize: 1 },
        });
        expect(warnings(big(2))).toEqual([]);
        expect(warnings(big(3))).toEqual([
            "mlserve:variants: at full autoscale the variants want 6 GPU(s), more than mlserve:gpuNodes.maxSize allows (4); the extra replicas stay Pending",
        ]);
    });

    it("SPOT GPU nodes", () => {
        expect(warnings({ "mlserve:gpuNodes": { capacityType: "SPOT" } })).toEqual([
            "mlserve:gpuNodes.capacityType is SPOT: GPU nodes can be reclaimed mid-benchmark; results of an interrupted run are not comparable.",
        ]);
        expect(warnings({ "mlserve:systemNodes": { capacityType: "SPOT" } })).toEqual([]);
    });
});

describe("the parked form", () => {
    // Parsed inside each test (beforeEach), not here: code run in a describe body is "static"
    // coverage to Stryker, which then reruns every test for each mutant it reaches.
    let config: ReturnType<typeof parseStackConfig>["config"];
    beforeEach(() => {
        config = parseStackConfig(flat(quiet), ctx).config;
    });

    it("is validated with the same schema and rules, each problem saying it is about the parked form", () => {
        const seen: boolean[] = [];
        const ps = parkedConfigProblems(config, (c) => {
            seen.push(c.lifecycle.parked);
            return { ...c, gpuNodes: { ...c.gpuNodes, minSize: 5, diskSizeGiB: 10 } };
        });
        expect(seen).toEqual([true]);
        expect(ps).toEqual([
            { path: "mlserve:gpuNodes.diskSizeGiB", given: "10", message: "when parked (mlserve:lifecycle.parked: true): Too small: expected number to be >=20" },
            { path: "mlserve:gpuNodes.minSize", given: "5", message: "when parked (mlserve:lifecycle.parked: true): must be <= maxSize (2)" },
            { path: "mlserve:gpuNodes.desiredSize", given: "1", message: "when parked (mlserve:lifecycle.parked: true): must be >= minSize (5)" },
        ]);
        expect(config.lifecycle.parked).toBe(false);
    });

    it("of a valid config, parked the real way, has no problem", () => {
        expect(parkedConfigProblems(config)).toEqual([]);
        expect(parkedConfigProblems(config, (c) => c)).toEqual([]);
    });
});

describe("parseValue", () => {
    it("reads JSON and keeps anything else as the string", () => {
        expect([parseValue('{"a":[1]}'), parseValue("42"), parseValue("true"), parseValue("plain"), parseValue("{broken")]).toEqual([{ a: [1] }, 42, true, "plain", "{broken"]);
    });
});
