/**
 * Reads Pulumi.<stack>.yaml into the flat config map Pulumi itself would hand
 * the program (`{"mlserve:cluster": "<json>"}`). Encrypted (`secure:`) values
 * cannot be decrypted offline: they become a placeholder and stay secret.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export const OFFLINE_SECRET_PLACEHOLDER = "offline-plan-placeholder-secret";

export interface StackFile {
    source: string;
    config: Record<string, string>;
    secretKeys: string[];
}

export class StackFileError extends Error {
    override name = "StackFileError";
}

function isSecure(v: unknown): boolean {
    return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v;
}

/** Replace `{secure: ...}` leaves with a placeholder; report whether any was found. */
function stripSecure(v: unknown): { value: unknown; secret: boolean } {
    if (isSecure(v)) return { value: OFFLINE_SECRET_PLACEHOLDER, secret: true };
    if (Array.isArray(v)) {
        const items = v.map(stripSecure);
        return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
    }
    if (typeof v === "object" && v !== null) {
        let secret = false;
        const out: Record<string, unknown> = {};
        for (const [k, inner] of Object.entries(v)) {
            const r = stripSecure(inner);
            out[k] = r.value;
            secret ||= r.secret;
        }
        return { value: out, secret };
    }
    return { value: v, secret: false };
}

/** Build the flat map from a parsed `config:` section. */
export function flattenStackConfig(config: Record<string, unknown>, source: string): StackFile {
    const flat: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, raw] of Object.entries(config)) {
        if (!key.includes(":")) {
            throw new StackFileError(`${source}: config key "${key}" has no namespace; write it as "mlserve:${key}" (or "aws:${key}")`);
        }
        const { value, secret } = stripSecure(raw);
        flat[key] = typeof value === "string" ? value : JSON.stringify(value);
        if (secret) secretKeys.push(key);
    }
    return { source, config: flat, secretKeys };
}

export function listStacks(root: string): string[] {
    return fs
        .readdirSync(root)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

export function readStackFile(root: string, stack: string): StackFile {
    const source = `Pulumi.${stack}.yaml`;
    const file = path.join(root, source);
    if (!fs.existsSync(file)) {
        throw new StackFileError(`no ${source} in ${root}; stacks here: ${listStacks(root).join(", ") || "none"}`);
    }
    let doc: unknown;
    try {
        doc = parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
        throw new StackFileError(`${source} is not valid YAML: ${(err as Error).message}`);
    }
    const config = (doc as { config?: unknown } | null)?.config ?? {};
    if (typeof config !== "object" || config === null || Array.isArray(config)) {
        throw new StackFileError(`${source}: "config" must be a map of keys to values`);
    }
    return flattenStackConfig(config as Record<string, unknown>, source);
}

/** The same stack file with `mlserve:lifecycle.parked` set, for the plan's parked-vs-running cost. */
export function withParked(file: StackFile, parked: boolean): StackFile {
    const raw = file.config["mlserve:lifecycle"];
    let lifecycle: Record<string, unknown> = {};
    try {
        lifecycle = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
        // Invalid JSON is reported by config validation of the first rendering.
    }
    return { ...file, config: { ...file.config, "mlserve:lifecycle": JSON.stringify({ ...lifecycle, parked }) } };
}
