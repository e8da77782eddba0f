/**
 * The model-optimization run as pure data: which variants its methods produce,
 * which KServe's Hugging Face runtime serves as measured, the Job that runs
 * optimize/ (its MLSERVE_OPT_* contract), and the S3 permissions of the Job
 * (write its run's prefix) and of the models it serves (read it).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { OptimizationConfig } from "../../../infra/config/optimization";
import type { PolicyDocument } from "../../platform/cluster/iam";
import { GPU_NODE_SELECTOR, GPU_TOLERATIONS } from "../../platform/cluster/nodeGroupSpec";
import { runJob } from "../runJob";

export const OPTIMIZATION_NAMESPACE = "optimization";
/** Service account of the Job (writes models/<run id>/). */
export const OPTIMIZER_SERVICE_ACCOUNT = "optimizer";
/** Service account the optimized InferenceServices run as, in the models namespace (reads models/<run id>/). */
export const OPTIMIZED_MODELS_SERVICE_ACCOUNT = "optimized-models";
/** The steps optimize/ knows (mlserve_optimize.pipeline.STEPS). */
export const OPTIMIZATION_STEPS = ["distill", "ffn", "heads", "sparse", "int8"] as const;

/** Every variant a run saves: the baseline, then each prefix of each chain (`distill`, `distill-ffn`, ...). */
export function variantsOf(methods: readonly string[]): string[] {
    const names = new Set<string>(["baseline"]);
    for (const chain of methods) {
        const steps = chain.split("+");
        steps.forEach((_, i) => names.add(steps.slice(0, i + 1).join("-")));
    }
    return [...names];
}

/**
 * KServe's stock Hugging Face runtime loads a saved variant as it was measured
 * unless heads were pruned (it loads them zero-padded: same answers, no speed-up)
 * or int8 applied (that needs the optimizer's own loader).
 */
export function servableAsMeasured(variant: string): boolean {
    const steps = variant.split("-");
    return !steps.includes("heads") && !steps.includes("int8");
}

/** The variants to serve: as configured, or every servable one. */
export function servedVariants(o: Pick<OptimizationConfig, "methods" | "serve">): string[] {
    return o.serve ?? variantsOf(o.methods).filter(servableAsMeasured);
}

/** S3 prefix of a run (no leading slash, trailing slash). */
export function runPrefix(runId: string): string {
    return `models/${runId}/`;
}

/** The Job may write its own run's prefix and nothing else. */
export function optimizerPolicy(bucketArn: string, runId: string): PolicyDocument {
    return { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["s3:PutObject", "s3:AbortMultipartUpload"], Resource: `${bucketArn}/${runPrefix(runId)}*` }] };
}

/**
 * The served variants may read the run's prefix. KServe's storage initializer
 * calls HeadBucket (no s3:prefix in its request) before listing the prefix,
 * hence IfExists on the prefix condition.
 */
export function optimizedModelsPolicy(bucketArn: string, runId: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            { Effect: "Allow", Action: ["s3:GetObject"], Resource: `${bucketArn}/${runPrefix(runId)}*` },
            { Effect: "Allow", Action: ["s3:ListBucket"], Resource: bucketArn, Condition: { StringLikeIfExists: { "s3:prefix": [`${runPrefix(runId)}*`] } } },
        ],
    };
}

export interface OptimizerJobRefs {
    runId: string;
    image: pulumi.Input<string>;
    /** `s3://<bucket>/models/<run id>/`: the optimizer refuses any other prefix. */
    output: pulumi.Input<string>;
    /** Suspended Jobs keep no pods (parked stack); un-parking resumes an unfinished run. */
    suspend: boolean;
}

/**
 * One Job per run id (`optimize-<run id>`): Jobs are immutable, so a new run is
 * a new object.
 */
export function optimizerJob(o: OptimizationConfig, r: OptimizerJobRefs): ReturnType<typeof runJob> {
    const gpu = o.device === "gpu";
    const env: Record<string, pulumi.Input<string>> = {
        RUN_ID: r.runId,
        OUTPUT: r.output,
        TEACHER: o.teacher,
        STUDENT: o.student,
        METHODS: o.methods.join(","),
        TARGET_SPARSITY: String(o.targetSparsity),
        HEAD_FRACTION: String(o.headFraction),
        FFN_FRACTION: String(o.ffnFraction),
        TRAIN_STEPS: String(o.trainSteps),
        RECOVERY_STEPS: String(o.recoverySteps),
        DEVICE: gpu ? "cuda" : "cpu",
    };
    return runJob({
        name: `optimize-${r.runId}`,
        namespace: OPTIMIZATION_NAMESPACE,
        app: "optimizer",
        runId: r.runId,
        serviceAccountName: OPTIMIZER_SERVICE_ACCOUNT,
        backoffLimit: 1,
        suspend: r.suspend,
        pod: gpu ? { nodeSelector: { ...GPU_NODE_SELECTOR }, tolerations: GPU_TOLERATIONS.map((t) => ({ ...t })) } : {},
        container: {
            name: "optimize",
            image: r.image,
            env: Object.entries(env).map(([k, value]) => ({ name: `MLSERVE_OPT_${k}`, value })),
            resources: {
                requests: { cpu: o.cpuRequest, memory: o.memoryRequest, ...(gpu ? { "nvidia.com/gpu": "1" } : {}) },
                limits: { memory: o.memoryLimit, ...(gpu ? { "nvidia.com/gpu": "1" } : {}) },
            },
        },
        // Hub cache and work directory.
        tmpSize: "20Gi",
    });
}
