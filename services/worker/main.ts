/**
 * Worker process. On SIGTERM (KEDA scale-in, node drain) it stops polling and
 * finishes in-flight jobs within SHUTDOWN_GRACE_MS (keep it below the pod's
 * terminationGracePeriodSeconds); unfinished messages are redelivered.
 */
import * as http from "node:http";
import pino from "pino";
import { collectDefaultMetrics, Registry } from "prom-client";
import { z } from "zod";
import { awsClients, countRequests } from "../shared/aws";
import { endpointsJson, httpUrl, logLevel, parseEnvOrExit } from "../shared/env";
import { JobStore } from "../shared/jobs";
import { Worker } from "./worker";

const env = parseEnvOrExit(
    z.object({
        QUEUE_URL: httpUrl,
        DLQ_URL: httpUrl,
        BUCKET: z.string().min(3),
        AWS_REGION: z.string().min(1),
        AWS_ENDPOINT_URL: httpUrl.optional(),
        AWS_ENDPOINT_URL_SQS: httpUrl.optional(),
        AWS_ENDPOINT_URL_S3: httpUrl.optional(),
        MODEL_ENDPOINTS: endpointsJson,
        CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
        WAIT_TIME_SECONDS: z.coerce.number().int().min(0).max(20).default(20),
        VISIBILITY_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(43200).default(60),
        MAX_RECEIVE_COUNT: z.coerce.number().int().min(1).max(1000).default(5),
        MODEL_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
        ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
        BACKOFF_MS: z.coerce.number().int().min(0).default(500),
        SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(90_000),
        DLQ_RECHECK_SECONDS: z.coerce.number().int().min(0).max(43200).default(43200),
        METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9090),
        LOG_LEVEL: logLevel,
    }),
    process.env,
    "worker",
);

const log = pino({ level: env.LOG_LEVEL });
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const { sqs, s3 } = awsClients({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL, sqsEndpoint: env.AWS_ENDPOINT_URL_SQS, s3Endpoint: env.AWS_ENDPOINT_URL_S3 });
countRequests({ sqs, s3 }, registry);
const worker = new Worker({
    sqs,
    store: new JobStore(s3, env.BUCKET),
    queueUrl: env.QUEUE_URL,
    dlqUrl: env.DLQ_URL,
    endpoints: env.MODEL_ENDPOINTS,
    concurrency: env.CONCURRENCY,
    waitTimeSeconds: env.WAIT_TIME_SECONDS,
    visibilityTimeoutSeconds: env.VISIBILITY_TIMEOUT_SECONDS,
    maxReceiveCount: env.MAX_RECEIVE_COUNT,
    modelTimeoutMs: env.MODEL_TIMEOUT_MS,
    attempts: env.ATTEMPTS,
    backoffMs: env.BACKOFF_MS,
    dlqRecheckSeconds: env.DLQ_RECHECK_SECONDS,
    logger: log,
    registry,
});

const metrics = http.createServer((req, res) => {
    if (req.url === "/metrics") void registry.metrics().then((body) => res.writeHead(200, { "content-type": registry.contentType }).end(body));
    else if (req.url === "/healthz") res.writeHead(200).end("ok");
    else res.writeHead(404).end();
});
if (env.METRICS_PORT > 0) metrics.listen(env.METRICS_PORT);

void worker.start();
log.info({ concurrency: env.CONCURRENCY }, "worker polling");
process.once("SIGTERM", () => {
    log.info("SIGTERM: draining");
    void worker.stop(env.SHUTDOWN_GRACE_MS).then((r) => {
        metrics.close();
        process.exit(r.abandoned > 0 ? 1 : 0);
    });
});
