/** Gateway process: configuration from the environment, graceful shutdown on SIGTERM. */
import { z } from "zod";
import { awsClients } from "../shared/aws";
import { httpUrl, parseEnvOrExit } from "../shared/env";
import { JobStore } from "../shared/jobs";
import { buildGateway } from "./app";

const env = parseEnvOrExit(
    z.object({
        QUEUE_URL: httpUrl,
        BUCKET: z.string().min(3),
        AWS_REGION: z.string().min(1),
        AWS_ENDPOINT_URL: httpUrl.optional(),
        VARIANTS: z.string().transform((s) => s.split(",").map((v) => v.trim()).filter(Boolean)).pipe(z.array(z.string()).min(1, "must list at least one variant, comma-separated")),
        PORT: z.coerce.number().int().min(1).max(65535).default(8080),
        HOST: z.string().default("0.0.0.0"),
        MAX_BODY_BYTES: z.coerce.number().int().positive().default(4 * 1024 * 1024),
    }),
    process.env,
    "gateway",
);

const { sqs, s3 } = awsClients({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL });
const app = buildGateway({ sqs, store: new JobStore(s3, env.BUCKET), queueUrl: env.QUEUE_URL, variants: env.VARIANTS, maxBodyBytes: env.MAX_BODY_BYTES, logger: true });

app.listen({ port: env.PORT, host: env.HOST }).then(
    (address) => app.log.info({ address }, "gateway listening"),
    (err) => {
        app.log.error({ err }, "gateway failed to start");
        process.exit(1);
    },
);
// Stop accepting, finish in-flight requests (Kubernetes sends SIGTERM, then waits the grace period).
process.once("SIGTERM", () => void app.close().then(() => process.exit(0)));
