/** infra/config/addons.ts: `mlserve:addons` and what a workload needs of the add-ons. */
import { describe, expect, it } from "vitest";
import { addonsRules, addonsSchema, needsAddons } from "../../infra/config/addons";

const run = (raw: unknown) => addonsRules.flatMap((c) => c(raw));

describe("mlserve:addons", () => {
    it("every add-on is on by default, KServe in Knative mode", () => {
        const s = addonsSchema.parse({});
        expect(Object.keys(s).sort()).toEqual(["certManager", "clusterAutoscaler", "keda", "knative", "kserve", "metricsServer", "observability"]);
        for (const a of Object.values(s)) expect(a.enabled).toBe(true);
        expect(s.kserve.deploymentMode).toBe("Knative");
        expect(run({})).toEqual([]);
        expect(run(undefined)).toEqual([]);
    });

    it("an unknown add-on is refused", () => {
        expect(addonsSchema.safeParse({ istio: { enabled: true } }).error?.issues).toEqual([expect.objectContaining({ code: "unrecognized_keys", keys: ["istio"] })]);
    });

    it("an add-on whose requirement is off is an error on the add-on's enabled key, naming the fix", () => {
        expect(run({ addons: { certManager: { enabled: false }, knative: { enabled: false } } })).toEqual([
            {
                path: ["addons", "kserve", "enabled"],
                input: true,
                message: "KServe needs cert-manager: its admission webhooks use certificates that cert-manager issues. Set mlserve:addons.certManager.enabled to true, or turn KServe off",
            },
            {
                path: ["addons", "kserve", "enabled"],
                input: true,
                message: "KServe needs Knative Serving: Knative deployment mode runs every model as a Knative Service. Set mlserve:addons.knative.enabled to true, or turn KServe off",
            },
        ]);
        // Standard mode does not need Knative; KServe off needs nothing.
        expect(run({ addons: { knative: { enabled: false }, kserve: { deploymentMode: "Standard" } } })).toEqual([]);
        expect(run({ addons: { certManager: { enabled: false }, kserve: { enabled: false } } })).toEqual([]);
    });
});

describe("needsAddons", () => {
    const needs = [
        { addon: "keda" as const, for: "it scales the worker" },
        { addon: "metricsServer" as const, for: "the HPA reads CPU from it" },
    ];
    it("reports each add-on that is off, at the workload's path, with the fix and the alternative", () => {
        const settings = addonsSchema.parse({ keda: { enabled: false }, metricsServer: { enabled: false } });
        expect(needsAddons(["async", "enabled"], "the async path", "turn the async path off", needs, settings)).toEqual([
            { path: ["async", "enabled"], input: true, message: "the async path needs KEDA: it scales the worker. Set mlserve:addons.keda.enabled to true, or turn the async path off" },
            {
                path: ["async", "enabled"],
                input: true,
                message: "the async path needs metrics-server: the HPA reads CPU from it. Set mlserve:addons.metricsServer.enabled to true, or turn the async path off",
            },
        ]);
    });
    it("reports nothing when the add-ons are on", () => {
        expect(needsAddons(["x"], "x", "y", needs, addonsSchema.parse({ keda: { enabled: false } }))).toHaveLength(1);
        expect(needsAddons(["x"], "x", "y", needs, addonsSchema.parse({}))).toEqual([]);
    });
});
