/**
 * The stack configuration: one zod schema, the single source of truth. Every
 * `mlserve:<key>` in Pulumi.<stack>.yaml is a top-level key of `stackConfigSchema`;
 * the TypeScript types are inferred from it and defaults live here only.
 */
import { z } from "zod";
import {
    GPU_INSTANCE_TYPE_NAMES,
    isGpuInstanceType,
    looksLikeAcceleratedInstance,
} from "../../components/cluster/instanceTypes";
import { DEFAULT_KUBERNETES_VERSION, SUPPORTED_KUBERNETES_VERSIONS } from "../../components/versions";
import { GPU_INSTANCE_TYPES } from "../../components/cluster/instanceTypes";
import { variantErrors } from "../../components/llm/engines";
import { graphErrors, modelErrors, type KServeGraphSettings, type KServeModelSettings } from "../../components/kserve/spec";
import { fleetSchema, variantSchema, variantsSchema, type VariantConfig } from "./fleetSchema";
import { asyncSchema } from "./asyncSchema";
import { kserveGraphsSchema, kserveModelSchema, kserveModelsSchema } from "./kserveSchema";
import { lifecycleSchema } from "./lifecycleSchema";
import { addonsSchema, modelApiSchema } from "./platformSchema";

/** Unknown keys are errors (reported with a "did you mean" by load.ts). */
const strictObject = z.strictObject;

const ipv4Cidr = z.string().refine(
    (s) => {
        const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
        return m !== null && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
    },
    { message: "must be an IPv4 CIDR such as 10.0.0.0/16 (octets <= 255, prefix <= 32)" },
);

/** AWS region, e.g. us-east-1, eu-west-2, ap-southeast-1. */
export const awsRegion = z
    .string()
    .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "must be an AWS region such as us-east-1");

const CLOUDWATCH_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

const controlPlaneLogType = z.enum(["api", "audit", "authenticator", "controllerManager", "scheduler"]);

// Kubernetes label rules (qualified name, optional DNS prefix), as EKS node groups enforce them.
const labelKey = z
    .string()
    .regex(
        /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
        "must be a Kubernetes label key: [prefix/]name, name up to 63 alphanumerics, '-', '_' or '.'",
    )
    .refine((k) => !/(^|\.)(kubernetes\.io|k8s\.io)\//.test(k), {
        message: "kubernetes.io/ and k8s.io/ label prefixes are reserved; use your own prefix such as mlserve.io/",
    });
const labelValue = z
    .string()
    .regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, "must be a Kubernetes label value: up to 63 alphanumerics, '-', '_' or '.'");

const instanceTypeName = z
    .string()
    .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "must be an EC2 instance type such as m6i.large");

export const clusterSchema = strictObject({
    /** Kubernetes minor version of the control plane; each has a pinned add-on row in components/versions.ts. */
    kubernetesVersion: z.enum(SUPPORTED_KUBERNETES_VERSIONS).default(DEFAULT_KUBERNETES_VERSION),
    /** Availability zones the VPC spans (one public and one private subnet each). */
    availabilityZones: z.int().min(2, "EKS needs subnets in at least 2 AZs").max(4).default(2),
    /** VPC address range; split into /20 (or smaller) subnets per AZ. */
    vpcCidr: ipv4Cidr
        .refine((s) => {
            const prefix = Number(s.split("/")[1]);
            return prefix >= 16 && prefix <= 20;
        }, { message: "VPC prefix must be between /16 and /20" })
        .default("10.0.0.0/16"),
    /** "single" NAT gateway (cheap, one AZ is a single point of failure) or one "perAz" (production). */
    natGateways: z.enum(["single", "perAz"]).default("single"),
    /** Expose the Kubernetes API on the internet (restricted by publicAccessCidrs). */
    endpointPublicAccess: z.boolean().default(true),
    /** Expose the Kubernetes API inside the VPC (nodes then talk to it privately). */
    endpointPrivateAccess: z.boolean().default(true),
    /** CIDRs allowed to reach the public API endpoint. */
    publicAccessCidrs: z.array(ipv4Cidr).min(1).default(["0.0.0.0/0"]),
    /** Control-plane log types sent to CloudWatch. */
    logTypes: z.array(controlPlaneLogType).default(["api", "audit", "authenticator"]),
    /** Retention of the control-plane log group (a CloudWatch-allowed value). */
    logRetentionDays: z
        .int()
        .refine((d) => (CLOUDWATCH_RETENTION_DAYS as readonly number[]).includes(d), {
            message: `must be one of CloudWatch's retention values: ${CLOUDWATCH_RETENTION_DAYS.join(", ")}`,
        })
        .default(30),
    /** Waiting period before the secrets-encryption KMS key is deleted after destroy. */
    kmsDeletionWindowDays: z.int().min(7).max(30).default(7),
    /** Refuse `pulumi destroy` of the EKS cluster until this is turned off. */
    deletionProtection: z.boolean().default(false),
    /** IAM role ARNs granted cluster-admin through EKS access entries (the deploying identity always is). */
    adminRoleArns: z
        .array(z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, "must be an IAM role ARN such as arn:aws:iam::123456789012:role/platform-admin"))
        .default([]),
});

