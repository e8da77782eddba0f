/**
 * `mlserve:addons`: which platform add-ons run and their settings. A set whose
 * add-on lacks what it requires is an error on that add-on's `enabled` key.
 */
import { z } from "zod";
import { ADDON_NAMES, describeMissing, missingDependencies, type AddonName } from "../../components/addons/catalog";
import { rule, type Check } from "./rules";
import { duration } from "./validators";

const enabled = { enabled: z.boolean().default(true) };

export const addonsSchema = z.strictObject({
    /** Adds nodes for pending pods and removes idle ones (the GPU node when every variant is parked). */
    clusterAutoscaler: z.strictObject({ ...enabled }).prefault({}),
    metricsServer: z.strictObject({ ...enabled }).prefault({}),
    certManager: z.strictObject({ ...enabled }).prefault({}),
    keda: z.strictObject({ ...enabled }).prefault({}),
    knative: z
        .strictObject({
            ...enabled,
            /** Let revisions scale to zero pods when idle. */
            scaleToZero: z.boolean().default(true),
            /** How long the last pod stays after traffic stops before scale to zero. */
            scaleToZeroGracePeriod: duration({ min: 6, max: 3600, what: "Knative scale-to-zero-grace-period" }).default("30s"),
            /** Averaging window of the autoscaler's stable mode. */
            stableWindow: duration({ min: 6, max: 3600, what: "Knative stable-window: 6s to 1h" }).default("60s"),
            /** Domain of Knative routes (external URLs are <name>.<namespace>.<domain>, reached with that Host header). */
            domain: z
                .string()
                .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/, "must be a DNS domain such as example.com")
                .default("example.com"),
            /** Kourier's Service type: ClusterIP (no cloud load balancer) or LoadBalancer (an AWS NLB, costs money). */
            ingressServiceType: z.enum(["ClusterIP", "LoadBalancer"]).default("ClusterIP"),
        })
        .prefault({}),
    kserve: z
        .strictObject({
            ...enabled,
            /** Default deployment mode of InferenceServices: Knative (scale to zero) or Standard (plain Deployments + HPA). */
            deploymentMode: z.enum(["Knative", "Standard"]).default("Knative"),
        })
        .prefault({}),
    observability: z
        .strictObject({
            ...enabled,
            /** Prometheus retention, e.g. 15d. */
            prometheusRetention: z.string().regex(/^\d+(h|d|w)$/, "must be a Prometheus retention such as 15d, 72h or 2w").default("15d"),
            /** Size of Prometheus's gp3 volume. */
            prometheusStorageGiB: z.int().min(10).max(2000).default(50),
            grafana: z.boolean().default(true),
            /** NVIDIA DCGM exporter on GPU nodes (GPU utilization and memory). */
            dcgmExporter: z.boolean().default(true),
        })
        .prefault({}),
});

export const addons = addonsSchema.prefault({});

/** Which add-ons are on, by name (what requirement rules read). */
export function enabledAddons(a: AddonsConfig): Record<AddonName, boolean> {
    const on: Record<AddonName, boolean> = { clusterAutoscaler: false, metricsServer: false, certManager: false, keda: false, knative: false, kserve: false, observability: false };
    for (const name of ADDON_NAMES) on[name] = a[name].enabled;
    return on;
}

export const addonsRules: Check[] = [
    rule({ addons }, ({ addons: a }) =>
        missingDependencies(enabledAddons(a), { kserveDeploymentMode: a.kserve.deploymentMode }).map((m) => ({
            path: ["addons", m.addon, "enabled"],
            input: true,
            message: describeMissing(m),
        })),
    ),
];

export type AddonsConfig = z.infer<typeof addonsSchema>;
