/** AWS SDK clients from the environment; local endpoints point them at local SQS/S3 servers in tests. */
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { Counter, type Registry } from "prom-client";

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

/**
 * Counts every SQS and S3 request the clients make (`aws_requests_total{service,operation}`): the
 * requests per job are what the path costs on AWS, and what `npm run bench:async` reports.
 */
export function countRequests(clients: { sqs: SQSClient; s3: S3Client }, registry: Registry): void {
    const counter = new Counter({ name: "aws_requests_total", help: "SQS and S3 requests made, by service and operation", labelNames: ["service", "operation"], registers: [registry] });
    for (const [service, client] of [["SQS", clients.sqs], ["S3", clients.s3]] as const) {
        (client.middlewareStack as SQSClient["middlewareStack"]).add(
            (next, context) => async (args) => {
                counter.labels(service, context.commandName?.replace(/Command$/, "") ?? "unknown").inc();
                return next(args);
            },
            { step: "initialize", name: "countRequests" },
        );
    }
}
