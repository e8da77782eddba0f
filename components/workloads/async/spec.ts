/**
 * Pure builders for the async inference path: IAM policies (least privilege:
 * these queues, this bucket's prefixes), the queue and bucket settings, and the
 * Kubernetes specs of the gateway and the worker.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { AsyncConfig } from "../../../infra/config/async";
import type { PolicyDocument } from "../../platform/cluster/iam";
import type { ScaledObject } from "../../platform/addons/crds/keda";

export const ASYNC_NAMESPACE = "async";
export const GATEWAY = "async-gateway";
export const WORKER = "async-worker";

/** `mlserve:async` as validated. */
export type AsyncSettings = AsyncConfig;

/** Long enough for every attempt of the slowest job plus backoff; the worker's heartbeat extends it anyway. */
export function visibilityTimeoutSeconds(s: Pick<AsyncSettings, "modelTimeoutSeconds" | "attempts">): number {
    return Math.min(43_200, s.modelTimeoutSeconds * s.attempts + 60);
}

const PREFIXES = { jobs: "jobs/", requests: "requests/", results: "results/" } as const;
const objects = (bucketArn: string, prefix: string) => `${bucketArn}/${prefix}*`;

export function gatewayPolicy(a: { queueArn: string; bucketArn: string }): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: a.queueArn },
            { Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"], Resource: [objects(a.bucketArn, PREFIXES.jobs), objects(a.bucketArn, PREFIXES.requests)] },
            { Effect: "Allow", Action: ["s3:GetObject"], Resource: objects(a.bucketArn, PREFIXES.results) },
            // A missing key answers 404 (not 403) only with ListBucket; that check (like HeadBucket) carries
            // no s3:prefix, so the prefix condition applies only when a prefix is given (IfExists).
            { Effect: "Allow", Action: ["s3:ListBucket"], Resource: a.bucketArn, Condition: { StringLikeIfExists: { "s3:prefix": [`${PREFIXES.jobs}*`, `${PREFIXES.results}*`] } } },
        ],
    };
}

export function workerPolicy(a: { queueArn: string; dlqArn: string; bucketArn: string }): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            { Effect: "Allow", Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"], Resource: a.queueArn },
            // The DLQ: dead-letter with a reason, and consume it (every message there ends its job failed).
            { Effect: "Allow", Action: ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility"], Resource: a.dlqArn },
            { Effect: "Allow", Action: ["s3:GetObject"], Resource: objects(a.bucketArn, PREFIXES.requests) },
            { Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject"], Resource: objects(a.bucketArn, PREFIXES.results) },
            { Effect: "Allow", Action: ["s3:ListBucket"], Resource: a.bucketArn, Condition: { StringLikeIfExists: { "s3:prefix": [`${PREFIXES.results}*`] } } },
        ],
    };
}

/** Results and request payloads expire; job markers live as long as results. */
export function lifecycleRules(resultRetentionDays: number) {
    return Object.values(PREFIXES).map((prefix) => ({
        id: `expire-${prefix.replace("/", "")}`,
        status: "Enabled",
        filter: { prefix },
        expiration: { days: resultRetentionDays },
    }));
}

const labels = (name: string) => ({ "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "mlserve" });
type Meta = { metadata: { name: string; namespace: string; labels: Record<string, string> } };

export interface RuntimeRefs {
    image: pulumi.Input<string>;
    queueUrl: pulumi.Input<string>;
    dlqUrl: pulumi.Input<string>;
    bucket: pulumi.Input<string>;
    region: string;
}

const securityContext = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } };

/** Token limits of a variant's model server: the gateway refuses a request that could never fit. */
export interface VariantTokenLimits {
    maxInputTokens: number;
    maxTotalTokens: number;
}

const GATEWAY_GRACE_SECONDS = 30;
const GATEWAY_PRESTOP_SECONDS = 5;
/** The gateway's own shutdown deadline: inside the grace period left after the preStop sleep, with room to exit. */
export const GATEWAY_SHUTDOWN_TIMEOUT_MS = (GATEWAY_GRACE_SECONDS - GATEWAY_PRESTOP_SECONDS - 5) * 1000;

export function gatewayDeployment(s: AsyncSettings, r: RuntimeRefs, variants: string[], limits?: Record<string, VariantTokenLimits>): k8s.apps.v1.DeploymentArgs & Meta {
    return {
        metadata: { name: GATEWAY, namespace: ASYNC_NAMESPACE, labels: labels(GATEWAY) },
        spec: {
            // No replicas: the HPA owns the count.
            selector: { matchLabels: labels(GATEWAY) },
            template: {
                metadata: { labels: labels(GATEWAY) },
                spec: {
                    serviceAccountName: GATEWAY,
                    securityContext: { runAsNonRoot: true },
                    terminationGracePeriodSeconds: GATEWAY_GRACE_SECONDS,
                    containers: [
                        {
                            name: "gateway",
                            image: r.image,
                            env: [
                                { name: "QUEUE_URL", value: r.queueUrl },
                                { name: "BUCKET", value: r.bucket },
                                { name: "AWS_REGION", value: r.region },
                                { name: "VARIANTS", value: variants.join(",") },
                                { name: "PORT", value: "8080" },
                                // A client that has not sent its whole request in 10 s is cut off (408).
                                { name: "REQUEST_TIMEOUT_MS", value: "10000" },
                                { name: "SHUTDOWN_TIMEOUT_MS", value: String(GATEWAY_SHUTDOWN_TIMEOUT_MS) },
                                ...(limits ? [{ name: "VARIANT_LIMITS", value: JSON.stringify(limits) }] : []),
                            ],
                            ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
                            resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { memory: "512Mi" } },
                            readinessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 5 },
                            livenessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 15, failureThreshold: 4 },
                            lifecycle: { preStop: { exec: { command: ["node", "-e", `setTimeout(() => {}, ${GATEWAY_PRESTOP_SECONDS * 1000})`] } } },
                            securityContext,
                        },
                    ],
                },
            },
        },
    };
}

