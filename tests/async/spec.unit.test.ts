/**
 * The async path's builders, called directly: IAM policies (least privilege on
 * these queues and this bucket's prefixes), queue and bucket settings, and the
 * whole Kubernetes objects of the gateway and the worker. Expected values are
 * written out by hand from the settings given.
 */
import { beforeEach, describe, expect, it } from "vitest";
import {
    ASYNC_NAMESPACE,
    GATEWAY,
    GATEWAY_SHUTDOWN_TIMEOUT_MS,
    gatewayDeployment,
    gatewayHpa,
    gatewayPolicy,
    gatewayService,
    lifecycleRules,
    visibilityTimeoutSeconds,
    WORKER,
    workerDeployment,
    workerPolicy,
    workerScaledObject,
} from "../../components/workloads/async/spec";
import { asyncSchema } from "../../infra/config/async";

const QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:mlserve-dev-async-jobs";
const DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:mlserve-dev-async-dlq";
const BUCKET_ARN = "arn:aws:s3:::mlserve-dev-async-jobs";
const refs = {
    image: "registry.example.com/async@sha256:abc",
    queueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/mlserve-dev-async-jobs",
    dlqUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/mlserve-dev-async-dlq",
    bucket: "mlserve-dev-async-jobs",
    region: "eu-west-1",
};
/**
 * Settings away from every default, so each value below can only come from them. Parsed in
 * beforeEach so the schema runs inside the tests (see vitest.mutation.config.mts on static coverage).
 */
let settings: ReturnType<typeof asyncSchema.parse>;
beforeEach(() => {
    settings = asyncSchema.parse({
    maxReceiveCount: 7,
    modelTimeoutSeconds: 100,
    attempts: 2,
    worker: { concurrency: 3, minReplicas: 1, maxReplicas: 9, messagesPerReplica: 12, activationMessages: 2 },
    gateway: { minReplicas: 3, maxReplicas: 6, targetCpuUtilizationPercent: 55 },
    });
});
const labels = (name: string) => ({ "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "mlserve" });
/** The first container's env of a rendered Deployment, by name. */
const envOf = (d: unknown): Array<{ name: string; value: string }> => (d as { spec: { template: { spec: { containers: Array<{ env: Array<{ name: string; value: string }> }> } } } }).spec.template.spec.containers[0]!.env;
const restricted = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } };

describe("names", () => {
    it("both services live in the async namespace", () => {
        expect([ASYNC_NAMESPACE, GATEWAY, WORKER]).toEqual(["async", "async-gateway", "async-worker"]);
    });
});

describe("queue visibility", () => {
    it("covers every attempt of the slowest job plus 60 s of backoff", () => {
        expect(visibilityTimeoutSeconds({ modelTimeoutSeconds: 100, attempts: 2 })).toBe(260);
        expect(visibilityTimeoutSeconds({ modelTimeoutSeconds: 120, attempts: 3 })).toBe(420);
    });

    it("is capped at SQS's maximum, 12 hours (43 200 s)", () => {
        // 3600 × 12 + 60 = 43 260; 3599 × 12 + 60 = 43 248; 3595 × 12 + 60 = 43 200 exactly.
        expect(visibilityTimeoutSeconds({ modelTimeoutSeconds: 3600, attempts: 12 })).toBe(43_200);
        expect(visibilityTimeoutSeconds({ modelTimeoutSeconds: 3595, attempts: 12 })).toBe(43_200);
        expect(visibilityTimeoutSeconds({ modelTimeoutSeconds: 3594, attempts: 12 })).toBe(43_188);
    });
});

