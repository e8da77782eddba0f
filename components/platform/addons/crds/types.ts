/**
 * Typed custom resources. Each interface is the subset of an upstream CRD this
 * platform writes; the tests validate every rendered object strictly against
 * the real upstream CRD, so a typo or a removed field fails there.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

export interface ObjectMeta {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
}

export interface TypedCustomResource<ApiVersion extends string, Kind extends string, Spec> {
    apiVersion: ApiVersion;
    kind: Kind;
    metadata: ObjectMeta;
    spec: Spec;
}

/** Register a typed custom resource (thin: the object is built by a pure function). */
export function registerCustomResource<A extends string, K extends string, S>(
    name: string,
    obj: TypedCustomResource<A, K, S>,
    opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
    return new k8s.apiextensions.CustomResource(name, obj as unknown as k8s.apiextensions.CustomResourceArgs, opts);
}
