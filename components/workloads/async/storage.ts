import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { podIdentityAssumeRolePolicy } from "../../platform/cluster/iam";
import { buildContextFiles, contentTag } from "./images";
import { ASYNC_NAMESPACE, gatewayPolicy, GATEWAY, lifecycleRules, visibilityTimeoutSeconds, WORKER, workerPolicy, type AsyncSettings } from "./spec";

export interface AsyncStorageArgs {
    settings: AsyncSettings;
    clusterName: pulumi.Input<string>;
    /** Pinned image refs; a missing one is built from services/Dockerfile and pushed to ECR (needs Docker where `pulumi up` runs). */
    images: { gateway?: string; worker?: string };
}

const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");

/**
 * The AWS side of async inference: request queue and DLQ (encrypted, redrive),
 * job bucket (encrypted, no public access, expiring), least-privilege roles bound
 * to the gateway and worker service accounts by EKS Pod Identity, and images.
 */
export class AsyncStorage extends pulumi.ComponentResource {
    readonly queueUrl: pulumi.Output<string>;
    readonly queueArn: pulumi.Output<string>;
    readonly dlqUrl: pulumi.Output<string>;
    readonly bucketName: pulumi.Output<string>;
    readonly images: { gateway: pulumi.Output<string>; worker: pulumi.Output<string> };

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

        const role = (svc: string, policy: pulumi.Output<string>) => {
            const r = new aws.iam.Role(`${name}-${svc}`, { assumeRolePolicy: JSON.stringify(podIdentityAssumeRolePolicy()) }, child);
            new aws.iam.RolePolicy(`${name}-${svc}`, { role: r.id, policy }, child);
            new aws.eks.PodIdentityAssociation(`${name}-${svc}`, { clusterName: args.clusterName, namespace: ASYNC_NAMESPACE, serviceAccount: svc, roleArn: r.arn }, child);
        };
        role(GATEWAY, pulumi.all([queue.arn, bucket.arn]).apply(([queueArn, bucketArn]) => JSON.stringify(gatewayPolicy({ queueArn, bucketArn }))));
        role(WORKER, pulumi.all([queue.arn, dlq.arn, bucket.arn]).apply(([queueArn, dlqArn, bucketArn]) => JSON.stringify(workerPolicy({ queueArn, dlqArn, bucketArn }))));

        const context = args.images.gateway && args.images.worker ? [] : buildContextFiles(REPO_ROOT);
        const image = (svc: "gateway" | "worker"): pulumi.Output<string> => {
            const given = args.images[svc];
            if (given) return pulumi.output(given);
            const repo = new aws.ecr.Repository(`${name}-${svc}`, { imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true }, forceDelete: true }, child);
            const auth = aws.ecr.getAuthorizationTokenOutput({ registryId: repo.registryId }, child);
            const built = new dockerBuild.Image(
                `${name}-${svc}`,
                {
                    context: { location: REPO_ROOT },
                    dockerfile: { location: path.join(REPO_ROOT, "services", "Dockerfile") },
                    buildArgs: { SERVICE: svc },
                    platforms: ["linux/amd64"],
                    push: true,
                    // IMMUTABLE repository: a fixed tag could be pushed once; a content tag is new exactly when the image is.
                    tags: [pulumi.interpolate`${repo.repositoryUrl}:${contentTag(svc, context)}`],
                    registries: [{ address: repo.repositoryUrl, username: auth.userName, password: auth.password }],
                },
                child,
            );
            // The digest-pinned reference: a rebuild with the same tag still rolls the pods.
            return built.ref;
        };
        this.images = { gateway: image("gateway"), worker: image("worker") };
        this.queueUrl = queue.url;
        this.queueArn = queue.arn;
        this.dlqUrl = dlq.url;
        this.bucketName = bucket.bucket;
        this.registerOutputs({ queueUrl: this.queueUrl, dlqUrl: this.dlqUrl, bucketName: this.bucketName });
    }
}
