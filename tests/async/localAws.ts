/**
 * Real local services for the async path: fauxqs (a real SQS wire-protocol
 * server, in-process on 127.0.0.1) for the queues, moto's S3 server (a child
 * process; it answers conditional writes with 412 as S3 does, fauxqs ignores
 * them) for the job bucket, and a fake TGI server with controllable latency
 * and failures. Loopback only.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { startFauxqs } from "fauxqs";
import { createJobResources } from "../../testing/local/resources";
import { startMotoServer } from "../../testing/local/servers";
import { awsClients } from "../../services/shared/aws";

export { FakeTgi } from "../../testing/local/fakeTgi";

export interface LocalAws {
    /** SQS (fauxqs). */
    sqsEndpoint: string;
    /** S3 (moto). */
    s3Endpoint: string;
    sqs: SQSClient;
    s3: S3Client;
    bucket: string;
    queueUrl: string;
    dlqUrl: string;
    /** The environment a worker or gateway process needs to reach these. */
    env: Record<string, string>;
    stop(): Promise<void>;
}

let counter = 0;

export async function startLocalAws(o: { maxReceiveCount: number; visibilityTimeoutSeconds: number }): Promise<LocalAws> {
    const moto = await startMotoServer();
    const server = await startFauxqs({ port: 0, host: "127.0.0.1", logger: false });
    const { sqs, s3 } = awsClients({ region: "us-east-1", sqsEndpoint: server.address, s3Endpoint: moto.endpoint });
    const r = await createJobResources(sqs, s3, { ...o, suffix: `${process.pid}-${counter++}` });
    return {
        sqsEndpoint: server.address,
        s3Endpoint: moto.endpoint,
        sqs,
        s3,
        ...r,
        env: { AWS_REGION: "us-east-1", AWS_ENDPOINT_URL_SQS: server.address, AWS_ENDPOINT_URL_S3: moto.endpoint, QUEUE_URL: r.queueUrl, DLQ_URL: r.dlqUrl, BUCKET: r.bucket },
        stop: async () => {
            await server.stop();
            await moto.stop();
        },
    };
}

export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
        const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        keys.push(...(out.Contents ?? []).map((c) => c.Key!));
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        const v = await fn();
        if (v !== undefined) return v;
        await new Promise((r) => setTimeout(r, everyMs));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
