/** KEDA v2.20 custom resources (keda.sh/v1alpha1), the fields this platform uses. */
import type { TypedCustomResource } from "./types";

/** EKS Pod Identity / IRSA through the KEDA operator's own AWS identity. */
export interface AwsPodIdentity {
    provider: "aws" | "none";
    /** Role the operator assumes for this scaler; unset = the operator's own identity. */
    roleArn?: string;
}

export interface TriggerAuthenticationSpec {
    podIdentity?: AwsPodIdentity;
    secretTargetRef?: Array<{ parameter: string; name: string; key: string }>;
}

export type ClusterTriggerAuthentication = TypedCustomResource<"keda.sh/v1alpha1", "ClusterTriggerAuthentication", TriggerAuthenticationSpec>;
export type TriggerAuthentication = TypedCustomResource<"keda.sh/v1alpha1", "TriggerAuthentication", TriggerAuthenticationSpec>;

/** Trigger metadata values are strings in the CRD (the queue URL may still be an output of the queue). */
export interface AwsSqsQueueTrigger {
    type: "aws-sqs-queue";
    metadata: {
        queueURL: string | import("@pulumi/pulumi").Output<string>;
        awsRegion: string;
        queueLength?: string;
        activationQueueLength?: string;
        scaleOnInFlight?: "true" | "false";
        awsEndpoint?: string;
    };
    authenticationRef?: { name: string; kind?: "TriggerAuthentication" | "ClusterTriggerAuthentication" };
}

export interface PrometheusTrigger {
    type: "prometheus";
    metadata: { serverAddress: string; query: string; threshold: string; activationThreshold?: string };
}

export interface ScaledObjectSpec {
    scaleTargetRef: { name: string; kind?: string; apiVersion?: string };
    minReplicaCount?: number;
    maxReplicaCount?: number;
    pollingInterval?: number;
    cooldownPeriod?: number;
    idleReplicaCount?: number;
    triggers: Array<AwsSqsQueueTrigger | PrometheusTrigger>;
}

export type ScaledObject = TypedCustomResource<"keda.sh/v1alpha1", "ScaledObject", ScaledObjectSpec>;
