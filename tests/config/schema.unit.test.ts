/** infra/config/schema.ts: the whole `mlserve:` schema, its keys and every area's rules. */
import { describe, expect, it } from "vitest";
import { awsRegion, MLSERVE_KEYS, STACK_RULES, stackConfigSchema } from "../../infra/config/schema";

describe("stack schema", () => {
    it("knows exactly these mlserve: keys", () => {
        expect([...MLSERVE_KEYS].sort()).toEqual(
            ["addons", "async", "benchmark", "cluster", "fleet", "gpuNodes", "kserveGraphs", "kserveModels", "lifecycle", "modelApi", "optimization", "systemNodes", "tags", "variants"].sort(),
        );
    });

    it("a region looks like us-east-1, eu-west-2, ap-southeast-1 or us-gov-west-1", () => {
        const ok = ["us-east-1", "eu-west-2", "ap-southeast-1", "us-gov-west-1"];
        expect(ok.filter((r) => awsRegion.safeParse(r).success)).toEqual(ok);
        const bad = ["US-east-1", "us-east", "us-east-12", "use-east-1", "xus-east-1", "us-east-1x", "us-gov-east", "u-east-1", "us-1"];
        expect(bad.filter((r) => awsRegion.safeParse(r).success)).toEqual([]);
        expect(awsRegion.safeParse("mars").error?.issues[0]?.message).toBe("must be an AWS region such as us-east-1");
    });

    it("a missing lifecycle section reports the missing owner by its path; tags default to none", () => {
        const r = stackConfigSchema.safeParse({});
        expect(r.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([["lifecycle.owner", expect.stringMatching(/^is required/)]]);
        expect(stackConfigSchema.parse({ lifecycle: { owner: "me" } }).tags).toEqual({});
    });

    it("tags: keys of 1-128 characters, values up to 256", () => {
        const tags = (t: Record<string, string>) => stackConfigSchema.safeParse({ lifecycle: { owner: "me" }, tags: t }).error?.issues.map((i) => i.path.join(".")) ?? [];
        expect(tags({ ["k".repeat(128)]: "v".repeat(256), a: "" })).toEqual([]);
        expect(tags({ ["k".repeat(129)]: "v" })).toEqual([`tags.${"k".repeat(129)}`]);
        expect(tags({ "": "v" })).toEqual(["tags."]);
        expect(tags({ a: "v".repeat(257) })).toEqual(["tags.a"]);
    });

    it("STACK_RULES runs every area's rules, model items mounted at kserveModels", () => {
        const paths = (raw: unknown) => STACK_RULES.flatMap((c) => c(raw)).map((i) => i.path.join("."));
        expect(paths({})).toEqual([]);
        expect(
            paths({
                cluster: { endpointPublicAccess: false, endpointPrivateAccess: false },
                addons: { certManager: { enabled: false } },
                modelApi: { minReplicas: 5, maxReplicas: 4 },
                variants: [{ name: "a" }, { name: "a" }],
                kserveModels: [{ name: "m", minReplicas: 4, maxReplicas: 3 }],
                kserveGraphs: [],
                async: { worker: { minReplicas: 5, maxReplicas: 4 } },
                optimization: { enabled: true, runId: "r1", serve: ["nope"] },
                benchmark: { enabled: true, runId: "b1", campaign: true, targets: ["modelApi"] },
            }),
        ).toEqual([
            "cluster.endpointPrivateAccess",
            "addons.kserve.enabled",
            "modelApi.minReplicas",
            "variants.1.name",
            "kserveModels.0.minReplicas",
            "async.worker.minReplicas",
            "optimization.serve.0",
            "benchmark.targets",
        ]);
    });
});
