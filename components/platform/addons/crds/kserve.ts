/** KServe v0.20 InferenceService (serving.kserve.io/v1beta1), the fields this platform writes. */
import type * as pulumi from "@pulumi/pulumi";
import type { TypedCustomResource } from "./types";

export interface ResourceRequirements {
    requests?: Record<string, string>;
    limits?: Record<string, string>;
}

export interface ModelSpec {
    modelFormat: { name: string; version?: string };
    runtime?: string;
    /** An output when it names a bucket the stack creates. */
    storageUri?: string | pulumi.Output<string>;
    protocolVersion?: "v1" | "v2" | "grpc-v1" | "grpc-v2";
    args?: string[];
    env?: Array<{ name: string; value: string }>;
    resources?: ResourceRequirements;
    ports?: Array<{ name: string; containerPort: number; protocol?: "TCP" }>;
}

export interface Batcher {
    maxBatchSize?: number;
    maxLatency?: number;
    timeout?: number;
}

export interface PredictorSpec {
    model: ModelSpec;
    /** Runs the predictor (and KServe's storage initializer) as this account, e.g. one with S3 read through Pod Identity. */
    serviceAccountName?: string;
    minReplicas?: number;
    maxReplicas?: number;
    scaleMetric?: "concurrency" | "rps" | "cpu" | "memory";
    scaleTarget?: number;
    containerConcurrency?: number;
    timeout?: number;
    batcher?: Batcher;
    nodeSelector?: Record<string, string>;
    tolerations?: Array<{ key: string; operator: "Exists" | "Equal"; value?: string; effect?: string }>;
}

export type InferenceService = TypedCustomResource<"serving.kserve.io/v1beta1", "InferenceService", { predictor: PredictorSpec }>;

/** Annotation that picks Knative or Standard mode per InferenceService. */
export const DEPLOYMENT_MODE_ANNOTATION = "serving.kserve.io/deploymentMode";

export interface InferenceGraphStep {
    name: string;
    /** An InferenceService in the graph's namespace. */
    serviceName: string;
    weight?: number;
    condition?: string;
    dependency?: "Soft" | "Hard";
}

export interface InferenceGraphNode {
    routerType: "Sequence" | "Splitter" | "Ensemble" | "Switch";
    steps: InferenceGraphStep[];
}

export type InferenceGraph = TypedCustomResource<
    "serving.kserve.io/v1alpha1",
    "InferenceGraph",
    { nodes: Record<string, InferenceGraphNode>; minReplicas?: number; maxReplicas?: number; scaleMetric?: "concurrency" | "rps"; scaleTarget?: number }
>;
