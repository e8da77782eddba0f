/**
 * The platform add-ons and what each needs, as data. Both the config validation
 * (a plan-time error naming the keys) and the PlatformAddons component (which
 * refuses to build a broken set) read these requirements.
 */
export const ADDON_NAMES = ["clusterAutoscaler", "metricsServer", "certManager", "keda", "knative", "kserve", "observability"] as const;
export type AddonName = (typeof ADDON_NAMES)[number];

export const ADDON_TITLES: Record<AddonName, string> = {
    clusterAutoscaler: "Cluster Autoscaler",
    metricsServer: "metrics-server",
    certManager: "cert-manager",
    keda: "KEDA",
    knative: "Knative Serving",
    kserve: "KServe",
    observability: "Observability (Prometheus, Grafana, DCGM exporter)",
};

/** Settings that change what an add-on needs. */
export interface RequirementContext {
    kserveDeploymentMode: "Knative" | "Standard";
}

export interface Requirement {
    addon: AddonName;
    why: string;
}

export function requirementsOf(addon: AddonName, ctx: RequirementContext): Requirement[] {
    switch (addon) {
        case "kserve":
            return [
                { addon: "certManager", why: "its admission webhooks use certificates that cert-manager issues" },
                ...(ctx.kserveDeploymentMode === "Knative"
                    ? [{ addon: "knative" as const, why: "Knative deployment mode runs every model as a Knative Service" }]
                    : []),
            ];
        default:
            return [];
    }
}

export interface MissingDependency {
    addon: AddonName;
    requires: AddonName;
    why: string;
}

export function missingDependencies(enabled: Record<AddonName, boolean>, ctx: RequirementContext): MissingDependency[] {
    return ADDON_NAMES.filter((a) => enabled[a]).flatMap((addon) =>
        requirementsOf(addon, ctx)
            .filter((r) => !enabled[r.addon])
            .map((r) => ({ addon, requires: r.addon, why: r.why })),
    );
}

export function describeMissing(m: MissingDependency): string {
    return (
        `${ADDON_TITLES[m.addon]} needs ${ADDON_TITLES[m.requires]}: ${m.why}. ` +
        `Set mlserve:addons.${m.requires}.enabled to true, or turn ${ADDON_TITLES[m.addon]} off`
    );
}

/** Enabled add-ons in an order where every add-on comes after what it requires. */
export function installOrder(enabled: Record<AddonName, boolean>, ctx: RequirementContext): AddonName[] {
    const order: AddonName[] = [];
    const visit = (a: AddonName, path: AddonName[]) => {
        if (order.includes(a) || !enabled[a]) return;
        if (path.includes(a)) throw new Error(`add-on dependency cycle: ${[...path, a].join(" -> ")}`);
        for (const r of requirementsOf(a, ctx)) visit(r.addon, [...path, a]);
        order.push(a);
    };
    for (const a of ADDON_NAMES) visit(a, []);
    return order;
}