/** Fields shared by both node groups. */
function nodeGroupShape(defaults: { instanceType: string; minSize: number; desiredSize: number; maxSize: number; diskSizeGiB: number }) {
    return {
        instanceType: instanceTypeName.default(defaults.instanceType),
        /** ON_DEMAND, or SPOT (cheaper, can be reclaimed with two minutes' notice). */
        capacityType: z.enum(["ON_DEMAND", "SPOT"]).default("ON_DEMAND"),
        minSize: z.int().min(0).default(defaults.minSize),
        desiredSize: z.int().min(0).default(defaults.desiredSize),
        maxSize: z.int().min(1).max(100).default(defaults.maxSize),
        /** Root volume size; on GPU nodes model weights and container images live here. */
        diskSizeGiB: z.int().min(20).max(16384).default(defaults.diskSizeGiB),
        /** Extra node labels. */
        labels: z.record(labelKey, labelValue).default({}),
    };
}

/** min <= desired <= max, reported on the field that breaks it. Runs even when other fields are invalid. */
function sizeOrder(v: { minSize?: unknown; desiredSize?: unknown; maxSize?: unknown }, ctx: z.RefinementCtx) {
    const { minSize: min, desiredSize: desired, maxSize: max } = v;
    if (typeof min === "number" && typeof max === "number" && min > max) {
        ctx.addIssue({ code: "custom", path: ["minSize"], input: min, message: `must be <= maxSize (${max})` });
    }
    if (typeof desired === "number" && typeof min === "number" && desired < min) {
        ctx.addIssue({ code: "custom", path: ["desiredSize"], input: desired, message: `must be >= minSize (${min})` });
    }
    if (typeof desired === "number" && typeof max === "number" && desired > max) {
        ctx.addIssue({ code: "custom", path: ["desiredSize"], input: desired, message: `must be <= maxSize (${max})` });
    }
}

const always = { when: () => true };

export const systemNodesSchema = strictObject({
    // m6i.xlarge: the add-ons alone request about 5 vCPU (see the plan's capacity table); 2× m6i.large (3.9 allocatable) cannot hold them.
    ...nodeGroupShape({ instanceType: "m6i.xlarge", minSize: 1, desiredSize: 2, maxSize: 3, diskSizeGiB: 50 }),
})
    .superRefine((v, ctx) => {
        sizeOrder(v, ctx);
        if (typeof v.instanceType === "string" && looksLikeAcceleratedInstance(v.instanceType)) {
            ctx.addIssue({
                code: "custom",
                path: ["instanceType"],
                input: v.instanceType,
                message: "is an accelerated instance type; system nodes run CPU add-ons, put GPU capacity in mlserve:gpuNodes",
            });
        }
        if (typeof v.minSize === "number" && v.minSize < 1) {
            ctx.addIssue({
                code: "custom",
                path: ["minSize"],
                input: v.minSize,
                message: "must be >= 1: CoreDNS and the platform add-ons need a CPU node",
            });
        }
    }, always);

