/**
 * `mlserve:benchmark`: a load-test run in the stack (loadtest/ image): either a
 * campaign that walks the LLM variants one at a time on the GPU node, or one Job
 * against the selected targets. Results go to s3://<artifacts>/benchmarks/<run id>/.
 */
import { z } from "zod";
import { dnsLabel, pinnedImage, quantity } from "../../components/validators";
import { rule, validItems, type Check, type Issue } from "./rules";
import { DEFAULT_VARIANTS } from "./fleet";

export const benchmarkSchema = z.strictObject({
    enabled: z.boolean().default(false),
    /** A new run id starts a new run (new Jobs, new results prefix); a DNS label. */
    runId: dnsLabel(24).optional(),
    /** Load profiles in turn: seed (locust, 100 users, the reference's method), rate (open loop), sweep (to saturation). */
    profiles: z.array(z.enum(["seed", "rate", "sweep"])).min(1).default(["seed"]),
    /** Walk the LLM variants one at a time (scale to 1, wait Ready, measure, scale to 0); false: one Job on the targets as they run. */
    campaign: z.boolean().default(true),
    /** Variants the campaign walks (default: every mlserve:variants entry, in order). */
    variants: z.array(z.string().min(1)).optional(),
    /** Without a campaign: run.py --select targets (variant:<name>, kserve:<model>, graph:<name>, modelApi, asyncGateway); default: what runs. */
    targets: z.array(z.string().regex(/^(variant:|kserve:|graph:)[a-z0-9-]+$|^(modelApi|asyncGateway)$/, "must be variant:<name>, kserve:<model>, graph:<name>, modelApi or asyncGateway")).optional(),
    /** Text-to-SQL rows the LLM users send: the data set from the Hub (in the cluster), or a path in the image. */
    dataset: z.string().min(1).default("hf:gretelai/synthetic_text_to_sql"),
    /** Seconds per run (default: 300 for seed, 60 for rate and each sweep step). */
    durationSeconds: z.int().min(5).max(7200).optional(),
    users: z.int().min(1).max(10_000).default(100),
    spawnRate: z.int().min(1).max(1000).default(10),
    /** Requests/s of open-loop runs. */
    rate: z.number().positive().max(10_000).default(10),
    /** Sweep steps, requests/s. */
    rates: z.array(z.number().positive().max(10_000)).min(1).default([1, 2, 5, 10, 20, 50]),
    maxNewTokens: z.int().min(1).max(8192).default(128),
    /** locust worker processes in the Job's pod (more load from one pod). */
    locustProcesses: z.int().min(0).max(64).default(0),
    cpuRequest: quantity.default("2"),
    memoryRequest: quantity.default("4Gi"),
    memoryLimit: quantity.default("8Gi"),
    /** A pinned image; without one the stack builds loadtest/Dockerfile into ECR. */
    image: pinnedImage.optional(),
});

export const benchmark = benchmarkSchema.prefault({});
const variantNames = validItems(z.object({ name: z.string(), replicas: z.int().default(0), autoscaling: z.object({ enabled: z.boolean().default(false) }).prefault({}) })).prefault(DEFAULT_VARIANTS);

export const benchmarkRules: Check[] = [
    rule({ benchmark, variants: variantNames }, ({ benchmark: b, variants }): Issue[] => {
        if (!b.enabled) return [];
        const issues: Issue[] = [];
        if (!b.runId) issues.push({ path: ["benchmark", "runId"], message: "is required when a benchmark is enabled: a DNS label starting with a letter, such as run-2026-12-01 (a new id starts a new run)" });
        const names = variants.map((v) => v.value.name);
        (b.variants ?? []).forEach((n, i) => {
            if (!names.includes(n)) issues.push({ path: ["benchmark", "variants", i], input: n, message: `no variant named "${n}" in mlserve:variants (variants: ${names.join(", ") || "none"})` });
        });
        if (b.campaign && names.length === 0) issues.push({ path: ["benchmark", "campaign"], input: true, message: "a campaign walks the LLM variants, and mlserve:variants is empty" });
        // KEDA holds an autoscaled variant at its minimum: it would come back while another is measured.
        const walked = new Set(b.variants ?? names);
        variants
            .filter((v) => b.campaign && walked.has(v.value.name) && v.value.autoscaling.enabled && v.value.replicas > 0)
            .forEach((v) =>
                issues.push({
                    path: ["variants", v.index, "autoscaling", "enabled"],
                    input: true,
                    message: `the benchmark campaign walks variant ${v.value.name}, but KEDA keeps it at ${v.value.replicas} replica(s) and would bring it back while another variant holds the GPU: set its replicas to 0, or leave it out of mlserve:benchmark.variants`,
                }),
            );
        if (b.campaign && b.targets) issues.push({ path: ["benchmark", "targets"], message: "a campaign measures the variants one at a time; targets apply to a single run (campaign: false)" });
        return issues;
    }),
];

export type BenchmarkConfig = z.infer<typeof benchmarkSchema>;
