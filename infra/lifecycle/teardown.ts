/**
 * The order `pulumi destroy` deletes resources in: the reverse of creation
 * order, where a resource is created after its dependencies, its provider and
 * its parent. Used by the tests to prove that everything that makes AWS objects
 * behind Pulumi's back (load balancers from Services, volumes from PVCs) is gone
 * before the nodes, the cluster and the VPC.
 */
import type { RecordedResource } from "../plan/render";

export function creationOrder(resources: readonly RecordedResource[]): string[] {
    const urns: ReadonlySet<string | undefined> = new Set(resources.map((r) => r.urn));
    const before = new Map<string, Set<string>>();
    for (const r of resources) {
        // Links to resources outside the list (and no provider or parent: undefined) are dropped.
        const deps = [...r.dependencies, r.provider, r.parent].filter((u): u is string => urns.has(u) && u !== r.urn);
        before.set(r.urn, new Set(deps));
    }
    const order: string[] = [];
    const state = new Map<string, "visiting" | "done">();
    const visit = (urn: string, path: string[]) => {
        if (state.get(urn) === "done") return;
        if (state.get(urn) === "visiting") throw new Error(`dependency cycle: ${[...path, urn].join(" -> ")}`);
        state.set(urn, "visiting");
        // Every URN visited is in the list (dependencies were filtered to it), so it has an entry.
        for (const dep of before.get(urn)!) visit(dep, [...path, urn]);
        state.set(urn, "done");
        order.push(urn);
    };
    for (const r of resources) visit(r.urn, []);
    return order;
}

export function destroyOrder(resources: readonly RecordedResource[]): string[] {
    return creationOrder(resources).reverse();
}
