/** `mlserve:async`: the SQS-backed async inference path (gateway, queue, worker), with what it needs. */
import { z } from "zod";
import { addons, needsAddons } from "./addons";
import { DEFAULT_VARIANTS } from "./fleet";
import { at, rule, validItems, type Check, type Issue, minNotAboveMax } from "./rules";
import { pinnedImage } from "../../components/validators";

const workerReplicas = {
    /** 0 = scale to zero when the queue is empty. */
    minReplicas: z.int().min(0).max(100).default(0),
    maxReplicas: z.int().min(1).max(100).default(4),
};
const gatewayReplicas = { minReplicas: z.int().min(1).max(100).default(2), maxReplicas: z.int().min(1).max(100).default(5) };
const enabled = z.boolean().default(true);
const variants = z.array(z.string().min(1)).optional();

export const asyncSchema = z.strictObject({
    enabled,
    /** Pinned image refs; a missing one is built from services/Dockerfile into ECR by the stack. */
    images: z.strictObject({ gateway: pinnedImage.optional(), worker: pinnedImage.optional() }).prefault({}),
    /** Variants jobs may target (default: every mlserve:variants entry). */
    variants,
    /** Deliveries before a message moves to the dead-letter queue (and its job is reported failed). */
    maxReceiveCount: z.int().min(1).max(100).default(5),
    /** Worst-case model latency per attempt; the queue's visibility timeout is sized from it. */
    modelTimeoutSeconds: z.int().min(1).max(3600).default(120),
    /** Model call attempts per delivery. */
    attempts: z.int().min(1).max(10).default(3),
    messageRetentionDays: z.int().min(1).max(14).default(4),
    /** Results, payloads and job markers expire after this many days (S3 lifecycle). */
    resultRetentionDays: z.int().min(1).max(3650).default(7),
    worker: z
        .strictObject({
            concurrency: z.int().min(1).max(256).default(8),
            ...workerReplicas,
            /** KEDA target: visible + in-flight messages per replica. */
            messagesPerReplica: z.int().min(1).max(1000).default(5),
            /** Messages needed to wake from zero. */
            activationMessages: z.int().min(0).max(1000).default(0),
        })
        .prefault({}),
    gateway: z
        .strictObject({
            ...gatewayReplicas,
            targetCpuUtilizationPercent: z.int().min(1).max(100).default(70),
        })
        .prefault({}),
});

/** The async path's own switch and targets, read by the rules that need the rest of the stack. */
const asyncTargets = z.object({ enabled, variants }).prefault({});
/** Variant names and engines, even when other fields of a variant are broken. */
const variantNames = validItems(z.object({ name: z.string(), engine: z.enum(["tgi", "vllm"]).default("tgi") })).prefault(DEFAULT_VARIANTS);

export const asyncRules: Check[] = [
    at("async", [at("worker", [rule(workerReplicas, minNotAboveMax)]), at("gateway", [rule(gatewayReplicas, minNotAboveMax)])]),
    rule({ async: asyncTargets, addons }, (v) =>
        v.async.enabled
            ? needsAddons(
                  ["async", "enabled"],
                  "the async path",
                  "turn the async path off",
                  [
                      { addon: "keda", for: "it scales the worker on queue depth, from zero" },
                      { addon: "metricsServer", for: "the gateway's HorizontalPodAutoscaler reads CPU metrics from it" },
                  ],
                  v.addons,
              )
            : [],
    ),
    rule({ async: asyncTargets, variants: variantNames }, (v): Issue[] => {
        if (!v.async.enabled) return [];
        const names = v.variants.map((x) => x.value.name);
        // The worker calls TGI's /generate; vLLM serves the OpenAI API instead.
        const tgi = v.variants.filter((x) => x.value.engine === "tgi").map((x) => x.value.name);
        if (v.async.variants === undefined) {
            return tgi.length === 0 ? [{ path: ["async", "enabled"], input: true, message: "the async path targets TGI variants (its worker calls /generate), and mlserve:variants has none" }] : [];
        }
        return v.async.variants.flatMap((n, i): Issue[] => {
            if (!names.includes(n)) return [{ path: ["async", "variants", i], input: n, message: `no variant named "${n}" in mlserve:variants (variants: ${names.join(", ") || "none"})` }];
            if (!tgi.includes(n)) return [{ path: ["async", "variants", i], input: n, message: `"${n}" runs vLLM; the async worker calls TGI's /generate, so it can target only TGI variants (${tgi.join(", ") || "none"})` }];
            return [];
        });
    }),
];

export type AsyncConfig = z.infer<typeof asyncSchema>;
