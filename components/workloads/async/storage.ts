import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { lifecycleRules, visibilityTimeoutSeconds, type AsyncSettings } from "./spec";

export interface AsyncStorageArgs {
    settings: AsyncSettings;
}

/**
 * Where async jobs live: the request queue and its DLQ (encrypted, redrive) and
 * the job bucket (encrypted, no public access, expiring).
 */
export class AsyncStorage extends pulumi.ComponentResource {
    readonly queueUrl: pulumi.Output<string>;
    readonly queueArn: pulumi.Output<string>;
    readonly dlqUrl: pulumi.Output<string>;
    readonly dlqArn: pulumi.Output<string>;
    readonly bucketName: pulumi.Output<string>;
    readonly bucketArn: pulumi.Output<string>;

    constructor(name: string, args: AsyncStorageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:async:Storage", name, {}, opts);
        const child = { parent: this };
        const s = args.settings;
        const retention = s.messageRetentionDays * 86_400;

        const dlq = new aws.sqs.Queue(`${name}-dlq`, { sqsManagedSseEnabled: true, messageRetentionSeconds: 14 * 86_400 }, child);
        const queue = new aws.sqs.Queue(
            `${name}-jobs`,
            {
                sqsManagedSseEnabled: true,
                visibilityTimeoutSeconds: visibilityTimeoutSeconds(s),
                messageRetentionSeconds: retention,
                receiveWaitTimeSeconds: 20,
                redrivePolicy: dlq.arn.apply((arn) => JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: s.maxReceiveCount })),
            },
            child,
        );
        new aws.sqs.RedriveAllowPolicy(`${name}-dlq`, { queueUrl: dlq.url, redriveAllowPolicy: queue.arn.apply((arn) => JSON.stringify({ redrivePermission: "byQueue", sourceQueueArns: [arn] })) }, child);

        const bucket = new aws.s3.Bucket(`${name}-jobs`, { forceDestroy: true }, child);
        new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-jobs-sse`, { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }] }, child);
        new aws.s3.BucketPublicAccessBlock(`${name}-jobs-public-access`, { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, child);
        new aws.s3.BucketOwnershipControls(`${name}-jobs-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, child);
        new aws.s3.BucketLifecycleConfiguration(`${name}-jobs-expiry`, { bucket: bucket.id, rules: lifecycleRules(s.resultRetentionDays) }, child);

        this.queueUrl = queue.url;
        this.queueArn = queue.arn;
        this.dlqUrl = dlq.url;
        this.dlqArn = dlq.arn;
        this.bucketName = bucket.bucket;
        this.bucketArn = bucket.arn;
        this.registerOutputs({ queueUrl: this.queueUrl, dlqUrl: this.dlqUrl, bucketName: this.bucketName });
    }
}