export function gatewayService(): k8s.core.v1.ServiceArgs & Meta {
    return {
        metadata: { name: GATEWAY, namespace: ASYNC_NAMESPACE, labels: labels(GATEWAY) },
        spec: { selector: labels(GATEWAY), ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] },
    };
}

export function gatewayHpa(s: AsyncSettings): k8s.autoscaling.v2.HorizontalPodAutoscalerArgs & Meta {
    return {
        metadata: { name: GATEWAY, namespace: ASYNC_NAMESPACE, labels: labels(GATEWAY) },
        spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: GATEWAY },
            minReplicas: s.gateway.minReplicas,
            maxReplicas: s.gateway.maxReplicas,
            metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: s.gateway.targetCpuUtilizationPercent } } }],
        },
    };
}

/** The worker: drains for up to its grace period on SIGTERM (KEDA scale-in, node drain). */
export function workerDeployment(s: AsyncSettings, r: RuntimeRefs, endpoints: Record<string, string>): k8s.apps.v1.DeploymentArgs & Meta {
    const grace = s.modelTimeoutSeconds + 30;
    return {
        metadata: { name: WORKER, namespace: ASYNC_NAMESPACE, labels: labels(WORKER) },
        spec: {
            // No replicas: KEDA owns the count (0 when the queue is empty).
            selector: { matchLabels: labels(WORKER) },
            template: {
                metadata: { labels: labels(WORKER) },
                spec: {
                    serviceAccountName: WORKER,
                    securityContext: { runAsNonRoot: true },
                    terminationGracePeriodSeconds: grace,
                    containers: [
                        {
                            name: "worker",
                            image: r.image,
                            env: [
                                { name: "QUEUE_URL", value: r.queueUrl },
                                { name: "DLQ_URL", value: r.dlqUrl },
                                { name: "BUCKET", value: r.bucket },
                                { name: "AWS_REGION", value: r.region },
                                { name: "MODEL_ENDPOINTS", value: JSON.stringify(endpoints) },
                                { name: "CONCURRENCY", value: String(s.worker.concurrency) },
                                { name: "VISIBILITY_TIMEOUT_SECONDS", value: String(Math.min(300, visibilityTimeoutSeconds(s))) },
                                { name: "MAX_RECEIVE_COUNT", value: String(s.maxReceiveCount) },
                                { name: "MODEL_TIMEOUT_MS", value: String(s.modelTimeoutSeconds * 1000) },
                                { name: "ATTEMPTS", value: String(s.attempts) },
                                { name: "SHUTDOWN_GRACE_MS", value: String((grace - 10) * 1000) },
                            ],
                            ports: [{ name: "metrics", containerPort: 9090, protocol: "TCP" }],
                            resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { memory: "512Mi" } },
                            livenessProbe: { httpGet: { path: "/healthz", port: "metrics" }, periodSeconds: 15, failureThreshold: 4 },
                            securityContext,
                        },
                    ],
                },
            },
        },
    };
}

/** KEDA scales the worker on queue depth (visible + in flight), down to zero. */
export function workerScaledObject(
    s: AsyncSettings,
    r: { queueUrl: string | pulumi.Output<string>; region: string; authentication: { kind: "ClusterTriggerAuthentication"; name: string } },
): ScaledObject {
    return {
        apiVersion: "keda.sh/v1alpha1",
        kind: "ScaledObject",
        metadata: { name: WORKER, namespace: ASYNC_NAMESPACE, labels: labels(WORKER) },
        spec: {
            scaleTargetRef: { name: WORKER },
            minReplicaCount: s.worker.minReplicas,
            maxReplicaCount: s.worker.maxReplicas,
            pollingInterval: 10,
            // A worker that just finished may still be draining in-flight jobs: keep it a little.
            cooldownPeriod: 120,
            triggers: [
                {
                    type: "aws-sqs-queue",
                    metadata: {
                        queueURL: r.queueUrl,
                        awsRegion: r.region,
                        queueLength: String(s.worker.messagesPerReplica),
                        activationQueueLength: String(s.worker.activationMessages),
                        scaleOnInFlight: "true",
                    },
                    // The KEDA operator's own Pod Identity (the add-on's ClusterTriggerAuthentication).
                    authenticationRef: { ...r.authentication },
                },
            ],
        },
    };
}
