import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { podIdentityAssumeRolePolicy, type PolicyDocument } from "../cluster/iam";
import { CONTAINER_INSIGHTS_ADDON, type KubernetesVersion } from "../versions";

export interface GuardrailsArgs {
    /** Stack name: the budget counts costs tagged mlserve:stack=<stack>. */
    stack: string;
    /** Plain cluster name: metric dimensions and alarm text. */
    clusterName: string;
    /** The cluster name as an output of the cluster, so the Container Insights add-on waits for it. */
    clusterNameOutput: pulumi.Input<string>;
    kubernetesVersion: KubernetesVersion;
    monthlyBudgetUsd: number;
    alertEmails: string[];
    /** 0 = no idle-GPU alarm (and no Container Insights add-on). */
    idleGpuAlarmMinutes: number;
    /** Resources the Container Insights add-on waits for (the nodes). */
    waitFor?: pulumi.Resource[];
}

/** Who may publish to the alert topic: AWS Budgets and CloudWatch alarms, this topic only. */
export function alertTopicPolicy(topicArn: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            { Effect: "Allow", Principal: { Service: ["budgets.amazonaws.com", "cloudwatch.amazonaws.com"] }, Action: "sns:Publish", Resource: topicArn },
        ],
    };
}

/** Cost of this stack only: the mlserve:stack tag (activate it as a cost allocation tag in Billing). */
export function budgetCostFilter(stack: string) {
    return [{ name: "TagKeyValue", values: [`user:mlserve:stack$${stack}`] }];
}

/**
 * Metric math for "GPU nodes run while no GPU is requested by any pod":
 * Container Insights node_gpu_limit (GPUs on nodes) > 0 and node_gpu_reserved_capacity
 * (percent of them requested) == 0.
 */
export function idleGpuQueries(clusterName: string) {
    const metric = (id: string, metricName: string, stat: string) => ({
        id,
        returnData: false,
        metric: { namespace: "ContainerInsights", metricName, dimensions: { ClusterName: clusterName }, period: 300, stat },
    });
    return [
        metric("gpus", "node_gpu_limit", "Sum"),
        metric("reserved", "node_gpu_reserved_capacity", "Maximum"),
        { id: "idle", label: "GPU nodes idle", returnData: true, expression: "IF(gpus > 0 AND reserved == 0, 1, 0)" },
    ];
}

/** Budget, alert topic and idle-GPU alarm: what catches a forgotten GPU stack. */
export class Guardrails extends pulumi.ComponentResource {
    readonly alertTopicArn: pulumi.Output<string>;

    constructor(name: string, args: GuardrailsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:lifecycle:Guardrails", name, {}, opts);
        const child = { parent: this };
        const topic = new aws.sns.Topic(`${name}-alerts`, { kmsMasterKeyId: "alias/aws/sns" }, child);
        new aws.sns.TopicPolicy(`${name}-alerts`, { arn: topic.arn, policy: topic.arn.apply((arn) => JSON.stringify(alertTopicPolicy(arn))) }, child);
        args.alertEmails.forEach((email, i) => new aws.sns.TopicSubscription(`${name}-alerts-${i}`, { topic: topic.arn, protocol: "email", endpoint: email }, child));

        new aws.budgets.Budget(
            `${name}-budget`,
            {
                name: `${args.stack}-monthly`,
                budgetType: "COST",
                limitAmount: args.monthlyBudgetUsd.toFixed(2),
                limitUnit: "USD",
                timeUnit: "MONTHLY",
                costFilters: budgetCostFilter(args.stack),
                notifications: [
                    { comparisonOperator: "GREATER_THAN", threshold: 80, thresholdType: "PERCENTAGE", notificationType: "ACTUAL", subscriberSnsTopicArns: [topic.arn] },
                    { comparisonOperator: "GREATER_THAN", threshold: 100, thresholdType: "PERCENTAGE", notificationType: "FORECASTED", subscriberSnsTopicArns: [topic.arn] },
                ],
            },
            child,
        );

        if (args.idleGpuAlarmMinutes > 0) {
            const role = new aws.iam.Role(`${name}-cloudwatch-agent`, { assumeRolePolicy: JSON.stringify(podIdentityAssumeRolePolicy()) }, child);
            new aws.iam.RolePolicyAttachment(`${name}-cloudwatch-agent`, { role: role.name, policyArn: "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy" }, child);
            const insights = new aws.eks.Addon(
                `${name}-container-insights`,
                {
                    clusterName: args.clusterNameOutput,
                    addonName: "amazon-cloudwatch-observability",
                    addonVersion: CONTAINER_INSIGHTS_ADDON[args.kubernetesVersion],
                    resolveConflictsOnCreate: "OVERWRITE",
                    resolveConflictsOnUpdate: "OVERWRITE",
                    podIdentityAssociations: [{ serviceAccount: "cloudwatch-agent", roleArn: role.arn }],
                },
                { ...child, dependsOn: args.waitFor ?? [] },
            );
            const periods = Math.max(1, Math.ceil(args.idleGpuAlarmMinutes / 5));
            new aws.cloudwatch.MetricAlarm(
                `${name}-idle-gpu`,
                {
                    alarmDescription: `GPU nodes of ${args.clusterName} have run with no GPU pod for ${args.idleGpuAlarmMinutes} minutes: park the stack (mlserve:lifecycle.parked) or scale the GPU node group down.`,
                    comparisonOperator: "GreaterThanOrEqualToThreshold",
                    threshold: 1,
                    evaluationPeriods: periods,
                    datapointsToAlarm: periods,
                    treatMissingData: "notBreaching",
                    metricQueries: idleGpuQueries(args.clusterName),
                    alarmActions: [topic.arn],
                    okActions: [topic.arn],
                },
                { ...child, dependsOn: [insights] },
            );
        }
        this.alertTopicArn = topic.arn;
        this.registerOutputs({ alertTopicArn: this.alertTopicArn });
    }
}
