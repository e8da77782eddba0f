import { describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig } from "../../infra/config/load";
import { didYouMean, editDistance } from "../../infra/config/suggest";

const ctx = { project: "mlserve", stack: "dev", source: "Pulumi.dev.yaml" };

/** Build the flat map Pulumi hands the program: structured values are JSON strings. */
function raw(config: Record<string, unknown>, region: string | null = "us-east-1"): Record<string, string> {
    const flat: Record<string, string> = Object.fromEntries(
        Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    );
    if (region !== null) flat["aws:region"] = region;
    flat["mlserve:lifecycle"] ??= JSON.stringify({ owner: "test-owner" });
    return flat;
}

function problems(config: Record<string, unknown>, region: string | null = "us-east-1", stack = "dev") {
    try {
        parseStackConfig(raw(config, region), { ...ctx, stack });
    } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).problems;
    }
    throw new Error("expected the config to be rejected");
}

describe("stack config defaults", () => {
    it("a config with only an owner yields the documented defaults", () => {
        const { config } = parseStackConfig(raw({}), ctx);
        expect(config.cluster).toMatchObject({
            kubernetesVersion: "1.33",
            availabilityZones: 2,
            vpcCidr: "10.0.0.0/16",
            natGateways: "single",
            endpointPublicAccess: true,
            endpointPrivateAccess: true,
            logRetentionDays: 30,
        });
        expect(config.gpuNodes).toMatchObject({ instanceType: "g5.4xlarge", minSize: 0, desiredSize: 1, maxSize: 2, diskSizeGiB: 200 });
        expect(config.systemNodes).toMatchObject({ instanceType: "m6i.xlarge", minSize: 1, desiredSize: 2, maxSize: 3 });
        expect(config.region).toBe("us-east-1");
        expect(config.stack).toBe("dev");
    });

    it("a partial object keeps the defaults of the keys it does not set", () => {
        const { config } = parseStackConfig(raw({ "mlserve:gpuNodes": { maxSize: 4 } }), ctx);
        expect(config.gpuNodes.maxSize).toBe(4);
        expect(config.gpuNodes.instanceType).toBe("g5.4xlarge");
    });

    it("warns (does not fail) on an API endpoint open to the internet and a single NAT", () => {
        const { warnings } = parseStackConfig(raw({}), ctx);
        expect(warnings.join("\n")).toMatch(/0\.0\.0\.0\/0/);
        expect(warnings.join("\n")).toMatch(/natGateways is "single"/);
    });
});

