/**
 * `mlserve:addons`: one key per add-on of the registry (components/platform/addons/registry.ts),
 * with the settings schema the add-on declares. An add-on whose requirement is off
 * is an error on its `enabled` key; a workload states the add-ons it needs once,
 * with `needsAddons`.
 */
import { z } from "zod";
import { describeMissing, missingDependencies } from "../../components/platform/addons/catalog";
import { ADDONS, addonSettingsShape, type AddonName, type AddonSettings } from "../../components/platform/addons/registry";
import { rule, type Check, type Issue } from "./rules";

export const addonsSchema = z.strictObject(addonSettingsShape());
export const addons = addonsSchema.prefault({});

export const addonsRules: Check[] = [
    rule({ addons }, (v) =>
        missingDependencies(v.addons).map((m) => ({ path: ["addons", m.addon, "enabled"], input: true, message: describeMissing(m) })),
    ),
];

export interface AddonNeed {
    addon: AddonName;
    /** What the workload uses it for ("its HorizontalPodAutoscaler reads CPU from it"). */
    for: string;
}

/**
 * The issues of a workload (at `path`, e.g. ["async", "enabled"]) whose add-ons are off:
 * "<what> needs <add-on>: <for>. Set mlserve:addons.<add-on>.enabled to true, or <instead>".
 */
export function needsAddons(path: readonly PropertyKey[], what: string, instead: string, needs: readonly AddonNeed[], settings: AddonSettings): Issue[] {
    return needs
        .filter((n) => !settings[n.addon].enabled)
        .map((n) => ({ path, input: true, message: `${what} needs ${ADDONS[n.addon].title}: ${n.for}. Set mlserve:addons.${n.addon}.enabled to true, or ${instead}` }));
}

