/**
 * Turns the raw Pulumi config map into a validated StackConfig, or one
 * ConfigError listing every problem by its key path (`mlserve:gpuNodes.minSize`),
 * the value given and what is allowed. Nothing here registers a resource.
 */
import type { z } from "zod";
import * as pulumi from "@pulumi/pulumi";
import { GPU_INSTANCE_TYPES, isGpuInstanceType } from "../../components/platform/cluster/instanceTypes";
import { variantWarnings } from "../../components/workloads/llm/engines";
import { SECRET_KEYS } from "./fleet";
import type { Issue } from "./rules";
import { awsRegion, MLSERVE_KEYS, STACK_RULES, stackConfigSchema, type StackConfig } from "./schema";
import { didYouMean } from "./suggest";
import { applyParking, parkingWarnings } from "../lifecycle/park";

export const NAMESPACE = "mlserve";

export interface ConfigProblem {
    /** Full key path, e.g. `mlserve:gpuNodes.minSize`. */
    path: string;
    /** The value given, as JSON, or undefined when the key was missing. */
    given?: string;
    message: string;
}

export class ConfigError extends Error {
    constructor(
        readonly problems: ConfigProblem[],
        readonly source: string,
    ) {
        super(formatProblems(problems, source));
        this.name = "ConfigError";
    }
}

export interface LoadedConfig {
    config: StackConfig;
    /** Valid but questionable settings, printed by the plan and logged by `pulumi up`. */
    warnings: string[];
}

/**
 * @param raw the flat config map as Pulumi holds it (`{"mlserve:cluster": "{...json}", "aws:region": "us-east-1"}`)
 * @param source where the map came from, for the message (e.g. `Pulumi.dev.yaml`)
 */
export function parseStackConfig(
    raw: Record<string, string>,
    ctx: { project: string; stack: string; source: string; isSecret?: (fullKey: string) => boolean },
): LoadedConfig {
    const problems: ConfigProblem[] = [];
    const mlserve: Record<string, unknown> = {};
    const secrets: StackConfig["secrets"] = {};
    const allowed = [...MLSERVE_KEYS, ...SECRET_KEYS];

    for (const [fullKey, value] of Object.entries(raw)) {
        // Other namespaces (aws:region, pulumi:tags, ...) are not this loader's to check.
        if (!fullKey.startsWith(`${NAMESPACE}:`)) continue;
        const key = fullKey.slice(NAMESPACE.length + 1);
        const secretKey = SECRET_KEYS.find((k) => k === key);
        if (secretKey) {
            // Never echo the value: it is a credential, even when it was stored in the clear by mistake.
            if (ctx.isSecret && !ctx.isSecret(fullKey)) {
                problems.push({ path: fullKey, message: `must be stored encrypted: run \`pulumi config set --secret ${fullKey} <value>\`` });
            } else if (value.trim() === "") {
                problems.push({ path: fullKey, message: "is empty" });
            } else {
                secrets[secretKey] = pulumi.secret(value);
            }
            continue;
        }
        if (!MLSERVE_KEYS.includes(key)) {
            problems.push({
                path: fullKey,
                given: preview(parseValue(value)),
                message: `unknown key${didYouMean(key, allowed)}; known keys: ${allowed.map((k) => `${NAMESPACE}:${k}`).join(", ")}`,
            });
            continue;
        }
        mlserve[key] = parseValue(value);
    }

    const regionRaw = raw["aws:region"];
    const region = awsRegion.safeParse(regionRaw);
    if (!region.success) {
        problems.push({
            path: "aws:region",
            given: regionRaw === undefined ? undefined : preview(regionRaw),
            message:
                regionRaw === undefined
                    ? "is required: run `pulumi config set aws:region us-east-1`"
                    : "must be an AWS region such as us-east-1",
        });
    }

    // The stack name becomes part of the EKS cluster name and AWS resource names.
    if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(ctx.stack)) {
        problems.push({
            path: "(stack name)",
            given: JSON.stringify(ctx.stack),
            message: "must be 1-31 lowercase letters, digits or '-', starting with a letter or digit (it names the EKS cluster)",
        });
    }

    const parsed = stackConfigSchema.safeParse(mlserve, { reportInput: true });
    if (!parsed.success) problems.push(...parsed.error.issues.flatMap(toProblems));
    problems.push(...ruleProblems(mlserve));

    if (problems.length > 0 || !parsed.success || !region.success) {
        throw new ConfigError(problems, ctx.source);
    }
    const config: StackConfig = { ...parsed.data, project: ctx.project, stack: ctx.stack, region: region.data, secrets };
    // A stack that is valid running but not parked would fail the day someone parks it (or the reaper does).
    const parkedProblems = parkedConfigProblems(config);
    if (parkedProblems.length > 0) throw new ConfigError(parkedProblems, ctx.source);
    return { config, warnings: [...configWarnings(config), ...parkingWarnings(config)] };
}

/**
 * The parked form of a config (what `applyParking` makes of it), validated with
 * the same schema and rules as the config itself; problems carry their key path.
 * Runs on every config, parked or not.
 */
export function parkedConfigProblems(config: StackConfig, park: (c: StackConfig) => StackConfig = applyParking): ConfigProblem[] {
    const parked = park({ ...config, lifecycle: { ...config.lifecycle, parked: true } });
    const { project: _p, stack: _s, region: _r, secrets: _secrets, ...mlserve } = parked;
    const result = stackConfigSchema.safeParse(mlserve, { reportInput: true });
    const problems = [...(result.success ? [] : result.error.issues.flatMap(toProblems)), ...ruleProblems(mlserve)];
    return problems.map((p) => ({ ...p, message: `when parked (mlserve:lifecycle.parked: true): ${p.message}` }));
}

