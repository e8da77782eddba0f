import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { registerCustomResource } from "../../platform/addons/crds/types";
import { podMonitor, type Observability } from "../../platform/addons/observability";
import {
    engineMonitorSpec,
    HF_TOKEN_SECRET,
    LLM_NAMESPACE,
    serverName,
    variantCacheClaim,
    variantDeployment,
    variantEndpoint,
    variantPdb,
    variantScaledObject,
    variantService,
    type FleetSettings,
    type VariantEndpoint,
    type VariantSettings,
} from "./spec";

export interface LlmVariantArgs {
    variant: VariantSettings;
    fleet: FleetSettings;
    hasToken: boolean;
    /** Prometheus, which KEDA queries for the queue depth of an autoscaled variant. */
    prometheusUrl?: string;
    /** Namespace, token Secret, and (for autoscaled variants) KEDA and Prometheus. */
    waitFor: pulumi.Resource[];
}

/** One LLM server: Deployment + Service (+ PDB, cache PVC, KEDA ScaledObject when they apply). */
export class LlmVariant extends pulumi.ComponentResource {
    readonly endpoint: VariantEndpoint;

    constructor(name: string, args: LlmVariantArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:llm:Variant", name, {}, opts);
        const after = { parent: this, dependsOn: args.waitFor };
        const v = args.variant;
        const claim = variantCacheClaim(v, args.fleet);
        const claimResource = claim ? [new k8s.core.v1.PersistentVolumeClaim(`${name}-cache`, claim, after)] : [];
        const deployment = new k8s.apps.v1.Deployment(name, variantDeployment(v, args.fleet, args.hasToken), {
            ...after,
            dependsOn: [...args.waitFor, ...claimResource],
            // KEDA owns the replica count of an autoscaled variant.
            ignoreChanges: v.autoscaling.enabled && v.replicas > 0 ? ["spec.replicas"] : [],
        });
        new k8s.core.v1.Service(name, variantService(v), after);
        const pdb = variantPdb(v);
        if (pdb) new k8s.policy.v1.PodDisruptionBudget(name, pdb, after);
        const scaled = args.prometheusUrl ? variantScaledObject(v, args.prometheusUrl) : undefined;
        if (scaled) registerCustomResource(`${name}-scaler`, scaled, { parent: this, dependsOn: [...args.waitFor, deployment] });
        this.endpoint = variantEndpoint(v);
        this.registerOutputs({ endpoint: this.endpoint });
    }
}

export interface LlmFleetArgs {
    variants: VariantSettings[];
    fleet: FleetSettings;
    /** Pulumi config secret `mlserve:hfToken`, if set. */
    hfToken?: pulumi.Input<string>;
    /** What autoscaled variants need (KEDA and Prometheus ready). */
    autoscalingReady?: pulumi.Resource[];
    /** Prometheus: scrapes the servers (PodMonitor) and answers KEDA's queue-depth queries. */
    observability?: Observability;
}

/** Every configured variant in the `llm` namespace, sharing one Hugging Face token Secret. */
export class LlmFleet extends pulumi.ComponentResource {
    readonly endpoints: Record<string, VariantEndpoint> = {};

    constructor(name: string, args: LlmFleetArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:llm:Fleet", name, {}, opts);
        const child = { parent: this };
        const ns = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: LLM_NAMESPACE } }, child);
        const base: pulumi.Resource[] = [ns];
        if (args.hfToken !== undefined) {
            base.push(
                new k8s.core.v1.Secret(
                    `${name}-hf-token`,
                    // pulumi.secret keeps it encrypted in state and redacted in previews.
                    { metadata: { name: HF_TOKEN_SECRET, namespace: LLM_NAMESPACE }, type: "Opaque", stringData: { token: pulumi.secret(args.hfToken) } },
                    { parent: this, dependsOn: [ns] },
                ),
            );
        }
        for (const v of args.variants) {
            const waitFor = v.autoscaling.enabled ? [...base, ...(args.autoscalingReady ?? [])] : base;
            const variant = new LlmVariant(
                serverName(v.name),
                { variant: v, fleet: args.fleet, hasToken: args.hfToken !== undefined, prometheusUrl: args.observability?.prometheusUrl, waitFor },
                child,
            );
            this.endpoints[v.name] = variant.endpoint;
        }
        if (args.observability) args.observability.monitor(`${name}-engines`, podMonitor("llm-engines", engineMonitorSpec()), child);
        this.registerOutputs({ endpoints: this.endpoints });
    }
}
