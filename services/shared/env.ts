/** Service configuration from environment variables, validated once at start with every problem named. */
import { z } from "zod";

export class EnvError extends Error {
    override name = "EnvError";
}

/** An http(s) URL; lenient on host names (local SQS endpoints use hosts like sqs.us-east-1.127.0.0.1). */
export const httpUrl = z.string().regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, "must be an http(s) URL");

/** Parse the environment or exit 2 with the list of problems (no stack trace for a configuration error). */
export function parseEnvOrExit<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv, service: string): z.infer<T> {
    try {
        return parseEnv(schema, env, service);
    } catch (err) {
        if (!(err instanceof EnvError)) throw err;
        console.error(err.message);
        process.exit(2);
    }
}

export function parseEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv, service: string): z.infer<T> {
    const parsed = schema.safeParse(env);
    if (parsed.success) return parsed.data;
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join(".")}: ${i.message}`);
    throw new EnvError([`${service}: invalid environment`, ...lines].join("\n"));
}

/** JSON object of variant name -> model base URL, e.g. {"fp16":"http://llm-fp16.llm.svc.cluster.local"}. */
export const endpointsJson = z.string().transform((s, ctx) => {
    try {
        const v = JSON.parse(s) as unknown;
        const parsed = z.record(z.string().min(1), httpUrl).safeParse(v);
        if (parsed.success && Object.keys(parsed.data).length > 0) return parsed.data;
    } catch {
        // reported below
    }
    ctx.addIssue({ code: "custom", message: 'must be a JSON object of variant name to base URL, e.g. {"fp16":"http://llm-fp16.llm.svc.cluster.local"}' });
    return z.NEVER;
});

/** pino level; tests and benchmarks quieten the services with warn. */
export const logLevel = z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info");