/** Every area's cross-field rules, on the raw `mlserve:` map (each rule parses what it reads). */
function ruleProblems(mlserve: Record<string, unknown>): ConfigProblem[] {
    return STACK_RULES.flatMap((check) => check(mlserve)).map(issueProblem);
}

function issueProblem(issue: Issue): ConfigProblem {
    return { path: `${NAMESPACE}:${pathText(issue.path)}`, given: issue.input === undefined ? undefined : preview(issue.input), message: issue.message };
}

function configWarnings(c: StackConfig): string[] {
    const warnings: string[] = [];
    if (c.cluster.endpointPublicAccess && c.cluster.publicAccessCidrs.includes("0.0.0.0/0")) {
        warnings.push(
            "mlserve:cluster.publicAccessCidrs includes 0.0.0.0/0: the Kubernetes API is reachable from the whole internet (authentication still applies). Restrict it for shared or production stacks.",
        );
    }
    if (c.cluster.natGateways === "single") {
        warnings.push("mlserve:cluster.natGateways is \"single\": nodes lose egress if that AZ fails. Use \"perAz\" in production.");
    }
    const gpu = isGpuInstanceType(c.gpuNodes.instanceType) ? GPU_INSTANCE_TYPES[c.gpuNodes.instanceType] : undefined;
    c.variants.forEach((v, i) => {
        for (const w of variantWarnings(v, gpu)) {
            warnings.push(`mlserve:variants[${i}].${w.field} (variant ${v.name}): ${w.message}`);
        }
        if (v.autoscaling.enabled && v.replicas === 0) {
            warnings.push(`mlserve:variants[${i}].autoscaling (variant ${v.name}): the variant is parked (replicas 0), so it is not autoscaled until replicas is at least 1`);
        }
    });
    const peakGpus = c.variants.reduce((n, v) => n + (v.replicas > 0 && v.autoscaling.enabled ? v.autoscaling.maxReplicas : v.replicas) * v.gpus, 0);
    if (gpu && peakGpus > gpu.gpus * c.gpuNodes.maxSize) {
        warnings.push(`mlserve:variants: at full autoscale the variants want ${peakGpus} GPU(s), more than mlserve:gpuNodes.maxSize allows (${gpu.gpus * c.gpuNodes.maxSize}); the extra replicas stay Pending`);
    }
    if (c.gpuNodes.capacityType === "SPOT") {
        warnings.push("mlserve:gpuNodes.capacityType is SPOT: GPU nodes can be reclaimed mid-benchmark; results of an interrupted run are not comparable.");
    }
    return warnings;
}

/** Pulumi stores structured values as JSON strings and scalars as plain strings. */
export function parseValue(value: string): unknown {
    try {
        return JSON.parse(value);
    } catch {
        return value;
    }
}

function pathText(path: readonly PropertyKey[]): string {
    return path.reduce<string>(
        (acc, seg) => (typeof seg === "number" ? `${acc}[${seg}]` : acc ? `${acc}.${String(seg)}` : String(seg)),
        "",
    );
}

/**
 * The keys `root` declares for the object at `path` (a zod issue's path), for "did you mean":
 * through objects, records and arrays, and the wrappers zod puts around them. The stack schema
 * uses only some of these today (prefault); the others keep the hint working when it changes.
 */
export function knownKeysAt(path: readonly PropertyKey[], root: unknown = stackConfigSchema): string[] {
    type Def = { type: string; innerType?: unknown; in?: unknown; shape?: Record<string, unknown>; valueType?: unknown; element?: unknown };
    const defOf = (s: unknown) => (s as { def?: Def } | undefined)?.def;
    const unwrap = (s: unknown): unknown => {
        let cur = s;
        for (let d = defOf(cur); d && ["default", "prefault", "optional", "nullable", "pipe"].includes(d.type); d = defOf(cur)) {
            cur = d.innerType ?? d.in;
        }
        return cur;
    };
    let schema = unwrap(root);
    for (const seg of path) {
        const d = defOf(schema);
        if (d?.type === "object") schema = unwrap(d.shape?.[String(seg)]);
        else if (d?.type === "record") schema = unwrap(d.valueType);
        else if (d?.type === "array") schema = unwrap(d.element);
        else return [];
    }
    const d = defOf(schema);
    return d?.type === "object" ? Object.keys(d.shape ?? {}) : [];
}

function toProblems(issue: z.core.$ZodIssue): ConfigProblem[] {
    if (issue.code === "unrecognized_keys") {
        const known = knownKeysAt(issue.path);
        return issue.keys.map((key) => ({
            path: `${NAMESPACE}:${pathText([...issue.path, key])}`,
            message: `unknown key${didYouMean(key, known)}; known keys here: ${known.join(", ")}`,
        }));
    }
    return [{ path: `${NAMESPACE}:${pathText(issue.path)}`, given: issue.input === undefined ? undefined : preview(issue.input), message: issue.message }];
}

function preview(value: unknown): string {
    const s = JSON.stringify(value) ?? String(value);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export function formatProblems(problems: ConfigProblem[], source: string): string {
    const lines = problems.map((p) => `  - ${p.path}: ${p.given === undefined ? "" : `got ${p.given}; `}${p.message}`);
    return [
        `Invalid stack configuration in ${source}: ${problems.length} problem${problems.length === 1 ? "" : "s"}.`,
        ...lines,
        "Fix them in the stack file or with `pulumi config set --path <key> <value>`; no resources were registered.",
    ].join("\n");
}
