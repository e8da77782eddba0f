/** AWS SDK clients from the environment; local endpoints point them at local SQS/S3 servers in tests. */
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";

export interface AwsClientOptions {
    region: string;
    /** A local SQS/S3-compatible endpoint (tests, benchmarks); unset on AWS. */
    endpoint?: string;
    /** Overrides `endpoint` for SQS alone (e.g. fauxqs for the queue, moto for S3). */
    sqsEndpoint?: string;
    /** Overrides `endpoint` for S3 alone. */
    s3Endpoint?: string;
}

const local = (endpoint: string | undefined) => (endpoint ? { endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {});

export function awsClients(o: AwsClientOptions): { sqs: SQSClient; s3: S3Client } {
    const s3Endpoint = o.s3Endpoint ?? o.endpoint;
    return {
        sqs: new SQSClient({ region: o.region, ...local(o.sqsEndpoint ?? o.endpoint) }),
        s3: new S3Client({
            region: o.region,
            ...local(s3Endpoint),
            // Path-style addressing for local endpoints: no wildcard DNS needed.
            ...(s3Endpoint ? { forcePathStyle: true } : {}),
            // No CRC32 of every small JSON body (the SDK's default since 2025): TLS protects them in transit, and the
            // CPU per job is the gateway's and worker's main cost (npm run bench:async).
            requestChecksumCalculation: "WHEN_REQUIRED",
            responseChecksumValidation: "WHEN_REQUIRED",
        }),
    };
}
