/**
 * Pulumi program entry (`main` in Pulumi.yaml): read and validate the stack
 * config, then wire the components. Bad config stops here with one message
 * listing every problem, before any resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseStackConfig } from "./config/load";
import { buildPlatform } from "./program";

function loadConfig() {
    const stack = pulumi.getStack();
    try {
        const isConfigSecret = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
        return parseStackConfig(pulumi.runtime.allConfig(), { project: pulumi.getProject(), stack, source: `Pulumi.${stack}.yaml`, isSecret: isConfigSecret });
    } catch (err) {
        // RunError prints just the message: a user error, not a stack trace.
        if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
        throw err;
    }
}

const { config, warnings } = loadConfig();
for (const warning of warnings) pulumi.log.warn(warning);

export = buildPlatform(config);
