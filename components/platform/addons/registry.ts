/**
 * Every platform add-on, once. A line here is all it takes to add one (its file
 * declares chart, values, settings, requirements and what it provides): config
 * validation (`mlserve:addons.<name>`) and the PlatformAddons component read it.
 * Order is the default install order; requirements move an add-on later.
 */
import type { z } from "zod";
import type { Addon, AddonDefinition } from "./addon";
import { certManagerAddon } from "./certManager";
import { clusterAutoscalerAddon } from "./clusterAutoscaler";
import { kedaAddon } from "./keda";
import { knativeAddon } from "./knative";
import { kserveAddon } from "./kserve";
import { metricsServerAddon } from "./metricsServer";
import { observabilityAddon } from "./observability";

export const ADDONS = {
    clusterAutoscaler: clusterAutoscalerAddon,
    metricsServer: metricsServerAddon,
    certManager: certManagerAddon,
    keda: kedaAddon,
    knative: knativeAddon,
    kserve: kserveAddon,
    observability: observabilityAddon,
};

export type AddonName = keyof typeof ADDONS;
export const ADDON_NAMES = Object.keys(ADDONS) as AddonName[];

type Registry = typeof ADDONS;
/** The instance each add-on's `create` returns, by name. */
export type InstalledAddons = { [K in AddonName]?: ReturnType<Registry[K]["create"]> };
/** Settings of every add-on, as `mlserve:addons` holds them after validation. */
export type AddonSettings = { [K in AddonName]: z.output<Registry[K]["settings"]> };
/** The zod shape of `mlserve:addons`: one key per registered add-on. */
export type AddonSettingsShape = { [K in AddonName]: Registry[K]["settings"] };

export function addonSettingsShape(): AddonSettingsShape {
    return Object.fromEntries(ADDON_NAMES.map((name) => [name, ADDONS[name].settings])) as AddonSettingsShape;
}

/** The definition of an add-on, without its specific types (for generic code). */
export function definitionOf(name: AddonName): AddonDefinition<z.ZodType<{ enabled: boolean }>, Addon> {
    return ADDONS[name] as unknown as AddonDefinition<z.ZodType<{ enabled: boolean }>, Addon>;
}

export function isAddonName(name: string): name is AddonName {
    return name in ADDONS;
}
