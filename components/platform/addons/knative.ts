import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { duration } from "../../validators";
import { KNATIVE_SERVING_VERSION } from "../../versions";
import { Addon, defineAddon, enabledByDefault, type AddonDefinition, type ReleaseSpec } from "./addon";
import type { KnativeServing } from "./crds/knative";
import { registerCustomResource } from "./crds/types";

const KNATIVE_SERVING_NAMESPACE = "knative-serving";

/** Pod-spec fields Knative rejects unless enabled; GPU InferenceServices need all three. */
export const KNATIVE_PODSPEC_FLAGS = ["kubernetes.podspec-nodeselector", "kubernetes.podspec-tolerations", "kubernetes.podspec-affinity"] as const;

export const knativeSettings = z
    .strictObject({
        ...enabledByDefault,
        /** Let revisions scale to zero pods when idle. */
        scaleToZero: z.boolean().default(true),
        /** How long the last pod stays after traffic stops before scale to zero. */
        scaleToZeroGracePeriod: duration({ min: 6, max: 3600, what: "Knative scale-to-zero-grace-period" }).default("30s"),
        /** Averaging window of the autoscaler's stable mode. */
        stableWindow: duration({ min: 6, max: 3600, what: "Knative stable-window: 6s to 1h" }).default("60s"),
        /** Domain of Knative routes (external URLs are <name>.<namespace>.<domain>, reached with that Host header). */
        domain: z
            .string()
            .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/, "must be a DNS domain such as example.com")
            .default("example.com"),
        /** Kourier's Service type: ClusterIP (no cloud load balancer) or LoadBalancer (an AWS NLB, costs money). */
        ingressServiceType: z.enum(["ClusterIP", "LoadBalancer"]).default("ClusterIP"),
    })
    .prefault({});
export type KnativeSettings = z.output<typeof knativeSettings>;

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
    /** Kourier, the ingress: `external` takes Host-header routed traffic, `internal` is KServe's local gateway. */
    readonly ingress = {
        external: `kourier.${KNATIVE_SERVING_NAMESPACE}.svc.cluster.local`,
        internal: `kourier-internal.${KNATIVE_SERVING_NAMESPACE}.svc.cluster.local`,
    };

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
        this.registerOutputs({ charts: this.charts, servingVersion: KNATIVE_SERVING_VERSION, ingress: this.ingress.external });
    }
}

export const knativeAddon: AddonDefinition<typeof knativeSettings, Knative> = defineAddon({
    title: "Knative Serving",
    provides: "request-driven autoscaling with scale to zero, and the Kourier ingress",
    settings: knativeSettings,
    create: (name, ctx, opts) => new Knative(name, { settings: ctx.settings, waitFor: ctx.waitFor }, opts),
});
