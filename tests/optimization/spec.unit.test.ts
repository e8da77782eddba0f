/**
 * The optimization run's builders, called directly: the variants its methods
 * produce and which of them KServe serves as measured, the whole Job (GPU and
 * CPU), and the S3 policies of the Job and of the served models. Expected values
 * are written out by hand from the config given.
 */
import { describe, expect, it } from "vitest";
import {
    OPTIMIZATION_NAMESPACE,
    OPTIMIZATION_STEPS,
    OPTIMIZED_MODELS_SERVICE_ACCOUNT,
    OPTIMIZER_SERVICE_ACCOUNT,
    optimizedModelsPolicy,
    optimizerJob,
    optimizerPolicy,
    runPrefix,
    servableAsMeasured,
    servedVariants,
    variantsOf,
} from "../../components/workloads/optimization/spec";
import { optimizationSchema } from "../../infra/config/optimization";

const BUCKET_ARN = "arn:aws:s3:::mlserve-dev-artifacts";

describe("variants of a run", () => {
    it("the steps are optimize/'s (mlserve_optimize.pipeline.STEPS)", () => {
        expect([...OPTIMIZATION_STEPS].sort()).toEqual(["distill", "ffn", "heads", "int8", "sparse"]);
    });

    it("every prefix of every chain, plus the baseline; heads and int8 are not served as measured", () => {
        expect(variantsOf(["distill", "distill+ffn+int8", "heads"])).toEqual(["baseline", "distill", "distill-ffn", "distill-ffn-int8", "heads"]);
        expect(variantsOf([])).toEqual(["baseline"]);
        expect(variantsOf(["sparse+ffn", "sparse"])).toEqual(["baseline", "sparse", "sparse-ffn"]);
        expect(["baseline", "distill", "ffn", "sparse", "distill-ffn"].every(servableAsMeasured)).toBe(true);
        expect(["heads", "int8", "distill-heads", "distill-ffn-int8"].some(servableAsMeasured)).toBe(false);
    });

    it("served: the configured list as given, or every variant served as measured", () => {
        expect(servedVariants({ methods: ["distill+heads", "ffn+int8", "sparse"], serve: undefined })).toEqual(["baseline", "distill", "ffn", "sparse"]);
        expect(servedVariants({ methods: ["distill+heads"], serve: ["distill"] })).toEqual(["distill"]);
        expect(servedVariants({ methods: ["distill"], serve: [] })).toEqual([]);
    });
});

describe("S3", () => {
    it("a run's prefix is models/<run id>/; the Job may write only there", () => {
        expect(runPrefix("r1")).toBe("models/r1/");
        expect(optimizerPolicy(BUCKET_ARN, "r1")).toEqual({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: ["s3:PutObject", "s3:AbortMultipartUpload"], Resource: "arn:aws:s3:::mlserve-dev-artifacts/models/r1/*" }],
        });
    });

    it("the served models may read and list the run's prefix (IfExists: KServe's HeadBucket carries no prefix)", () => {
        expect(optimizedModelsPolicy(BUCKET_ARN, "r1")).toEqual({
            Version: "2012-10-17",
            Statement: [
                { Effect: "Allow", Action: ["s3:GetObject"], Resource: "arn:aws:s3:::mlserve-dev-artifacts/models/r1/*" },
                { Effect: "Allow", Action: ["s3:ListBucket"], Resource: BUCKET_ARN, Condition: { StringLikeIfExists: { "s3:prefix": ["models/r1/*"] } } },
            ],
        });
    });
});

describe("the Job", () => {
    const refs = { runId: "r1", image: "registry.example.com/optimize:1.0.0", output: "s3://mlserve-dev-artifacts/models/r1/", suspend: false };
    const config = (o: Record<string, unknown> = {}) =>
        optimizationSchema.parse({
            enabled: true,
            runId: "r1",
            teacher: "org/teacher",
            student: "teacher-layers:2",
            methods: ["distill", "sparse+int8"],
            targetSparsity: 0.4,
            headFraction: 0.2,
            ffnFraction: 0.35,
            trainSteps: 50,
            recoverySteps: 7,
            cpuRequest: "3",
            memoryRequest: "10Gi",
            memoryLimit: "12Gi",
            ...o,
        });
    const labels = { "app.kubernetes.io/name": "optimizer", "app.kubernetes.io/part-of": "mlserve", "mlserve.io/run-id": "r1" };
    const env = (device: string) => [
        { name: "MLSERVE_OPT_RUN_ID", value: "r1" },
        { name: "MLSERVE_OPT_OUTPUT", value: "s3://mlserve-dev-artifacts/models/r1/" },
        { name: "MLSERVE_OPT_TEACHER", value: "org/teacher" },
        { name: "MLSERVE_OPT_STUDENT", value: "teacher-layers:2" },
        { name: "MLSERVE_OPT_METHODS", value: "distill,sparse+int8" },
        { name: "MLSERVE_OPT_TARGET_SPARSITY", value: "0.4" },
        { name: "MLSERVE_OPT_HEAD_FRACTION", value: "0.2" },
        { name: "MLSERVE_OPT_FFN_FRACTION", value: "0.35" },
        { name: "MLSERVE_OPT_TRAIN_STEPS", value: "50" },
        { name: "MLSERVE_OPT_RECOVERY_STEPS", value: "7" },
        { name: "MLSERVE_OPT_DEVICE", value: device },
    ];
    const job = (pod: Record<string, unknown>, container: Record<string, unknown>, suspend = false) => ({
        metadata: { name: "optimize-r1", namespace: "optimization", labels, annotations: { "pulumi.com/skipAwait": "true" } },
        spec: {
            backoffLimit: 1,
            suspend,
            template: {
                metadata: { labels },
                spec: {
                    restartPolicy: "Never",
                    ...pod,
                    serviceAccountName: "optimizer",
                    securityContext: { runAsNonRoot: true, runAsUser: 10001 },
                    containers: [
                        {
                            name: "optimize",
                            image: "registry.example.com/optimize:1.0.0",
                            ...container,
                            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                            volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                        },
                    ],
                    volumes: [{ name: "tmp", emptyDir: { sizeLimit: "20Gi" } }],
                },
            },
        },
    });

    it("names and accounts", () => {
        expect([OPTIMIZATION_NAMESPACE, OPTIMIZER_SERVICE_ACCOUNT, OPTIMIZED_MODELS_SERVICE_ACCOUNT]).toEqual(["optimization", "optimizer", "optimized-models"]);
    });

    it("on a GPU: the GPU node pool, its taint tolerated, one GPU requested and limited, DEVICE cuda", () => {
        expect(optimizerJob(config({ device: "gpu" }), refs)).toEqual(
            job(
                { nodeSelector: { "mlserve.io/node-pool": "gpu" }, tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }] },
                { env: env("cuda"), resources: { requests: { cpu: "3", memory: "10Gi", "nvidia.com/gpu": "1" }, limits: { memory: "12Gi", "nvidia.com/gpu": "1" } } },
            ),
        );
    });

    it("on CPU: no node selector, toleration or GPU; DEVICE cpu; suspended while parked", () => {
        expect(optimizerJob(config({ device: "cpu" }), { ...refs, suspend: true })).toEqual(
            job({}, { env: env("cpu"), resources: { requests: { cpu: "3", memory: "10Gi" }, limits: { memory: "12Gi" } } }, true),
        );
    });
});
