/**
 * Cross-field rules that had no failing case (issue "Tests with teeth", item 2):
 * each test here fails when its rule is removed.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig, type ConfigProblem } from "../../infra/config/load";
import { decide, lifecycleFromConfig } from "../../infra/lifecycle/reaper";
import { creationOrder } from "../../infra/lifecycle/teardown";
import type { RecordedResource } from "../../infra/plan/render";

const ctx = { project: "mlserve", stack: "dev", source: "Pulumi.dev.yaml" };
const flat = (config: Record<string, unknown>): Record<string, string> => ({
    "aws:region": "us-east-1",
    "mlserve:lifecycle": JSON.stringify({ owner: "test-owner" }),
    ...Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
});

function problems(config: Record<string, unknown>, isSecret?: (key: string) => boolean): ConfigProblem[] {
    try {
        parseStackConfig(flat(config), { ...ctx, isSecret });
        return [];
    } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        return err.problems;
    }
}
const warnings = (config: Record<string, unknown>) => parseStackConfig(flat(config), ctx).warnings;

describe("rules that had no failing case", () => {
    it("async replicas: min above max is refused, for the worker and the gateway", () => {
        expect(problems({ "mlserve:async": { worker: { minReplicas: 5, maxReplicas: 2 }, gateway: { minReplicas: 4, maxReplicas: 3 } } })).toEqual([
            expect.objectContaining({ path: "mlserve:async.worker.minReplicas", message: "must be <= maxReplicas (2)" }),
            expect.objectContaining({ path: "mlserve:async.gateway.minReplicas", message: "must be <= maxReplicas (3)" }),
        ]);
    });

    it("the async path with no variants to target is refused", () => {
        expect(problems({ "mlserve:variants": [] })).toEqual([expect.objectContaining({ path: "mlserve:async.enabled", message: expect.stringMatching(/has none/) })]);
        expect(problems({ "mlserve:variants": [], "mlserve:async": { enabled: false } })).toEqual([]);
    });

    it("a server asking for more GPUs than a node has is refused", () => {
        const ps = problems({ "mlserve:variants": [{ name: "big", gpus: 2 }] });
        expect(ps).toEqual([expect.objectContaining({ path: "mlserve:variants[0].gpus", message: "a g5.4xlarge node has 1 GPU(s); a server cannot span nodes" })]);
        expect(problems({ "mlserve:variants": [{ name: "big", gpus: 4 }], "mlserve:gpuNodes": { instanceType: "g5.12xlarge" } })).toEqual([]);
    });

    it("the system pool keeps at least one node", () => {
        expect(problems({ "mlserve:systemNodes": { minSize: 0, desiredSize: 0 } })).toEqual([
            expect.objectContaining({ path: "mlserve:systemNodes.minSize", message: expect.stringMatching(/^must be >= 1: CoreDNS/) }),
        ]);
    });

    it("an empty Hugging Face token is refused without echoing anything", () => {
        const ps = problems({ "mlserve:hfToken": "  " }, () => true);
        expect(ps).toEqual([{ path: "mlserve:hfToken", message: "is empty" }]);
    });
});

describe("warnings that had no failing case", () => {
    it("variants that would want more GPUs at full autoscale than the node group allows", () => {
        const w = warnings({ "mlserve:variants": [{ name: "a", replicas: 1, autoscaling: { enabled: true, maxReplicas: 3 } }], "mlserve:gpuNodes": { maxSize: 2 } });
        expect(w.filter((x) => x.startsWith("mlserve:variants: at full autoscale"))).toEqual([
            "mlserve:variants: at full autoscale the variants want 3 GPU(s), more than mlserve:gpuNodes.maxSize allows (2); the extra replicas stay Pending",
        ]);
        expect(warnings({ "mlserve:variants": [{ name: "a", replicas: 1, autoscaling: { enabled: true, maxReplicas: 2 } }], "mlserve:gpuNodes": { maxSize: 2 } }).join("\n")).not.toMatch(/full autoscale/);
    });

    it("SPOT GPU nodes", () => {
        expect(warnings({ "mlserve:gpuNodes": { capacityType: "SPOT" } }).filter((x) => x.includes("SPOT"))).toHaveLength(1);
        expect(warnings({}).join("\n")).not.toMatch(/SPOT/);
    });

    it("an autoscaled variant that is parked is not autoscaled", () => {
        const w = warnings({ "mlserve:variants": [{ name: "a", autoscaling: { enabled: true } }, { name: "b", replicas: 1 }] });
        expect(w.filter((x) => x.includes(".autoscaling"))).toEqual([
            "mlserve:variants[0].autoscaling (variant a): the variant is parked (replicas 0), so it is not autoscaled until replicas is at least 1",
        ]);
    });
});

describe("teardown order", () => {
    const res = (urn: string, dependencies: string[] = []): RecordedResource => ({ urn, type: "t", name: urn, custom: true, remote: false, dependencies, ignoreChanges: [], inputs: {}, state: {} });

    it("creation order puts dependencies first, and a dependency cycle is an error naming it", () => {
        expect(creationOrder([res("c", ["b"]), res("b", ["a"]), res("a")])).toEqual(["a", "b", "c"]);
        expect(() => creationOrder([res("a", ["b"]), res("b", ["c"]), res("c", ["a"])])).toThrow("dependency cycle: a -> b -> c -> a");
    });
});

describe("the reaper on bad lifecycle data", () => {
    const now = new Date("2026-12-10T00:00:00Z");

    it("an expiry that is not a date is a warning, never a park or a destroy", () => {
        const [d] = decide([{ name: "dev-x", expiresAt: "next tuesday", parked: false, lastUpdate: "2026-01-01T00:00:00Z" }], now);
        expect(d).toMatchObject({ action: "warn", reason: expect.stringMatching(/"next tuesday" is not a date/) });
    });

    it("config it cannot read gives no owner, no expiry and not parked (so: parked when idle, never destroyed)", () => {
        expect(lifecycleFromConfig({ "mlserve:lifecycle": { value: "{not json" } })).toEqual({ parked: false });
        expect(lifecycleFromConfig({ "mlserve:lifecycle": { value: JSON.stringify({ owner: 7, expiresAt: 20261231, parked: "yes" }) } })).toEqual({ owner: undefined, expiresAt: undefined, parked: false });
        const [d] = decide([{ name: "dev-x", parked: false, lastUpdate: "2026-01-01T00:00:00Z" }], now);
        expect(d!.action).toBe("park");
    });
});

describe("the reaper never parks a production stack", () => {
    const now = new Date("2026-12-10T00:00:00Z");
    const expired = (name: string) => decide([{ name, expiresAt: "2026-12-01", parked: false }], now)[0]!.action;

    it("prod, production, prod-eu and production.us are warned about, never parked; other names past expiry are parked", () => {
        for (const name of ["prod", "production", "prod-eu", "production.us"]) expect(expired(name), name).toBe("warn");
        for (const name of ["dev", "product", "preprod", "staging"]) expect(expired(name), name).toBe("park");
    });
});
