/**
 * The benchmark's builders, called directly: run.py's arguments, the whole Job
 * (campaign or single run), the S3 policy on the run's prefix and the campaign's
 * RBAC. Expected values are written out by hand from the config given.
 */
import { describe, expect, it } from "vitest";
import { BENCHMARK_NAMESPACE, BENCHMARK_SERVICE_ACCOUNT, benchmarkJob, benchmarkPolicy, benchmarkPrefix, campaignRole, runArgs } from "../../components/workloads/benchmark/spec";
import { benchmarkSchema } from "../../infra/config/benchmark";

const BUCKET_ARN = "arn:aws:s3:::mlserve-dev-artifacts";
/** Config away from the defaults where a flag carries a value. */
const config = (b: Record<string, unknown> = {}) =>
    benchmarkSchema.parse({ enabled: true, runId: "b1", profiles: ["rate", "sweep"], dataset: "/data/rows.jsonl", users: 40, spawnRate: 4, rate: 2.5, rates: [1, 3], maxNewTokens: 64, locustProcesses: 2, cpuRequest: "3", memoryRequest: "5Gi", memoryLimit: "6Gi", ...b });
const refs = { runId: "b1", image: "registry.example.com/loadtest:1.0.0", out: "s3://mlserve-dev-artifacts/benchmarks/b1", targetsConfigMap: "benchmark-targets", variants: ["fp16", "eetq"], suspend: false };

/** run.py's flags for config(), with --out given. */
const RUN_FLAGS = (out: string) => [
    "--targets", "/config/outputs.json",
    "--profile", "rate,sweep",
    "--run-id", "b1",
    "--out", out,
    "--dataset", "/data/rows.jsonl",
    "--users", "40",
    "--spawn-rate", "4",
    "--rate", "2.5",
    "--rates", "1,3",
    "--max-new-tokens", "64",
    "--locust-processes", "2",
];

describe("S3 and RBAC", () => {
    it("a run writes under benchmarks/<run id>/, and may list only that prefix", () => {
        expect(benchmarkPrefix("2026-12-01-a")).toBe("benchmarks/2026-12-01-a/");
        expect(benchmarkPolicy(BUCKET_ARN, "b1")).toEqual({
            Version: "2012-10-17",
            Statement: [
                { Effect: "Allow", Action: ["s3:PutObject", "s3:AbortMultipartUpload"], Resource: "arn:aws:s3:::mlserve-dev-artifacts/benchmarks/b1/*" },
                { Effect: "Allow", Action: ["s3:ListBucket"], Resource: BUCKET_ARN, Condition: { StringLike: { "s3:prefix": ["benchmarks/b1/*"] } } },
            ],
        });
    });

    it("a campaign reads the LLM Deployments and patches their scale, in the llm namespace only", () => {
        expect(campaignRole()).toEqual({
            metadata: { name: "benchmark-campaign", namespace: "llm" },
            rules: [
                { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list"] },
                { apiGroups: ["apps"], resources: ["deployments/scale"], verbs: ["patch"] },
            ],
        });
    });
});

describe("run.py's arguments", () => {
    it("every setting as its flag; no --duration unless set (run.py picks per profile), no --select in a campaign", () => {
        expect(runArgs(config(), "b1", "s3://x/benchmarks/b1")).toEqual(RUN_FLAGS("s3://x/benchmarks/b1"));
        // A campaign selects each variant itself: targets are not passed (the config rules refuse them anyway).
        expect(runArgs(config({ targets: ["modelApi"] }), "b1", "o")).toEqual(RUN_FLAGS("o"));
    });

    it("--duration when set; --select with the targets of a single run", () => {
        const args = runArgs(config({ durationSeconds: 90, campaign: false, targets: ["kserve:sst2", "modelApi"] }), "b1", "o");
        expect(args).toEqual([...RUN_FLAGS("o").slice(0, 10), "--duration", "90", ...RUN_FLAGS("o").slice(10), "--select", "kserve:sst2,modelApi"]);
        // A single run without targets measures what runs.
        expect(runArgs(config({ campaign: false }), "b1", "o")).toEqual(RUN_FLAGS("o"));
    });
});

describe("the Job", () => {
    const shared = (name: string, command: string[], suspend = false) => ({
        metadata: { name, namespace: "benchmark", labels: { "app.kubernetes.io/name": "benchmark", "app.kubernetes.io/part-of": "mlserve", "mlserve.io/run-id": "b1" }, annotations: { "pulumi.com/skipAwait": "true" } },
        spec: {
            backoffLimit: 0,
            suspend,
            template: {
                metadata: { labels: { "app.kubernetes.io/name": "benchmark", "app.kubernetes.io/part-of": "mlserve", "mlserve.io/run-id": "b1" } },
                spec: {
                    restartPolicy: "Never",
                    terminationGracePeriodSeconds: 90,
                    serviceAccountName: "benchmark",
                    securityContext: { runAsNonRoot: true, runAsUser: 10001 },
                    containers: [
                        {
                            name: "loadtest",
                            image: "registry.example.com/loadtest:1.0.0",
                            command,
                            resources: { requests: { cpu: "3", memory: "5Gi" }, limits: { memory: "6Gi" } },
                            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                            volumeMounts: [
                                { name: "targets", mountPath: "/config", readOnly: true },
                                { name: "tmp", mountPath: "/tmp" },
                            ],
                        },
                    ],
                    volumes: [
                        { name: "targets", configMap: { name: "benchmark-targets" } },
                        { name: "tmp", emptyDir: { sizeLimit: "10Gi" } },
                    ],
                },
            },
        },
    });

    it("a campaign: campaign.py walks the variants (30 min each to get Ready), then run.py's flags after --", () => {
        expect([BENCHMARK_NAMESPACE, BENCHMARK_SERVICE_ACCOUNT]).toEqual(["benchmark", "benchmark"]);
        expect(benchmarkJob(config(), refs)).toEqual(
            shared("campaign-b1", [
                "python3", "/app/loadtest/campaign.py", "--namespace", "llm", "--variants", "fp16,eetq", "--ready-timeout", "1800", "--",
                ...RUN_FLAGS("s3://mlserve-dev-artifacts/benchmarks/b1"),
            ]),
        );
    });

    it("a single run: run.py alone, named bench-<run id>; suspended while the stack is parked", () => {
        const single = benchmarkJob(config({ campaign: false, targets: ["modelApi"] }), { ...refs, suspend: true });
        expect(single).toEqual(
            shared("bench-b1", ["python3", "/app/loadtest/run.py", ...RUN_FLAGS("s3://mlserve-dev-artifacts/benchmarks/b1"), "--select", "modelApi"], true),
        );
    });
});
