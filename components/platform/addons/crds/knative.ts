/** Knative Operator custom resource (operator.knative.dev/v1beta1 KnativeServing), the fields used here. */
import type { TypedCustomResource } from "./types";

/**
 * `spec.config` holds Knative's ConfigMaps by short name (config-features is
 * "features", config-autoscaler is "autoscaler"); all values are strings.
 */
export interface KnativeServingSpec {
    version: string;
    ingress?: { kourier?: { enabled: boolean; "service-type"?: "ClusterIP" | "LoadBalancer" | "NodePort" } };
    config?: Record<string, Record<string, string>>;
    high_availability?: { replicas: number };
}

export type KnativeServing = TypedCustomResource<"operator.knative.dev/v1beta1", "KnativeServing", KnativeServingSpec>;
