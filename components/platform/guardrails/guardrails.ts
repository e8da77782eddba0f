import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { podIdentityAssumeRolePolicy, type PolicyDocument } from "../cluster/iam";
import { CONTAINER_INSIGHTS_ADDON, type KubernetesVersion } from "../../versions";

export interface GuardrailsArgs {
    /** Stack name: the budget counts costs tagged mlserve:stack=<stack>. */
    stack: string;
    /** Region of the alarms (their ARNs appear in the topic policy). */
    region: string;
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

/** Services that publish alerts to the topic. */
const ALERT_PUBLISHERS = {
    cloudwatch: "cloudwatch.amazonaws.com",
    budgets: "budgets.amazonaws.com",
} as const;

export interface AlertTopicContext {
    topicArn: string;
    accountId: string;
    region: string;
}

/**
 * Who may publish to the alert topic: this account's CloudWatch alarms and
 * Budgets, this topic only (the source conditions stop another account's
 * alarm or budget from using the topic as a confused deputy).
 */
export function alertTopicPolicy(c: AlertTopicContext): PolicyDocument {
    const account = { StringEquals: { "aws:SourceAccount": c.accountId } };
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "AlarmsPublish",
                Effect: "Allow",
                Principal: { Service: ALERT_PUBLISHERS.cloudwatch },
                Action: "sns:Publish",
                Resource: c.topicArn,
                Condition: { ...account, ArnLike: { "aws:SourceArn": `arn:aws:cloudwatch:${c.region}:${c.accountId}:alarm:*` } },
            },
            {
                Sid: "BudgetsPublish",
                Effect: "Allow",
                Principal: { Service: ALERT_PUBLISHERS.budgets },
                Action: "sns:Publish",
                Resource: c.topicArn,
                Condition: { ...account, ArnLike: { "aws:SourceArn": `arn:aws:budgets::${c.accountId}:*` } },
            },
        ],
    };
}

/**
 * Key policy of the topic's customer-managed key. CloudWatch alarms and Budgets
 * must encrypt what they publish, which the AWS-managed SNS key never allows
 * them to do; the account root keeps administering the key.
 */
export function alertKeyPolicy(accountId: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "AccountAdministers", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: "kms:*", Resource: "*" },
            {
                Sid: "AlertPublishersEncrypt",
                Effect: "Allow",
                Principal: { Service: [ALERT_PUBLISHERS.cloudwatch, ALERT_PUBLISHERS.budgets] },
                Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
                Resource: "*",
                // No source condition here: AWS documents aws:SourceAccount for Budgets only in topic policies, and a
                // condition the service does not send would drop budget alerts silently. The key serves this topic only;
                // the topic policy limits who may publish.
            },
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
        const accountId = aws.getCallerIdentityOutput({}, child).accountId;
        const key = new aws.kms.Key(
            `${name}-alerts`,
            {
                description: `Alert topic of stack ${args.stack}: CloudWatch alarms and Budgets encrypt with it`,
                enableKeyRotation: true,
                deletionWindowInDays: 7,
                policy: accountId.apply((id) => JSON.stringify(alertKeyPolicy(id))),
            },
            child,
        );
        const topic = new aws.sns.Topic(`${name}-alerts`, { kmsMasterKeyId: key.arn }, child);
        new aws.sns.TopicPolicy(
            `${name}-alerts`,
            { arn: topic.arn, policy: pulumi.all([topic.arn, accountId]).apply(([topicArn, id]) => JSON.stringify(alertTopicPolicy({ topicArn, accountId: id, region: args.region }))) },
            child,
        );
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
                    // One DCGM exporter per GPU node: NVIDIA's chart (Observability) feeds Prometheus. The
                    // add-on (v4.3.0+) would run a second one; the alarm's GPU metrics do not need it: the agent
                    // computes node_gpu_limit / node_gpu_reserved_capacity from node capacity and pod requests.
                    configurationValues: JSON.stringify({ dcgmExporter: { enabled: false } }),
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
