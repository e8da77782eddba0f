import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { kserveModelSchema } from "../../../infra/config/kserve";
import type { OptimizationConfig } from "../../../infra/config/optimization";
import type { KServe } from "../../platform/addons/kserve";
import type { PolicyDocument } from "../../platform/cluster/iam";
import { podIdentityRole } from "../../platform/cluster/podIdentity";
import { BuiltImage } from "../image";
import { inferenceService, modelEndpoint, MODELS_NAMESPACE, type KnativeIngress, type ModelEndpoint } from "../kserveModels/spec";
import {
    OPTIMIZATION_NAMESPACE,
    OPTIMIZED_MODELS_SERVICE_ACCOUNT,
    OPTIMIZER_SERVICE_ACCOUNT,
    optimizedModelsPolicy,
    optimizerJob,
    optimizerPolicy,
    runPrefix,
    servedVariants,
} from "./spec";

export interface OptimizationRunArgs {
    settings: OptimizationConfig & { runId: string };
    /** The cluster name as an output of the cluster (Pod Identity associations wait for it). */
    clusterName: pulumi.Input<string>;
    bucket: { name: pulumi.Output<string>; arn: pulumi.Output<string> };
    /** Parked: the Job is suspended (a GPU run would bring the GPU node back); the served models stay, at zero pods. */
    parked?: boolean;
    /** Where optimized variants are served; absent when none are. */
    serving?: { kserve: KServe; modelsNamespace: pulumi.Resource; ingress?: KnativeIngress };
}

/**
 * One optimization run: the Job (image built from optimize/ or pinned) with a
 * role that may write only models/<run id>/, and the variants it produces as
 * InferenceServices (opt-<variant>) that read them back through their own role.
 */
export class OptimizationRun extends pulumi.ComponentResource {
    readonly output: pulumi.Output<string>;
    readonly models: Record<string, ModelEndpoint> = {};

    constructor(name: string, args: OptimizationRunArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:optimization:Run", name, {}, opts);
        const child = { parent: this };
        const o = args.settings;
        const identity = (id: string, namespace: string, serviceAccount: string, policy: (bucketArn: string) => PolicyDocument, after: pulumi.Resource[]) => {
            const sa = new k8s.core.v1.ServiceAccount(`${name}-${id}`, { metadata: { name: serviceAccount, namespace } }, { ...child, dependsOn: after });
            const { resources } = podIdentityRole(
                `${name}-${id}`,
                { clusterName: args.clusterName, namespace, serviceAccount, policy: args.bucket.arn.apply((arn) => JSON.stringify(policy(arn))) },
                child,
            );
            return [sa, ...resources];
        };

        const ns = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: OPTIMIZATION_NAMESPACE } }, child);
        const writer = identity("optimizer", OPTIMIZATION_NAMESPACE, OPTIMIZER_SERVICE_ACCOUNT, (arn) => optimizerPolicy(arn, o.runId), [ns]);
        const image = new BuiltImage(`${name}-image`, { pinned: o.image, context: "optimize", dockerfile: "optimize/Dockerfile", inputs: ["optimize/Dockerfile", "optimize/requirements.txt", "optimize/requirements-job.txt", "optimize/mlserve_optimize"], tagPrefix: "optimize" }, child);
        this.output = pulumi.interpolate`s3://${args.bucket.name}/${runPrefix(o.runId)}`;
        // Created only after the role can be assumed: the Job's first act is to write to S3.
        new k8s.batch.v1.Job(`${name}-job`, optimizerJob(o, { runId: o.runId, image: image.ref, output: this.output, suspend: args.parked ?? false }), { ...child, dependsOn: writer });

        if (args.serving) {
            const { kserve, modelsNamespace, ingress } = args.serving;
            const reader = identity("models", MODELS_NAMESPACE, OPTIMIZED_MODELS_SERVICE_ACCOUNT, (arn) => optimizedModelsPolicy(arn, o.runId), [modelsNamespace]);
            for (const variant of servedVariants(o)) {
                const settings = kserveModelSchema.parse({ name: `opt-${variant}`, args: ["--backend=huggingface", "--task=sequence_classification"] });
                const isvc = inferenceService(settings);
                isvc.spec.predictor.model.storageUri = pulumi.interpolate`s3://${args.bucket.name}/${runPrefix(o.runId)}${variant}/`;
                isvc.spec.predictor.serviceAccountName = OPTIMIZED_MODELS_SERVICE_ACCOUNT;
                isvc.metadata.labels = { ...isvc.metadata.labels, "mlserve.io/run-id": o.runId, "mlserve.io/optimized-variant": variant };
                kserve.inferenceService(`${name}-${variant}`, isvc, { ...child, dependsOn: [modelsNamespace, ...reader] });
                this.models[settings.name] = modelEndpoint(settings, ingress, kserve.deploymentMode);
            }
        }
        this.registerOutputs({ output: this.output, models: this.models });
    }
}