export const gpuNodesSchema = strictObject({
    ...nodeGroupShape({ instanceType: "g5.4xlarge", minSize: 0, desiredSize: 1, maxSize: 2, diskSizeGiB: 200 }),
    /** With Cluster Autoscaler: remove a GPU node this long after its last GPU pod left (GPUs bill by the second). */
    scaleDownIdleAfter: z.string().regex(/^([1-9]\d?m|[1-9]h)$/, "must be minutes or hours such as 10m, 30m or 1h (1m to 9h)").default("10m"),
})
    .superRefine((v, ctx) => {
        sizeOrder(v, ctx);
        if (typeof v.instanceType === "string" && !isGpuInstanceType(v.instanceType)) {
            ctx.addIssue({
                code: "custom",
                path: ["instanceType"],
                input: v.instanceType,
                message: `is not a known GPU instance type; allowed: ${GPU_INSTANCE_TYPE_NAMES.join(", ")}`,
            });
        }
    }, always);

/** Every `mlserve:*` key. Add a new area's config here and its type follows. */
export const stackConfigSchema = strictObject({
    cluster: clusterSchema.prefault({}),
    systemNodes: systemNodesSchema.prefault({}),
    gpuNodes: gpuNodesSchema.prefault({}),
    addons: addonsSchema.prefault({}),
    modelApi: modelApiSchema.prefault({}),
    variants: variantsSchema,
    fleet: fleetSchema.prefault({}),
    kserveModels: kserveModelsSchema,
    kserveGraphs: kserveGraphsSchema,
    async: asyncSchema.prefault({}),
    // Prefault with no owner: a missing section reports the missing owner, by its key path.
    lifecycle: lifecycleSchema.prefault({} as z.input<typeof lifecycleSchema>),
    /** Extra AWS tags on every taggable resource. */
    tags: z.record(z.string().min(1).max(128), z.string().max(256)).default({}),
})
    .superRefine((v, ctx) => {
        const modelApi = v.modelApi as { enabled?: unknown } | undefined;
        const metricsServer = (v.addons as { metricsServer?: { enabled?: unknown } } | undefined)?.metricsServer;
        if (modelApi?.enabled !== false && metricsServer?.enabled === false) {
            ctx.addIssue({
                code: "custom",
                path: ["modelApi", "enabled"],
                input: true,
                message: "the model API's HorizontalPodAutoscaler needs metrics-server for CPU metrics: set mlserve:addons.metricsServer.enabled to true, or turn the model API off",
            });
        }
        checkVariants(v as Record<string, unknown>, ctx);
        checkKServe(v as Record<string, unknown>, ctx);
        checkAsync(v as Record<string, unknown>, ctx);
        const c = v.cluster as Partial<z.infer<typeof clusterSchema>> | undefined;
        if (c && c.endpointPublicAccess === false && c.endpointPrivateAccess === false) {
            ctx.addIssue({
                code: "custom",
                path: ["cluster", "endpointPrivateAccess"],
                input: false,
                message: "the API must be reachable somehow: enable endpointPublicAccess or endpointPrivateAccess",
            });
        }
    }, always);

