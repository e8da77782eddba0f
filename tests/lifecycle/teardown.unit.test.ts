/**
 * Creation and destroy order (infra/lifecycle/teardown.ts) over small hand-made
 * resource graphs: a resource comes after its dependencies, its provider and its
 * parent; `pulumi destroy` runs in the reverse order.
 */
import { describe, expect, it } from "vitest";
import { creationOrder, destroyOrder } from "../../infra/lifecycle/teardown";
import type { RecordedResource } from "../../infra/plan/render";

function res(urn: string, links: { dependencies?: string[]; provider?: string; parent?: string } = {}): RecordedResource {
    return { urn, type: "test:index:R", name: urn, custom: true, remote: false, dependencies: links.dependencies ?? [], provider: links.provider, parent: links.parent, ignoreChanges: [], inputs: {}, state: {} };
}

describe("creationOrder", () => {
    it("puts dependencies, the provider and the parent first, whatever the input order", () => {
        const rs = [
            res("svc", { dependencies: ["ns"], provider: "k8s", parent: "app" }),
            res("app"),
            res("ns", { provider: "k8s" }),
            res("k8s", { dependencies: ["cluster"] }),
            res("cluster", { dependencies: ["vpc"] }),
            res("vpc"),
        ];
        expect(creationOrder(rs)).toEqual(["vpc", "cluster", "k8s", "ns", "app", "svc"]);
        expect(destroyOrder(rs)).toEqual(["svc", "app", "ns", "k8s", "cluster", "vpc"]);
    });

    it("each resource once, even when several depend on it (diamond)", () => {
        const rs = [res("top", { dependencies: ["left", "right"] }), res("left", { dependencies: ["base"] }), res("right", { dependencies: ["base"] }), res("base")];
        expect(creationOrder(rs)).toEqual(["base", "left", "right", "top"]);
        expect(destroyOrder(rs)).toEqual(["top", "right", "left", "base"]);
    });

    it("independent resources keep their input order", () => {
        expect(creationOrder([res("b"), res("a"), res("c")])).toEqual(["b", "a", "c"]);
    });

    it("ignores links to resources outside the list and a resource's link to itself", () => {
        const rs = [res("x", { dependencies: ["gone", "x"], provider: "default-provider", parent: "urn:pulumi:dev::mlserve::pulumi:pulumi:Stack::mlserve-dev" }), res("y", { parent: "x" })];
        expect(creationOrder(rs)).toEqual(["x", "y"]);
        expect(destroyOrder(rs)).toEqual(["y", "x"]);
    });

    it("a dependency cycle is an error that names the cycle", () => {
        const rs = [res("a", { dependencies: ["b"] }), res("b", { provider: "c" }), res("c", { parent: "a" })];
        expect(() => creationOrder(rs)).toThrow(new Error("dependency cycle: a -> b -> c -> a"));
        expect(() => destroyOrder([res("solo", { dependencies: ["pair"] }), res("pair", { dependencies: ["solo"] })])).toThrow(new Error("dependency cycle: solo -> pair -> solo"));
    });

    it("an empty list has an empty order", () => {
        expect(destroyOrder([])).toEqual([]);
    });
});
