import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { podIdentityAssumeRolePolicy, type PolicyDocument } from "../cluster/iam";
import { Addon, defineAddon, enabledByDefault, type AddonDefinition, type ReleaseSpec } from "./addon";
import type { ClusterTriggerAuthentication } from "./crds/keda";
import { registerCustomResource } from "./crds/types";

const KEDA_NAMESPACE = "keda";
export const KEDA_OPERATOR_SERVICE_ACCOUNT = "keda-operator";
/** ClusterTriggerAuthentication that aws-sqs-queue triggers reference: the operator's own AWS identity. */
const KEDA_AWS_AUTH = "aws-pod-identity";

export function kedaReleases(): ReleaseSpec[] {
    return [
        {
            name: "keda",
            chart: "keda",
            values: {
                // EKS Pod Identity gives the operator its AWS credentials; no IRSA annotation needed.
                podIdentity: { aws: { irsa: { enabled: false } } },
                serviceAccount: { operator: { name: KEDA_OPERATOR_SERVICE_ACCOUNT } },
                // Expose the operator's and metrics server's metrics ports (scraped by Observability).
                prometheus: { operator: { enabled: true }, metricServer: { enabled: true } },
                resources: {
                    operator: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
                    metricServer: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
                },
            },
        },
    ];
}

/**
 * Least privilege for the aws-sqs-queue scaler: read queue attributes (depth,
 * in-flight) of exactly these queues. Refuses wildcards.
 */
export function kedaSqsPolicy(queueArns: string[]): PolicyDocument {
    if (queueArns.length === 0) throw new Error("kedaSqsPolicy needs at least one queue ARN");
    for (const arn of queueArns) {
        if (arn.includes("*") || !/^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[\w-]+(\.fifo)?$/.test(arn)) {
            throw new Error(`not a single SQS queue ARN: ${arn}`);
        }
    }
    return { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["sqs:GetQueueAttributes"], Resource: [...queueArns].sort() }] };
}

export function kedaAwsAuth(): ClusterTriggerAuthentication {
    return {
        apiVersion: "keda.sh/v1alpha1",
        kind: "ClusterTriggerAuthentication",
        metadata: { name: KEDA_AWS_AUTH },
        // provider aws without roleArn: the operator's Pod Identity role (identityOwner is ignored by recent KEDA).
        spec: { podIdentity: { provider: "aws" } },
    };
}

export interface KedaArgs {
    /** EKS cluster name, for the Pod Identity association. */
    clusterName: pulumi.Input<string>;
    /** SQS queues KEDA may read; none = the role has no SQS permission until a queue is added. */
    sqsQueueArns?: pulumi.Input<pulumi.Input<string>[]>;
    waitFor?: pulumi.Resource[];
}

/** KEDA, with an AWS identity (EKS Pod Identity) scoped to this stack's queues. */
export class Keda extends Addon {
    readonly operatorRoleArn: pulumi.Output<string>;
    /** ClusterTriggerAuthentication for aws-* scalers (the operator's own Pod Identity); wait for `ready` before using it. */
    readonly awsAuthentication = { kind: "ClusterTriggerAuthentication" as const, name: KEDA_AWS_AUTH };
    /** Pods the operator and metrics server run, for a PodMonitor: namespace, label values and the metrics port. */
    readonly metricsTarget = { namespace: KEDA_NAMESPACE, podNames: ["keda-operator", "keda-operator-metrics-apiserver"], port: "metrics" };

    constructor(name: string, args: KedaArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:addons:Keda", name, KEDA_NAMESPACE, opts);
        const child = { parent: this };
        const role = new aws.iam.Role(`${name}-operator`, { assumeRolePolicy: JSON.stringify(podIdentityAssumeRolePolicy()) }, child);
        if (args.sqsQueueArns) {
            new aws.iam.RolePolicy(
                `${name}-sqs-read`,
                { role: role.id, policy: pulumi.output(args.sqsQueueArns).apply((arns) => JSON.stringify(kedaSqsPolicy(arns))) },
                child,
            );
        }
        // The association must exist before the operator pod starts, or it runs without credentials.
        const association = new aws.eks.PodIdentityAssociation(
            `${name}-operator`,
            { clusterName: args.clusterName, namespace: KEDA_NAMESPACE, serviceAccount: KEDA_OPERATOR_SERVICE_ACCOUNT, roleArn: role.arn },
            child,
        );
        const specs = kedaReleases();
        const [release] = this.installReleases(specs, [...(args.waitFor ?? []), association]);
        // A custom resource: only after the release has installed KEDA's CRDs.
        const auth = registerCustomResource(`${name}-aws-auth`, kedaAwsAuth(), { ...child, dependsOn: [release!] });
        this.ready = [...this.releases, auth];
        this.operatorRoleArn = role.arn;
        this.registerOutputs({ charts: this.charts, operatorRoleArn: this.operatorRoleArn });
    }
}

export const kedaSettings = z.strictObject({ ...enabledByDefault }).prefault({});

export const kedaAddon: AddonDefinition<typeof kedaSettings, Keda> = defineAddon({
    title: "KEDA",
    provides: "event-driven autoscaling (queue depth, Prometheus queries) with an AWS identity for SQS",
    settings: kedaSettings,
    create: (name, ctx, opts) => new Keda(name, { clusterName: ctx.cluster.name, sqsQueueArns: ctx.sqsQueueArns, waitFor: ctx.waitFor }, opts),
});
