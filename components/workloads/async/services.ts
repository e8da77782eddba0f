import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { registerCustomResource } from "../../platform/addons/crds/types";
import { ASYNC_NAMESPACE, GATEWAY, gatewayDeployment, gatewayHpa, gatewayService, WORKER, workerDeployment, workerScaledObject, type AsyncSettings, type VariantTokenLimits } from "./spec";

export interface AsyncServicesArgs {
    settings: AsyncSettings;
    region: string;
    queueUrl: pulumi.Input<string>;
    dlqUrl: pulumi.Input<string>;
    bucket: pulumi.Input<string>;
    images: { gateway: pulumi.Input<string>; worker: pulumi.Input<string> };
    /** Variant name -> model base URL (the LLM fleet's services). */
    endpoints: Record<string, string>;
    /** Variant name -> its token limits (the gateway refuses requests over them at submit). */
    limits?: Record<string, VariantTokenLimits>;
    /** KEDA's AWS authentication for the queue-depth trigger; the scaler waits for `ready`. */
    keda: { authentication: { kind: "ClusterTriggerAuthentication"; name: string }; ready: pulumi.Resource[] };
}

/** The gateway (Deployment, Service, HPA) and the worker (Deployment scaled to zero by KEDA on queue depth). */
export class AsyncServices extends pulumi.ComponentResource {
    readonly gatewayUrl: string = `http://${GATEWAY}.${ASYNC_NAMESPACE}.svc.cluster.local`;

    constructor(name: string, args: AsyncServicesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:async:Services", name, {}, opts);
        const ns = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: ASYNC_NAMESPACE } }, { parent: this });
        const after = { parent: this, dependsOn: [ns] };
        for (const sa of [GATEWAY, WORKER]) new k8s.core.v1.ServiceAccount(`${name}-${sa}`, { metadata: { name: sa, namespace: ASYNC_NAMESPACE } }, after);
        const variants = Object.keys(args.endpoints);
        const refs = { queueUrl: args.queueUrl, dlqUrl: args.dlqUrl, bucket: args.bucket, region: args.region };
        const gateway = new k8s.apps.v1.Deployment(`${name}-gateway`, gatewayDeployment(args.settings, { ...refs, image: args.images.gateway }, variants, args.limits), after);
        new k8s.core.v1.Service(`${name}-gateway`, gatewayService(), after);
        new k8s.autoscaling.v2.HorizontalPodAutoscaler(`${name}-gateway`, gatewayHpa(args.settings), { parent: this, dependsOn: [gateway] });
        const worker = new k8s.apps.v1.Deployment(`${name}-worker`, workerDeployment(args.settings, { ...refs, image: args.images.worker }, args.endpoints), after);
        registerCustomResource(`${name}-worker-scaler`, workerScaledObject(args.settings, { queueUrl: pulumi.output(args.queueUrl), region: args.region, authentication: args.keda.authentication }), {
            parent: this,
            dependsOn: [worker, ...args.keda.ready],
        });
        this.registerOutputs({ gatewayUrl: this.gatewayUrl });
    }
}