describe("IAM", () => {
    it("the gateway sends to the job queue, writes and withdraws jobs and payloads, reads results, lists only those prefixes", () => {
        expect(gatewayPolicy({ queueArn: QUEUE_ARN, bucketArn: BUCKET_ARN })).toEqual({
            Version: "2012-10-17",
            Statement: [
                { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: QUEUE_ARN },
                { Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"], Resource: ["arn:aws:s3:::mlserve-dev-async-jobs/jobs/*", "arn:aws:s3:::mlserve-dev-async-jobs/requests/*"] },
                { Effect: "Allow", Action: ["s3:GetObject"], Resource: "arn:aws:s3:::mlserve-dev-async-jobs/results/*" },
                { Effect: "Allow", Action: ["s3:ListBucket"], Resource: BUCKET_ARN, Condition: { StringLikeIfExists: { "s3:prefix": ["jobs/*", "results/*"] } } },
            ],
        });
    });

    it("the worker consumes the queue, dead-letters to and drains the DLQ, reads payloads, writes results", () => {
        expect(workerPolicy({ queueArn: QUEUE_ARN, dlqArn: DLQ_ARN, bucketArn: BUCKET_ARN })).toEqual({
            Version: "2012-10-17",
            Statement: [
                { Effect: "Allow", Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"], Resource: QUEUE_ARN },
                { Effect: "Allow", Action: ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility"], Resource: DLQ_ARN },
                { Effect: "Allow", Action: ["s3:GetObject"], Resource: "arn:aws:s3:::mlserve-dev-async-jobs/requests/*" },
                { Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject"], Resource: "arn:aws:s3:::mlserve-dev-async-jobs/results/*" },
                { Effect: "Allow", Action: ["s3:ListBucket"], Resource: BUCKET_ARN, Condition: { StringLikeIfExists: { "s3:prefix": ["results/*"] } } },
            ],
        });
    });
});

describe("bucket lifecycle", () => {
    it("expires job markers, payloads and results after the retention days", () => {
        expect(lifecycleRules(9)).toEqual([
            { id: "expire-jobs", status: "Enabled", filter: { prefix: "jobs/" }, expiration: { days: 9 } },
            { id: "expire-requests", status: "Enabled", filter: { prefix: "requests/" }, expiration: { days: 9 } },
            { id: "expire-results", status: "Enabled", filter: { prefix: "results/" }, expiration: { days: 9 } },
        ]);
    });
});

describe("the gateway", () => {
    it("shuts down within its grace period: 30 s, less the 5 s preStop sleep and 5 s to exit", () => {
        expect(GATEWAY_SHUTDOWN_TIMEOUT_MS).toBe(20_000);
    });

    it("Deployment: no replicas (its HPA owns them), env for the queue, bucket and variants, probes on /healthz, restricted", () => {
        expect(gatewayDeployment(settings, refs, ["fp16", "eetq"])).toEqual({
            metadata: { name: "async-gateway", namespace: "async", labels: labels("async-gateway") },
            spec: {
                selector: { matchLabels: labels("async-gateway") },
                template: {
                    metadata: { labels: labels("async-gateway") },
                    spec: {
                        serviceAccountName: "async-gateway",
                        securityContext: { runAsNonRoot: true },
                        terminationGracePeriodSeconds: 30,
                        containers: [
                            {
                                name: "gateway",
                                image: "registry.example.com/async@sha256:abc",
                                env: [
                                    { name: "QUEUE_URL", value: "https://sqs.us-east-1.amazonaws.com/123456789012/mlserve-dev-async-jobs" },
                                    { name: "BUCKET", value: "mlserve-dev-async-jobs" },
                                    { name: "AWS_REGION", value: "eu-west-1" },
                                    { name: "VARIANTS", value: "fp16,eetq" },
                                    { name: "PORT", value: "8080" },
                                    { name: "REQUEST_TIMEOUT_MS", value: "10000" },
                                    { name: "SHUTDOWN_TIMEOUT_MS", value: "20000" },
                                ],
                                ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
                                resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { memory: "512Mi" } },
                                readinessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 5 },
                                livenessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 15, failureThreshold: 4 },
                                lifecycle: { preStop: { exec: { command: ["node", "-e", "setTimeout(() => {}, 5000)"] } } },
                                securityContext: restricted,
                            },
                        ],
                    },
                },
            },
        });
    });

    it("passes each variant's token limits when given, as JSON", () => {
        const d = gatewayDeployment(settings, refs, ["fp16"], { fp16: { maxInputTokens: 1024, maxTotalTokens: 3000 } });
        const env = envOf(d);
        expect(env.map((e) => e.name)).toEqual(["QUEUE_URL", "BUCKET", "AWS_REGION", "VARIANTS", "PORT", "REQUEST_TIMEOUT_MS", "SHUTDOWN_TIMEOUT_MS", "VARIANT_LIMITS"]);
        expect(env[7]).toEqual({ name: "VARIANT_LIMITS", value: '{"fp16":{"maxInputTokens":1024,"maxTotalTokens":3000}}' });
    });

    it("Service: port 80 to the container's http port, selecting the gateway's pods", () => {
        expect(gatewayService()).toEqual({
            metadata: { name: "async-gateway", namespace: "async", labels: labels("async-gateway") },
            spec: { selector: labels("async-gateway"), ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] },
        });
    });

    it("HPA: scales the Deployment between the configured replicas on CPU utilization", () => {
        expect(gatewayHpa(settings)).toEqual({
            metadata: { name: "async-gateway", namespace: "async", labels: labels("async-gateway") },
            spec: {
                scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "async-gateway" },
                minReplicas: 3,
                maxReplicas: 6,
                metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 55 } } }],
            },
        });
    });
});

describe("the worker", () => {
    it("Deployment: no replicas (KEDA owns them), a grace period of a model call + 30 s, and the job settings in its env", () => {
        // Grace 100 + 30 = 130 s; visibility 100 × 2 + 60 = 260 s (under the 300 s cap); drain (130 - 10) s.
        expect(workerDeployment(settings, refs, { fp16: "http://llm-fp16.llm.svc.cluster.local" })).toEqual({
            metadata: { name: "async-worker", namespace: "async", labels: labels("async-worker") },
            spec: {
                selector: { matchLabels: labels("async-worker") },
                template: {
                    metadata: { labels: labels("async-worker") },
                    spec: {
                        serviceAccountName: "async-worker",
                        securityContext: { runAsNonRoot: true },
                        terminationGracePeriodSeconds: 130,
                        containers: [
                            {
                                name: "worker",
                                image: "registry.example.com/async@sha256:abc",
                                env: [
                                    { name: "QUEUE_URL", value: "https://sqs.us-east-1.amazonaws.com/123456789012/mlserve-dev-async-jobs" },
                                    { name: "DLQ_URL", value: "https://sqs.us-east-1.amazonaws.com/123456789012/mlserve-dev-async-dlq" },
                                    { name: "BUCKET", value: "mlserve-dev-async-jobs" },
                                    { name: "AWS_REGION", value: "eu-west-1" },
                                    { name: "MODEL_ENDPOINTS", value: '{"fp16":"http://llm-fp16.llm.svc.cluster.local"}' },
                                    { name: "CONCURRENCY", value: "3" },
                                    { name: "VISIBILITY_TIMEOUT_SECONDS", value: "260" },
                                    { name: "MAX_RECEIVE_COUNT", value: "7" },
                                    { name: "MODEL_TIMEOUT_MS", value: "100000" },
                                    { name: "ATTEMPTS", value: "2" },
                                    { name: "SHUTDOWN_GRACE_MS", value: "120000" },
                                ],
                                ports: [{ name: "metrics", containerPort: 9090, protocol: "TCP" }],
                                resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { memory: "512Mi" } },
                                livenessProbe: { httpGet: { path: "/healthz", port: "metrics" }, periodSeconds: 15, failureThreshold: 4 },
                                securityContext: restricted,
                            },
                        ],
                    },
                },
            },
        });
    });

    it("the visibility it sets on each receive is at most 300 s (its heartbeat extends it)", () => {
        const env = (s: typeof settings) => Object.fromEntries(envOf(workerDeployment(s, refs, {})).map((e) => [e.name, e.value]));
        // 120 × 2 + 60 = 300: exactly the cap; 121 × 2 + 60 = 302: capped.
        expect(env({ ...settings, modelTimeoutSeconds: 120 }).VISIBILITY_TIMEOUT_SECONDS).toBe("300");
        expect(env({ ...settings, modelTimeoutSeconds: 121 }).VISIBILITY_TIMEOUT_SECONDS).toBe("300");
        expect(env({ ...settings, modelTimeoutSeconds: 119 }).VISIBILITY_TIMEOUT_SECONDS).toBe("298");
    });

    it("ScaledObject: KEDA scales on the job queue's depth, in-flight messages included, from the configured minimum", () => {
        const auth = { kind: "ClusterTriggerAuthentication" as const, name: "aws-pod-identity" };
        const so = workerScaledObject(settings, { queueUrl: refs.queueUrl, region: "eu-west-1", authentication: auth });
        expect(so).toEqual({
            apiVersion: "keda.sh/v1alpha1",
            kind: "ScaledObject",
            metadata: { name: "async-worker", namespace: "async", labels: labels("async-worker") },
            spec: {
                scaleTargetRef: { name: "async-worker" },
                minReplicaCount: 1,
                maxReplicaCount: 9,
                pollingInterval: 10,
                cooldownPeriod: 120,
                triggers: [
                    {
                        type: "aws-sqs-queue",
                        metadata: {
                            queueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/mlserve-dev-async-jobs",
                            awsRegion: "eu-west-1",
                            queueLength: "12",
                            activationQueueLength: "2",
                            scaleOnInFlight: "true",
                        },
                        authenticationRef: { kind: "ClusterTriggerAuthentication", name: "aws-pod-identity" },
                    },
                ],
            },
        });
    });
});