/** Fleet rules that need other keys: engine/GPU compatibility, the GPU budget, autoscaling's add-ons. */
function checkVariants(v: Record<string, unknown>, ctx: z.RefinementCtx) {
    const variants = Array.isArray(v.variants) ? (v.variants as Partial<VariantConfig>[]) : [];
    const gpuNodes = (v.gpuNodes ?? {}) as { instanceType?: unknown; maxSize?: unknown };
    const gpu = typeof gpuNodes.instanceType === "string" && gpuNodes.instanceType in GPU_INSTANCE_TYPES
        ? GPU_INSTANCE_TYPES[gpuNodes.instanceType as keyof typeof GPU_INSTANCE_TYPES]
        : undefined;
    const addons = (v.addons ?? {}) as Record<string, { enabled?: unknown } | undefined>;
    const seen = new Map<string, number>();
    let runningGpus = 0;
    variants.forEach((variant, i) => {
        if (typeof variant !== "object" || variant === null) return;
        const at = (field: string) => ["variants", i, field];
        if (typeof variant.name === "string") {
            if (seen.has(variant.name)) {
                ctx.addIssue({ code: "custom", path: at("name"), input: variant.name, message: `duplicates variants[${seen.get(variant.name)}]; variant names must be unique` });
            }
            seen.set(variant.name, i);
        }
        // Engine rules need a complete entry; field errors are reported by the schema.
        const complete = variantSchema.safeParse(variant);
        if (complete.success) {
            for (const e of variantErrors(complete.data, gpu)) {
                ctx.addIssue({ code: "custom", path: at(e.field), input: (variant as Record<string, unknown>)[e.field], message: e.message });
            }
        }
        const gpus = typeof variant.gpus === "number" ? variant.gpus : 1;
        if (gpu && gpus > gpu.gpus) {
            ctx.addIssue({ code: "custom", path: at("gpus"), input: gpus, message: `a ${String(gpuNodes.instanceType)} node has ${gpu.gpus} GPU(s); a server cannot span nodes` });
        }
        if (typeof variant.replicas === "number") runningGpus += variant.replicas * gpus;
        const scaling = variant.autoscaling as { enabled?: unknown; maxReplicas?: unknown } | undefined;
        if (scaling?.enabled === true) {
            for (const needed of ["keda", "observability"]) {
                if (addons[needed]?.enabled === false) {
                    ctx.addIssue({
                        code: "custom",
                        path: [...at("autoscaling"), "enabled"],
                        input: true,
                        message: `queue-depth autoscaling needs ${needed === "keda" ? "KEDA" : "Prometheus (observability)"}: set mlserve:addons.${needed}.enabled to true, or turn autoscaling off`,
                    });
                }
            }
            if (typeof scaling.maxReplicas === "number" && typeof variant.replicas === "number" && scaling.maxReplicas < variant.replicas) {
                ctx.addIssue({ code: "custom", path: [...at("autoscaling"), "maxReplicas"], input: scaling.maxReplicas, message: `must be >= replicas (${variant.replicas}), the minimum` });
            }
        }
    });
    const capacity = gpu && typeof gpuNodes.maxSize === "number" ? gpu.gpus * gpuNodes.maxSize : undefined;
    if (capacity !== undefined && runningGpus > capacity) {
        ctx.addIssue({
            code: "custom",
            path: ["variants"],
            input: `${runningGpus} GPUs`,
            message: `the running variants need ${runningGpus} GPU(s) but mlserve:gpuNodes allows at most ${capacity} (maxSize ${String(gpuNodes.maxSize)} × ${gpu!.gpus}); park variants (replicas: 0) or raise mlserve:gpuNodes.maxSize`,
        });
    }
}

/** KServe rules: each model against Knative/KServe admission, graphs against the models, and the add-on itself. */
function checkKServe(v: Record<string, unknown>, ctx: z.RefinementCtx) {
    const models = Array.isArray(v.kserveModels) ? (v.kserveModels as Partial<KServeModelSettings>[]) : [];
    const graphs = Array.isArray(v.kserveGraphs) ? (v.kserveGraphs as Partial<KServeGraphSettings>[]) : [];
    const kserve = ((v.addons ?? {}) as { kserve?: { enabled?: unknown; deploymentMode?: unknown } }).kserve;
    const mode = kserve?.deploymentMode === "Standard" ? "Standard" : "Knative";
    if (kserve?.enabled === false && (models.length > 0 || graphs.length > 0)) {
        ctx.addIssue({
            code: "custom",
            path: ["kserveModels"],
            input: `${models.length} models`,
            message: "KServe models need the KServe add-on: set mlserve:addons.kserve.enabled to true, or set mlserve:kserveModels and mlserve:kserveGraphs to []",
        });
    }
    const seen = new Set<string>();
    models.forEach((m, i) => {
        if (typeof m?.name === "string") {
            if (seen.has(m.name)) ctx.addIssue({ code: "custom", path: ["kserveModels", i, "name"], input: m.name, message: "duplicates another model name" });
            seen.add(m.name);
        }
        // Field-level errors (wrong types) are reported by the schema; rules need a complete model.
        const parsed = kserveModelSchema.safeParse(m);
        if (parsed.success) {
            for (const e of modelErrors(parsed.data, mode)) {
                ctx.addIssue({ code: "custom", path: ["kserveModels", i, ...e.field.split(".")], input: (m as Record<string, unknown>)[e.field], message: e.message });
            }
        }
    });
    const complete = models.filter((m) => typeof m?.name === "string" && typeof m?.protocol === "string") as KServeModelSettings[];
    graphs.forEach((g, i) => {
        if (typeof g?.name === "string" && seen.has(g.name)) {
            ctx.addIssue({ code: "custom", path: ["kserveGraphs", i, "name"], input: g.name, message: "is also a model name; graph and model Services would collide" });
        }
        if (Array.isArray(g?.steps) && typeof g.routerType === "string") {
            for (const e of graphErrors(g as KServeGraphSettings, complete)) {
                const [field, ...rest] = e.field.split(".");
                const m = /^(\w+)\[(\d+)\]$/.exec(field!);
                const path = m ? [m[1]!, Number(m[2]), ...rest] : [field!, ...rest];
                ctx.addIssue({ code: "custom", path: ["kserveGraphs", i, ...path], input: undefined, message: e.message });
            }
        }
    });
}

