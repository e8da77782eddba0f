import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { IMAGES } from "../../versions";
import { Addon, defineAddon, enabledByDefault, type AddonDefinition, type ReleaseSpec } from "./addon";
import { DEPLOYMENT_MODE_ANNOTATION, type InferenceGraph, type InferenceService } from "./crds/kserve";
import { registerCustomResource } from "./crds/types";

export const kserveSettings = z
    .strictObject({
        ...enabledByDefault,
        /** Default deployment mode of InferenceServices: Knative (scale to zero) or Standard (plain Deployments + HPA). */
        deploymentMode: z.enum(["Knative", "Standard"]).default("Knative"),
    })
    .prefault({});
export type KServeDeploymentMode = z.output<typeof kserveSettings>["deploymentMode"];

/**
 * The CRD chart first, then the controller, then the serving runtimes. In
 * Knative mode `localGateway` is Kourier's internal service (instead of Istio).
 */
export function kserveReleases(mode: KServeDeploymentMode, localGateway: string | undefined): ReleaseSpec[] {
    return [
        { name: "kserve-crd", chart: "kserveCrd", values: {} },
        {
            name: "kserve",
            chart: "kserveResources",
            values: {
                kserve: {
                    controller: {
                        deploymentMode: mode,
                        gateway:
                            mode === "Knative"
                                ? { disableIstioVirtualHost: true, localGateway: { gatewayService: localGateway } }
                                : // Standard mode: no ingress controller is installed; models are reached in-cluster.
                                  { disableIngressCreation: true },
                    },
                },
            },
        },
        {
            // The serving runtimes every InferenceService is matched against (rendered only when enabled).
            name: "kserve-runtimes",
            chart: "kserveRuntimeConfigs",
            values: { kserve: { servingruntime: { enabled: true, vllmserver: { tag: imageTag(IMAGES.vllm) } } } },
        },
    ];
}

/** The tag of a pinned image ref; the chart would otherwise run vllm-openai:latest. */
function imageTag(ref: string): string {
    const tag = ref.split(":").pop();
    if (!tag || tag === ref || tag === "latest") throw new Error(`image ${ref} is not pinned to a tag`);
    return tag;
}

export interface KServeArgs {
    deploymentMode: KServeDeploymentMode;
    /** Knative's internal ingress service (Knative mode). */
    localGateway?: string;
    /** cert-manager (and Knative in Knative mode) must be ready first. */
    waitFor?: pulumi.Resource[];
}

/** KServe CRDs and controller. Declare models with `inferenceService`, which waits for the webhooks. */
export class KServe extends Addon {
    readonly deploymentMode: KServeDeploymentMode;

    constructor(name: string, args: KServeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:addons:KServe", name, "kserve", opts);
        if (args.deploymentMode === "Knative" && !args.localGateway) throw new Error("KServe in Knative mode needs Knative's ingress as its local gateway");
        const specs = kserveReleases(args.deploymentMode, args.localGateway);
        this.installReleases(specs, args.waitFor);
        this.deploymentMode = args.deploymentMode;
        this.registerOutputs({ charts: this.charts, deploymentMode: this.deploymentMode });
    }

    /**
     * Declare an InferenceService. It is registered after the controller release is
     * ready (its CRDs exist and its admission webhooks answer), and carries the
     * deployment-mode annotation explicitly so a later default change cannot move it.
     */
    inferenceService(name: string, isvc: InferenceService, opts: pulumi.CustomResourceOptions = {}): k8s.apiextensions.CustomResource {
        const annotated: InferenceService = {
            ...isvc,
            metadata: {
                ...isvc.metadata,
                annotations: { [DEPLOYMENT_MODE_ANNOTATION]: this.deploymentMode, ...isvc.metadata.annotations },
            },
        };
        return registerCustomResource(name, annotated, { ...opts, dependsOn: this.after(opts) });
    }

    /** Declare an InferenceGraph; like inferenceService, it waits for the controller. */
    inferenceGraph(name: string, graph: InferenceGraph, opts: pulumi.CustomResourceOptions = {}): k8s.apiextensions.CustomResource {
        return registerCustomResource(name, graph, { ...opts, dependsOn: this.after(opts) });
    }

    private after(opts: pulumi.CustomResourceOptions): pulumi.Resource[] {
        return [...this.ready, ...((opts.dependsOn as pulumi.Resource[] | undefined) ?? [])];
    }
}

export const kserveAddon: AddonDefinition<typeof kserveSettings, KServe> = defineAddon({
    title: "KServe",
    provides: "InferenceServices and InferenceGraphs with the standard serving runtimes",
    settings: kserveSettings,
    requires: (s) => [
        { addon: "certManager", why: "its admission webhooks use certificates that cert-manager issues" },
        ...(s.deploymentMode === "Knative" ? [{ addon: "knative", why: "Knative deployment mode runs every model as a Knative Service" }] : []),
    ],
    create: (name, ctx, opts) => new KServe(name, { deploymentMode: ctx.settings.deploymentMode, localGateway: ctx.installed.knative?.ingress.internal, waitFor: ctx.waitFor }, opts),
});
