/**
 * Config of the platform add-ons (`mlserve:addons`) and the HPA-scaled CPU
 * model API (`mlserve:modelApi`). Part of the stack schema in schema.ts.
 */
import { z } from "zod";
import { ADDON_NAMES, describeMissing, missingDependencies, type AddonName } from "../../components/addons/catalog";
import { IMAGES } from "../../components/versions";

/** A Go duration as Knative reads it: 30s, 2m, 1h. */
function duration(min: number, max: number, what: string) {
    const seconds = (s: string) => {
        const m = /^(\d+)(s|m|h)$/.exec(s);
        return m ? Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as "s" | "m" | "h"] : NaN;
    };
    return z.string().refine((s) => seconds(s) >= min && seconds(s) <= max, {
        message: `must be a duration such as 30s, 2m or 1h, between ${min}s and ${max}s (${what})`,
    });
}

const enabled = { enabled: z.boolean().default(true) };

export const addonsSchema = z
    .strictObject({
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
                scaleToZeroGracePeriod: duration(6, 3600, "Knative scale-to-zero-grace-period").default("30s"),
                /** Averaging window of the autoscaler's stable mode. */
                stableWindow: duration(6, 3600, "Knative stable-window: 6s to 1h").default("60s"),
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
    })
    .superRefine((v, ctx) => {
        const on = Object.fromEntries(ADDON_NAMES.map((a) => [a, (v[a] as { enabled?: unknown } | undefined)?.enabled !== false])) as Record<AddonName, boolean>;
        const mode = v.kserve?.deploymentMode === "Standard" ? "Standard" : "Knative";
        for (const m of missingDependencies(on, { kserveDeploymentMode: mode })) {
            ctx.addIssue({ code: "custom", path: [m.addon, "enabled"], input: true, message: describeMissing(m) });
        }
    }, { when: () => true });

/** A container image reference with an explicit tag or digest, never `latest`. */
export const pinnedImage = z
    .string()
    .refine((s) => /@sha256:[0-9a-f]{64}$/.test(s) || /:[\w][\w.-]{0,127}$/.test(s.split("/").pop() ?? ""), {
        message: "must pin a tag or digest, e.g. <registry>/<image>:<version>",
    })
    .refine((s) => !/:latest$/.test(s), { message: "must not use the floating tag latest; pin a version" });

const quantity = z.string().regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti)?$/, "must be a Kubernetes quantity such as 500m, 1, 2Gi");

export const modelApiSchema = z
    .strictObject({
        enabled: z.boolean().default(true),
        /** Inference server image; the default serves a Hugging Face model with KServe's runtime on CPU. */
        image: pinnedImage.default(IMAGES.huggingfaceServer),
        /** Name the model is served under (`/v1/models/<name>:predict`). */
        modelName: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS label").default("distilbert"),
        /** Hugging Face model id, downloaded at start. */
        modelId: z.string().min(1).default("distilbert/distilbert-base-uncased-finetuned-sst-2-english"),
        task: z.enum(["sequence_classification", "token_classification", "fill_mask", "text_embedding"]).default("sequence_classification"),
        minReplicas: z.int().min(1, "an HPA keeps at least 1 replica").default(1),
        maxReplicas: z.int().min(1).max(100).default(10),
        /** HPA target: average CPU utilization as a percentage of the CPU request. */
        targetCpuUtilizationPercent: z.int().min(1).max(100).default(50),
        cpuRequest: quantity.default("1"),
        memoryRequest: quantity.default("2Gi"),
        cpuLimit: quantity.default("2"),
        memoryLimit: quantity.default("4Gi"),
    })
    .superRefine((v, ctx) => {
        if (typeof v.minReplicas === "number" && typeof v.maxReplicas === "number" && v.minReplicas > v.maxReplicas) {
            ctx.addIssue({ code: "custom", path: ["minReplicas"], input: v.minReplicas, message: `must be <= maxReplicas (${v.maxReplicas})` });
        }
    }, { when: () => true });

export type AddonsConfig = z.infer<typeof addonsSchema>;
export type ModelApiConfig = z.infer<typeof modelApiSchema>;