describe("stack config errors", () => {
    it("names the key path, the value given and what is allowed", () => {
        const [p] = problems({ "mlserve:gpuNodes": { minSize: -1 } });
        expect(p).toMatchObject({ path: "mlserve:gpuNodes.minSize", given: "-1" });
        expect(p!.message).toMatch(/>=\s*0/);
    });

    it("rejects min > desired > max on the offending fields, with the other bound in the message", () => {
        const ps = problems({ "mlserve:gpuNodes": { minSize: 3, desiredSize: 5, maxSize: 2 } });
        const paths = ps.map((p) => p.path);
        expect(paths).toContain("mlserve:gpuNodes.minSize");
        expect(paths).toContain("mlserve:gpuNodes.desiredSize");
        expect(ps.find((p) => p.path === "mlserve:gpuNodes.desiredSize")!.message).toMatch(/maxSize \(2\)/);
    });

    it("rejects desired < min", () => {
        const ps = problems({ "mlserve:systemNodes": { minSize: 2, desiredSize: 1 } });
        expect(ps).toEqual([expect.objectContaining({ path: "mlserve:systemNodes.desiredSize", message: "must be >= minSize (2)" })]);
    });

    it("rejects a GPU node type that is not a known GPU instance and lists the allowed ones", () => {
        const [p] = problems({ "mlserve:gpuNodes": { instanceType: "m5.large" } });
        expect(p).toMatchObject({ path: "mlserve:gpuNodes.instanceType", given: '"m5.large"' });
        expect(p!.message).toMatch(/g5\.4xlarge/);
    });

    it("rejects a GPU type in the system node group", () => {
        const [p] = problems({ "mlserve:systemNodes": { instanceType: "g5.xlarge" } });
        expect(p!.path).toBe("mlserve:systemNodes.instanceType");
        expect(p!.message).toMatch(/mlserve:gpuNodes/);
    });

    it("unknown nested keys are errors with a did-you-mean", () => {
        const [p] = problems({ "mlserve:gpuNodes": { maxSise: 3 } });
        expect(p!.path).toBe("mlserve:gpuNodes.maxSise");
        expect(p!.message).toMatch(/^unknown key; did you mean "maxSize"\?; known keys here: instanceType, /);
    });

    it("unknown top-level mlserve keys are errors with a did-you-mean; other namespaces are left alone", () => {
        const ps = problems({ "mlserve:gpuNode": { maxSize: 3 }, "kubernetes:context": "x" });
        expect(ps).toHaveLength(1);
        expect(ps[0]!.path).toBe("mlserve:gpuNode");
        expect(ps[0]!.message).toMatch(/did you mean "gpuNodes"/);
    });

    it("collects every problem into ONE error instead of stopping at the first", () => {
        let error: ConfigError | undefined;
        try {
            parseStackConfig(
                raw(
                    {
                        "mlserve:cluster": { availabilityZones: 1, natGateways: "many", vpcCidr: "10.0.0.0/8" },
                        "mlserve:gpuNodes": { instanceType: "t3.large", minSize: 2, maxSize: 1 },
                        "mlserve:systemNodes": { diskSizeGiB: "big" },
                    },
                    "mars-1",
                ),
                ctx,
            );
        } catch (err) {
            error = err as ConfigError;
        }
        expect(error).toBeInstanceOf(ConfigError);
        const paths = error!.problems.map((p) => p.path).sort();
        expect(paths).toEqual(
            [
                "aws:region",
                "mlserve:cluster.availabilityZones",
                "mlserve:cluster.natGateways",
                "mlserve:cluster.vpcCidr",
                "mlserve:gpuNodes.instanceType",
                "mlserve:gpuNodes.minSize",
                // desiredSize defaults to 1, below the given minSize 2.
                "mlserve:gpuNodes.desiredSize",
                "mlserve:systemNodes.diskSizeGiB",
            ].sort(),
        );
        // One message, every key named, a line per problem, and no stack trace in it.
        for (const p of paths) expect(error!.message).toContain(p);
        expect(error!.message.split("\n").filter((l) => l.startsWith("  - "))).toHaveLength(paths.length);
        expect(error!.message).toMatch(/^Invalid stack configuration in Pulumi\.dev\.yaml: 8 problems\./);
        expect(error!.message).not.toMatch(/\bat .*\.ts:\d+/);
    });

    it("rejects a missing region with the command that sets it", () => {
        const ps = problems({}, null);
        expect(ps).toEqual([expect.objectContaining({ path: "aws:region", message: expect.stringMatching(/pulumi config set aws:region/) })]);
    });

    it("rejects CIDRs that are not CIDRs and list items by index", () => {
        const ps = problems({ "mlserve:cluster": { publicAccessCidrs: ["10.0.0.0/8", "300.1.1.1/32", "nope"] } });
        expect(ps.map((p) => p.path)).toEqual(["mlserve:cluster.publicAccessCidrs[1]", "mlserve:cluster.publicAccessCidrs[2]"]);
    });

    it("rejects turning off both API endpoints", () => {
        const [p] = problems({ "mlserve:cluster": { endpointPublicAccess: false, endpointPrivateAccess: false } });
        expect(p!.path).toBe("mlserve:cluster.endpointPrivateAccess");
    });

    it("rejects reserved label prefixes and bad label values", () => {
        const ps = problems({ "mlserve:gpuNodes": { labels: { "node.kubernetes.io/foo": "x", team: "has spaces" } } });
        expect(ps.map((p) => p.path).sort()).toEqual(["mlserve:gpuNodes.labels.node.kubernetes.io/foo", "mlserve:gpuNodes.labels.team"]);
    });

    it("rejects a Kubernetes version without a pinned add-on row", () => {
        const [p] = problems({ "mlserve:cluster": { kubernetesVersion: "1.20" } });
        expect(p!.path).toBe("mlserve:cluster.kubernetesVersion");
        expect(p!.message).toMatch(/1\.33/);
    });

    it("rejects stack names that cannot name an EKS cluster", () => {
        const [p] = problems({}, "us-east-1", "Dev.Stack");
        expect(p!.path).toBe("(stack name)");
    });
});

describe("lifecycle", () => {
    it("an owner is required, with the command that sets it", () => {
        const ps = problems({ "mlserve:lifecycle": {} });
        expect(ps).toEqual([expect.objectContaining({ path: "mlserve:lifecycle.owner", message: expect.stringMatching(/is required: .*pulumi config set --path mlserve:lifecycle.owner/) })]);
    });

    it("expiresAt must be an ISO date", () => {
        const ps = problems({ "mlserve:lifecycle": { owner: "me", expiresAt: "next friday" } });
        expect(ps.map((p) => p.path)).toEqual(["mlserve:lifecycle.expiresAt"]);
        const { config } = parseStackConfig(raw({ "mlserve:lifecycle": { owner: "me", expiresAt: "2026-12-31T18:00:00Z" } }), ctx);
        expect(config.lifecycle).toMatchObject({ owner: "me", expiresAt: "2026-12-31T18:00:00Z", parked: false, parkedSystemNodes: 1 });
    });
});

describe("did you mean", () => {
    it("suggests the closest key within a third of its length", () => {
        expect(editDistance("kitten", "sitting")).toBe(3);
        expect(didYouMean("desiredsize", ["minSize", "desiredSize"])).toBe('; did you mean "desiredSize"?');
        expect(didYouMean("completelyDifferent", ["minSize", "maxSize"])).toBe("");
    });
});
