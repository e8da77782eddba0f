import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/**
 * The stack's artifact bucket: optimized models (models/<run id>/) and, later,
 * benchmark results (benchmarks/<run id>/). KMS-encrypted, no public access.
 * Kept on `pulumi destroy` (retainOnDelete): trained models and results outlive
 * the GPU stack that made them; delete the bucket by hand when done with them.
 */
export class ArtifactStore extends pulumi.ComponentResource {
    readonly bucketName: pulumi.Output<string>;
    readonly bucketArn: pulumi.Output<string>;

    constructor(name: string, args: Record<string, never> = {}, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:workloads:ArtifactStore", name, args, opts);
        const child = { parent: this };
        const keep = { ...child, retainOnDelete: true };
        const bucket = new aws.s3.Bucket(name, { forceDestroy: false }, keep);
        new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-sse`, { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }] }, keep);
        new aws.s3.BucketPublicAccessBlock(`${name}-public-access`, { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, keep);
        new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, keep);
        this.bucketName = bucket.bucket;
        this.bucketArn = bucket.arn;
        this.registerOutputs({ bucketName: this.bucketName });
    }
}
