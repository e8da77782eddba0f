/** Gateway process: configuration from the environment, graceful shutdown on SIGTERM within a deadline. */
import { Registry } from "prom-client";
import { z } from "zod";
import { awsClients, countRequests } from "../shared/aws";
import { httpUrl, logLevel, parseEnvOrExit } from "../shared/env";
import { JobStore } from "../shared/jobs";
import { buildGateway } from "./app";

const limits = z.string().transform((s, ctx) => {
    try {
        const parsed = z.record(z.string().min(1), z.strictObject({ maxInputTokens: z.int().positive(), maxTotalTokens: z.int().min(2) })).safeParse(JSON.parse(s));
        if (parsed.success) return parsed.data;
    } catch {
        // reported below
    }
    ctx.addIssue({ code: "custom", message: 'must be a JSON object of variant name to token limits, e.g. {"fp16":{"maxInputTokens":2048,"maxTotalTokens":4096}}' });
    return z.NEVER;
});

const env = parseEnvOrExit(
    z.object({
        QUEUE_URL: httpUrl,
        BUCKET: z.string().min(3),
        AWS_REGION: z.string().min(1),
        AWS_ENDPOINT_URL: httpUrl.optional(),
        AWS_ENDPOINT_URL_SQS: httpUrl.optional(),
        AWS_ENDPOINT_URL_S3: httpUrl.optional(),
        VARIANTS: z.string().transform((s) => s.split(",").map((v) => v.trim()).filter(Boolean)).pipe(z.array(z.string()).min(1, "must list at least one variant, comma-separated")),
        VARIANT_LIMITS: limits.optional(),
        PORT: z.coerce.number().int().min(1).max(65535).default(8080),
        HOST: z.string().default("0.0.0.0"),
        MAX_BODY_BYTES: z.coerce.number().int().positive().default(4 * 1024 * 1024),
        REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
        /** Keep below the pod's terminationGracePeriodSeconds minus the preStop sleep. */
        SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(20_000),
        LOG_LEVEL: logLevel,
    }),
    process.env,
    "gateway",
);

const { sqs, s3 } = awsClients({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL, sqsEndpoint: env.AWS_ENDPOINT_URL_SQS, s3Endpoint: env.AWS_ENDPOINT_URL_S3 });
const registry = new Registry();
countRequests({ sqs, s3 }, registry);
const app = buildGateway({
    registry,
    sqs,
    store: new JobStore(s3, env.BUCKET),
    queueUrl: env.QUEUE_URL,
    variants: env.VARIANTS,
    limits: env.VARIANT_LIMITS,
    maxBodyBytes: env.MAX_BODY_BYTES,
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    logger: { level: env.LOG_LEVEL },
});

app.listen({ port: env.PORT, host: env.HOST }).then(
    (address) => app.log.info({ address }, "gateway listening"),
    (err) => {
        app.log.error({ err }, "gateway failed to start");
        process.exit(1);
    },
);
// Stop accepting, finish in-flight requests; past the deadline cut what is left (a client stuck mid-body
// must not keep the pod until Kubernetes kills it).
process.once("SIGTERM", () => {
    const deadline = setTimeout(() => {
        app.log.warn({ deadlineMs: env.SHUTDOWN_TIMEOUT_MS }, "shutdown deadline passed; closing the remaining connections");
        app.server.closeAllConnections();
        process.exit(1);
    }, env.SHUTDOWN_TIMEOUT_MS);
    void app.close().then(() => {
        clearTimeout(deadline);
        process.exit(0);
    });
});
