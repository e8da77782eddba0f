/** The async path's queue, DLQ and bucket on a local SQS/S3 server (tests, benchmark). */
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { CreateBucketCommand, type S3Client } from "@aws-sdk/client-s3";

export async function createJobResources(
    sqs: SQSClient,
    s3: S3Client,
    o: { maxReceiveCount: number; visibilityTimeoutSeconds: number; suffix: string },
): Promise<{ bucket: string; queueUrl: string; dlqUrl: string }> {
    const bucket = `mlserve-jobs-${o.suffix}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `jobs-dlq-${o.suffix}` }));
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }))).Attributes!.QueueArn!;
    const queue = await sqs.send(
        new CreateQueueCommand({
            QueueName: `jobs-${o.suffix}`,
            Attributes: {
                VisibilityTimeout: String(o.visibilityTimeoutSeconds),
                RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: o.maxReceiveCount }),
            },
        }),
    );
    return { bucket, queueUrl: queue.QueueUrl!, dlqUrl: dlq.QueueUrl! };
}
