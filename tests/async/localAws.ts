/**
 * Real local services for the async path: fauxqs (a real SQS + S3 wire-protocol
 * server, in-process on 127.0.0.1) and a fake TGI server with controllable
 * latency and failures. Loopback only.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { CreateBucketCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { startFauxqs } from "fauxqs";
import { awsClients } from "../../services/shared/aws";

export interface LocalAws {
    endpoint: string;
    sqs: SQSClient;
    s3: S3Client;
    bucket: string;
    queueUrl: string;
    dlqUrl: string;
    stop(): Promise<void>;
}

let counter = 0;

export async function startLocalAws(o: { maxReceiveCount: number; visibilityTimeoutSeconds: number }): Promise<LocalAws> {
    const server = await startFauxqs({ port: 0, host: "127.0.0.1", logger: false });
    const { sqs, s3 } = awsClients({ region: "us-east-1", endpoint: server.address });
    const suffix = `${process.pid}-${counter++}`;
    const bucket = `mlserve-jobs-${suffix}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `jobs-dlq-${suffix}` }));
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }))).Attributes!.QueueArn!;
    const queue = await sqs.send(
        new CreateQueueCommand({
            QueueName: `jobs-${suffix}`,
            Attributes: {
                VisibilityTimeout: String(o.visibilityTimeoutSeconds),
                RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: o.maxReceiveCount }),
            },
        }),
    );
    return { endpoint: server.address, sqs, s3, bucket, queueUrl: queue.QueueUrl!, dlqUrl: dlq.QueueUrl!, stop: () => server.stop() };
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

/**
 * A fake TGI `/generate`. Directives in `inputs` control it:
 *   [latency=MS]   answer after MS milliseconds
 *   [fail=N]       answer 503 to the first N calls with these inputs
 *   [status=CODE]  always answer CODE (e.g. 422: a poison request)
 *   [hang]         never answer (the worker's timeout fires)
 */
export class FakeTgi {
    readonly calls = new Map<string, number>();
    private server?: http.Server;
    private readonly hanging = new Set<http.ServerResponse>();
    url = "";

    get totalCalls(): number {
        return [...this.calls.values()].reduce((a, b) => a + b, 0);
    }

    async start(): Promise<this> {
        this.server = http.createServer((req, res) => {
            if (req.method !== "POST" || req.url !== "/generate") return void res.writeHead(404).end();
            let body = "";
            req.on("data", (c) => (body += c));
            req.on("end", () => {
                let inputs = "";
                try {
                    inputs = String((JSON.parse(body) as { inputs?: unknown }).inputs ?? "");
                } catch {
                    return void res.writeHead(422, { "content-type": "application/json" }).end('{"error":"bad json"}');
                }
                const n = (this.calls.get(inputs) ?? 0) + 1;
                this.calls.set(inputs, n);
                const num = (name: string) => Number(new RegExp(`\\[${name}=(\\d+)\\]`).exec(inputs)?.[1] ?? NaN);
                if (inputs.includes("[hang]")) return void this.hanging.add(res);
                const reply = () => {
                    if (!Number.isNaN(num("status"))) return res.writeHead(num("status"), { "content-type": "application/json" }).end('{"error":"Input validation error"}');
                    if (!Number.isNaN(num("fail")) && n <= num("fail")) return res.writeHead(503, { "content-type": "application/json" }).end('{"error":"overloaded"}');
                    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ generated_text: `echo: ${inputs}` }));
                };
                const latency = num("latency");
                if (Number.isNaN(latency)) reply();
                else setTimeout(reply, latency);
            });
        });
        await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
        this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
        return this;
    }

    async stop(): Promise<void> {
        for (const res of this.hanging) res.destroy();
        await new Promise<void>((resolve) => this.server?.close(() => resolve()));
    }
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
