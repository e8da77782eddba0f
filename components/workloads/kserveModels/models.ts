import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { KServe } from "../../platform/addons/kserve";
import { podMonitor, type Observability } from "../../platform/addons/observability";
import {
    graphEndpoint,
    inferenceGraph,
    inferenceService,
    modelEndpoint,
    modelMonitorSpec,
    MODELS_NAMESPACE,
    type KnativeIngress,
    type KServeGraphSettings,
    type KServeModelSettings,
    type ModelEndpoint,
} from "./spec";

export interface KServeModelsArgs {
    models: KServeModelSettings[];
    graphs: KServeGraphSettings[];
    /** The KServe add-on: InferenceServices are declared through it so they wait for its webhooks. */
    kserve: KServe;
    /** Knative's ingress and route domain (external URLs are reached with a Host header under it); none in Standard mode. */
    ingress?: KnativeIngress;
    /** Prometheus: scrapes the model servers and their queue-proxies. */
    observability?: Observability;
}

/** The InferenceServices and InferenceGraphs of `mlserve:kserveModels` / `mlserve:kserveGraphs`. */
export class KServeModels extends pulumi.ComponentResource {
    readonly models: Record<string, ModelEndpoint> = {};
    readonly graphs: Record<string, ModelEndpoint> = {};
    /** The models namespace: other workloads (optimized models) put their objects in it after it exists. */
    readonly namespace: pulumi.Resource;

    constructor(name: string, args: KServeModelsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:kserve:Models", name, {}, opts);
        // After KServe and Knative (Kourier) are ready, so `pulumi destroy` deletes it, and the
        // models' Knative ingresses with it, while the controllers that clear their finalizers still run.
        const ns = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: MODELS_NAMESPACE } }, { parent: this, dependsOn: args.kserve.ready });
        this.namespace = ns;
        const isvcs = new Map<string, pulumi.Resource>();
        for (const m of args.models) {
            isvcs.set(m.name, args.kserve.inferenceService(`${name}-${m.name}`, inferenceService(m), { parent: this, dependsOn: [ns] }));
            this.models[m.name] = modelEndpoint(m, args.ingress, args.kserve.deploymentMode);
        }
        for (const g of args.graphs) {
            // The router resolves its steps' Services at start: create the models first.
            const steps = g.steps.map((s) => isvcs.get(s.model)).filter((r): r is pulumi.Resource => r !== undefined);
            args.kserve.inferenceGraph(`${name}-${g.name}`, inferenceGraph(g), { parent: this, dependsOn: [ns, ...steps] });
            this.graphs[g.name] = graphEndpoint(g, args.ingress);
        }
        if (args.observability) args.observability.monitor(`${name}-monitor`, podMonitor("kserve-models", modelMonitorSpec()), { parent: this });
        this.registerOutputs({ models: this.models, graphs: this.graphs });
    }
}
