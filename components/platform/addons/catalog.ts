/**
 * What the registered add-ons need of each other, from their own declarations:
 * the missing requirements of a set (config validation reports them by key) and
 * an install order where every add-on comes after what it requires.
 */
import { ADDON_NAMES, ADDONS, definitionOf, isAddonName, type AddonName, type AddonSettings } from "./registry";

export interface MissingDependency {
    addon: AddonName;
    requires: AddonName;
    why: string;
}

/** Requirements of one add-on under its settings; a name the registry does not know is a programming error. */
export function requirementsOf(addon: AddonName, settings: AddonSettings): Array<{ addon: AddonName; why: string }> {
    return (definitionOf(addon).requires?.(settings[addon]) ?? []).map((r) => {
        if (!isAddonName(r.addon)) throw new Error(`add-on ${addon} requires "${r.addon}", which is not in components/platform/addons/registry.ts`);
        return { addon: r.addon, why: r.why };
    });
}

export function missingDependencies(settings: AddonSettings): MissingDependency[] {
    return ADDON_NAMES.filter((a) => settings[a].enabled).flatMap((addon) =>
        requirementsOf(addon, settings)
            .filter((r) => !settings[r.addon].enabled)
            .map((r) => ({ addon, requires: r.addon, why: r.why })),
    );
}

export function describeMissing(m: MissingDependency): string {
    const title = (a: AddonName) => ADDONS[a].title;
    return `${title(m.addon)} needs ${title(m.requires)}: ${m.why}. Set mlserve:addons.${m.requires}.enabled to true, or turn ${title(m.addon)} off`;
}

/** Enabled add-ons in an order where every add-on comes after what it requires (registry order otherwise). */
export function installOrder(settings: AddonSettings): AddonName[] {
    const order: AddonName[] = [];
    const visit = (a: AddonName, path: AddonName[]) => {
        if (order.includes(a) || !settings[a].enabled) return;
        if (path.includes(a)) throw new Error(`add-on dependency cycle: ${[...path, a].join(" -> ")}`);
        for (const r of requirementsOf(a, settings)) visit(r.addon, [...path, a]);
        order.push(a);
    };
    for (const a of ADDON_NAMES) visit(a, []);
    return order;
}
