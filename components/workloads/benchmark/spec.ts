/**
 * The in-stack benchmark as pure data: the Job that runs the load-test image
 * (loadtest/run.py, or loadtest/campaign.py walking the LLM variants), its S3
 * permission (write its run's prefix) and the RBAC a campaign needs (scale the
 * LLM Deployments, nothing else).
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { BenchmarkConfig } from "../../../infra/config/benchmark";
import type { PolicyDocument } from "../../platform/cluster/iam";
import { LLM_NAMESPACE } from "../llm/spec";
import { runJob } from "../runJob";

export const BENCHMARK_NAMESPACE = "benchmark";
export const BENCHMARK_SERVICE_ACCOUNT = "benchmark";
/** Where a run's targets (the stack outputs) are mounted. */
const TARGETS_DIR = "/config";

/** S3 prefix of a run. */
export function benchmarkPrefix(runId: string): string {
    return `benchmarks/${runId}/`;
}

/** The Job may write its own run's results, and list that prefix (run.py refuses to overwrite a run), nothing else. */
export function benchmarkPolicy(bucketArn: string, runId: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            { Effect: "Allow", Action: ["s3:PutObject", "s3:AbortMultipartUpload"], Resource: `${bucketArn}/${benchmarkPrefix(runId)}*` },
            { Effect: "Allow", Action: ["s3:ListBucket"], Resource: bucketArn, Condition: { StringLike: { "s3:prefix": [`${benchmarkPrefix(runId)}*`] } } },
        ],
    };
}

/**
 * A campaign scales the LLM Deployments, one at a time: exactly the calls
 * loadtest/campaign.py makes (read and list Deployments, patch their scale), in
 * their namespace only.
 */
export function campaignRole(): k8s.rbac.v1.RoleArgs & { metadata: { name: string; namespace: string } } {
    return {
        metadata: { name: "benchmark-campaign", namespace: LLM_NAMESPACE },
        rules: [
            { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list"] },
            { apiGroups: ["apps"], resources: ["deployments/scale"], verbs: ["patch"] },
        ],
    };
}

/** run.py's arguments for a run of this config (the campaign adds --select per variant). */
export function runArgs(b: BenchmarkConfig, runId: string, out: string): string[] {
    return [
        "--targets", `${TARGETS_DIR}/outputs.json`,
        "--profile", b.profiles.join(","),
        "--run-id", runId,
        "--out", out,
        "--dataset", b.dataset,
        ...(b.durationSeconds ? ["--duration", String(b.durationSeconds)] : []),
        "--users", String(b.users),
        "--spawn-rate", String(b.spawnRate),
        "--rate", String(b.rate),
        "--rates", b.rates.join(","),
        "--max-new-tokens", String(b.maxNewTokens),
        "--locust-processes", String(b.locustProcesses),
        ...(!b.campaign && b.targets ? ["--select", b.targets.join(",")] : []),
    ];
}

export interface BenchmarkJobRefs {
    runId: string;
    image: pulumi.Input<string>;
    /** s3://<bucket>/benchmarks/<run id> */
    out: pulumi.Input<string>;
    /** ConfigMap holding outputs.json (the stack outputs the targets come from). */
    targetsConfigMap: string;
    /** Variants a campaign walks. */
    variants: string[];
    /** Suspended Jobs keep no pods (parked stack); a Job's suspend can change, so un-parking resumes it. */
    suspend: boolean;
}

/**
 * One Job per run id: `campaign-<run id>` (loadtest/campaign.py around run.py)
 * or `bench-<run id>` (run.py). Pulumi does not wait for it (hours).
 */
export function benchmarkJob(b: BenchmarkConfig, r: BenchmarkJobRefs): ReturnType<typeof runJob> {
    const args = runArgs(b, r.runId, "OUT");
    const withOut = (a: string[]) => a.map((x) => (x === "OUT" ? r.out : x));
    const command = b.campaign
        ? ["python3", "/app/loadtest/campaign.py", "--namespace", LLM_NAMESPACE, "--variants", r.variants.join(","), "--ready-timeout", "1800", "--", ...withOut(args)]
        : ["python3", "/app/loadtest/run.py", ...withOut(args)];
    return runJob({
        name: `${b.campaign ? "campaign" : "bench"}-${r.runId}`,
        namespace: BENCHMARK_NAMESPACE,
        app: "benchmark",
        runId: r.runId,
        serviceAccountName: BENCHMARK_SERVICE_ACCOUNT,
        backoffLimit: 0,
        suspend: r.suspend,
        // A campaign's scale-back on SIGTERM retries for up to ~75 s: never leave two variants on the GPU.
        pod: { terminationGracePeriodSeconds: 90 },
        container: {
            name: "loadtest",
            image: r.image,
            command,
            resources: { requests: { cpu: b.cpuRequest, memory: b.memoryRequest }, limits: { memory: b.memoryLimit } },
            volumeMounts: [{ name: "targets", mountPath: TARGETS_DIR, readOnly: true }],
        },
        volumes: [{ name: "targets", configMap: { name: r.targetsConfigMap } }],
        tmpSize: "10Gi",
    });
}