/** The async path needs KEDA (worker scaling) and targets existing variants. */
function checkAsync(v: Record<string, unknown>, ctx: z.RefinementCtx) {
    const a = v.async as { enabled?: unknown; variants?: unknown; worker?: { minReplicas?: unknown; maxReplicas?: unknown }; gateway?: { minReplicas?: unknown; maxReplicas?: unknown } } | undefined;
    if (!a || a.enabled === false) return;
    const addons = (v.addons ?? {}) as Record<string, { enabled?: unknown } | undefined>;
    if (addons.keda?.enabled === false) {
        ctx.addIssue({ code: "custom", path: ["async", "enabled"], input: true, message: "the async worker is scaled by KEDA: set mlserve:addons.keda.enabled to true, or turn the async path off" });
    }
    if (addons.metricsServer?.enabled === false) {
        ctx.addIssue({ code: "custom", path: ["async", "enabled"], input: true, message: "the async gateway's HorizontalPodAutoscaler needs metrics-server: set mlserve:addons.metricsServer.enabled to true, or turn the async path off" });
    }
    const names = Array.isArray(v.variants) ? (v.variants as Array<{ name?: unknown }>).map((x) => x?.name).filter((n): n is string => typeof n === "string") : [];
    if (Array.isArray(a.variants)) {
        (a.variants as unknown[]).forEach((n, i) => {
            if (typeof n === "string" && !names.includes(n)) {
                ctx.addIssue({ code: "custom", path: ["async", "variants", i], input: n, message: `no variant named "${n}" in mlserve:variants (variants: ${names.join(", ") || "none"})` });
            }
        });
    } else if (names.length === 0) {
        ctx.addIssue({ code: "custom", path: ["async", "enabled"], input: true, message: "the async path targets LLM variants, and mlserve:variants is empty" });
    }
    for (const part of ["worker", "gateway"] as const) {
        const p = a[part];
        if (p && typeof p.minReplicas === "number" && typeof p.maxReplicas === "number" && p.minReplicas > p.maxReplicas) {
            ctx.addIssue({ code: "custom", path: ["async", part, "minReplicas"], input: p.minReplicas, message: `must be <= maxReplicas (${p.maxReplicas})` });
        }
    }
}

export type StackConfigInput = z.input<typeof stackConfigSchema>;
/** Validated, defaulted `mlserve:*` config. */
export type MlserveConfig = z.infer<typeof stackConfigSchema>;
export type ClusterConfig = z.infer<typeof clusterSchema>;
export type NodeGroupConfig = z.infer<typeof gpuNodesSchema>;

/** The whole validated stack configuration the program is built from. */
export interface StackConfig extends MlserveConfig {
    /** Pulumi project and stack names (`mlserve`, `dev`). */
    project: string;
    stack: string;
    /** `aws:region`. */
    region: string;
    /** Values held only as Pulumi secrets (never in the plain config). */
    secrets: { hfToken?: import("@pulumi/pulumi").Output<string> };
}

/** The `mlserve:` keys the schema knows, for the unknown-key check. */
export const MLSERVE_KEYS = Object.keys(stackConfigSchema.shape);
