import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { KNATIVE_SERVING_VERSION } from "../versions";
import { Addon, type ReleaseSpec } from "./addon";
import type { KnativeServing } from "./crds/knative";
import { registerCustomResource } from "./crds/types";

export const KNATIVE_SERVING_NAMESPACE = "knative-serving";
/** In-cluster address of the Kourier gateway (the operator installs Kourier into knative-serving). */
export const KOURIER_INTERNAL_SERVICE = `kourier-internal.${KNATIVE_SERVING_NAMESPACE}.svc.cluster.local`;
export const KOURIER_SERVICE = `kourier.${KNATIVE_SERVING_NAMESPACE}.svc.cluster.local`;

/** Pod-spec fields Knative rejects unless enabled; GPU InferenceServices need all three. */
export const KNATIVE_PODSPEC_FLAGS = ["kubernetes.podspec-nodeselector", "kubernetes.podspec-tolerations", "kubernetes.podspec-affinity"] as const;

export interface KnativeSettings {
    scaleToZero: boolean;
    scaleToZeroGracePeriod: string;
    stableWindow: string;
    domain: string;
    ingressServiceType: "ClusterIP" | "LoadBalancer";
}

export function knativeOperatorReleases(): ReleaseSpec[] {
    return [{ name: "knative-operator", chart: "knativeOperator", values: {} }];
}

/** The KnativeServing resource: Serving version, Kourier, feature flags and autoscaler settings. */
export function knativeServing(s: KnativeSettings): KnativeServing {
    return {
        apiVersion: "operator.knative.dev/v1beta1",
        kind: "KnativeServing",
        metadata: {
            name: "knative-serving",
            namespace: KNATIVE_SERVING_NAMESPACE,
            // Pulumi waits until the operator reports Serving Ready: KServe's controller watches
            // Knative Services only if their CRD exists when it starts.
            annotations: { "pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": "900" },
        },
        spec: {
            version: KNATIVE_SERVING_VERSION,
            ingress: { kourier: { enabled: true, "service-type": s.ingressServiceType } },
            config: {
                network: { "ingress-class": "kourier.ingress.networking.knative.dev" },
                domain: { [s.domain]: "" },
                features: Object.fromEntries(KNATIVE_PODSPEC_FLAGS.map((f) => [f, "enabled"])),
                autoscaler: {
                    "enable-scale-to-zero": String(s.scaleToZero),
                    "scale-to-zero-grace-period": s.scaleToZeroGracePeriod,
                    "stable-window": s.stableWindow,
                    // Lets models with minReplicas 0 start with no pod (they ask with initial-scale 0).
                    "allow-zero-initial-scale": "true",
                },
            },
        },
    };
}

export interface KnativeArgs {
    settings: KnativeSettings;
    waitFor?: pulumi.Resource[];
}

/** Knative Serving through the Knative Operator, with Kourier as the networking layer. */
export class Knative extends Addon {
    readonly domain: string;

    constructor(name: string, args: KnativeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:addons:Knative", name, "knative-operator", opts);
        const specs = knativeOperatorReleases();
        const [operator] = this.installReleases(specs, args.waitFor);
        const servingNs = new k8s.core.v1.Namespace(`${name}-serving-ns`, { metadata: { name: KNATIVE_SERVING_NAMESPACE } }, { parent: this });
        const serving = registerCustomResource(`${name}-serving`, knativeServing(args.settings), {
            parent: this,
            dependsOn: [operator!, servingNs],
        });
        this.ready = [...this.releases, serving];
        this.domain = args.settings.domain;
        this.registerOutputs({ charts: this.charts, servingVersion: KNATIVE_SERVING_VERSION, ingress: KOURIER_SERVICE });
    }
}
