import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { modelApiDeployment, modelApiEndpoints, modelApiHpa, modelApiPdb, modelApiService, MODEL_API_NAMESPACE, type ModelApiSettings } from "./spec";

export interface ModelApiArgs {
    settings: ModelApiSettings;
    /** Parked stack: no replicas and no HPA (an HPA cannot hold a Deployment at zero). */
    parked?: boolean;
    /** metrics-server must be running for the HPA to read CPU. */
    waitFor?: pulumi.Resource[];
}

/** A CPU model API (Deployment, Service, PDB) scaled by an autoscaling/v2 HorizontalPodAutoscaler. */
export class ModelApi extends pulumi.ComponentResource {
    readonly endpoints: ReturnType<typeof modelApiEndpoints>;

    constructor(name: string, args: ModelApiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:modelapi:ModelApi", name, {}, opts);
        const child = { parent: this };
        const ns = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: MODEL_API_NAMESPACE } }, child);
        const after = { ...child, dependsOn: [ns] };
        const spec = modelApiDeployment(args.settings);
        const deployment = new k8s.apps.v1.Deployment(name, args.parked ? { ...spec, spec: { ...spec.spec, replicas: 0 } } : spec, after);
        new k8s.core.v1.Service(name, modelApiService(), after);
        new k8s.policy.v1.PodDisruptionBudget(name, modelApiPdb(), after);
        if (!args.parked) {
            new k8s.autoscaling.v2.HorizontalPodAutoscaler(name, modelApiHpa(args.settings), { ...child, dependsOn: [deployment, ...(args.waitFor ?? [])] });
        }
        this.endpoints = modelApiEndpoints(args.settings);
        this.registerOutputs({ endpoints: this.endpoints });
    }
}
