/** AWS SDK clients from the environment; AWS_ENDPOINT_URL points them at a local SQS/S3 server in tests. */
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";

export interface AwsClientOptions {
    region: string;
    /** A local SQS/S3-compatible endpoint (tests, benchmarks); unset on AWS. */
    endpoint?: string;
}

export function awsClients(o: AwsClientOptions): { sqs: SQSClient; s3: S3Client } {
    const local = o.endpoint ? { endpoint: o.endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {};
    return {
        sqs: new SQSClient({ region: o.region, ...local }),
        // Path-style addressing for local endpoints: no wildcard DNS needed.
        s3: new S3Client({ region: o.region, ...local, ...(o.endpoint ? { forcePathStyle: true } : {}) }),
    };
}
