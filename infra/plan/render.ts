/**
 * Runs the real program for a stack config under Pulumi's mock runtime and
 * records every resource it registers: the engine of `npm run plan` and the
 * tests' shared helper. Mocks are installed before the program is imported.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { LoadedConfig } from "../config/load";
import type { StackConfig } from "../config/schema";
import { createMocks } from "./mocks";
import { readStackFile, type StackFile } from "./stackFile";

/** What every secret value becomes in a recording: the value itself is never kept. */
export const REDACTED = "[secret]";

export interface RecordedResource {
    urn: string;
    type: string;
    name: string;
    /** URN of the parent resource, or undefined for top-level resources. */
    parent?: string;
    custom: boolean;
    /** A multi-language component (e.g. eks:index:Cluster) whose children the mock runtime cannot see. */
    remote: boolean;
    /** URNs this resource waits for (explicit dependsOn and those of its inputs). */
    dependencies: string[];
    /** URN of the explicit provider it uses; the engine also waits for (and deletes before) it. */
    provider?: string;
    /**
     * Providers by package given explicitly to a component. The engine merges a component's map
     * into its multi-language children (pulumi/pulumi#24125), so this is how eks:index:Cluster's
     * invisible children get the stack's AWS provider.
     */
    providers?: Record<string, string>;
    /** Input paths `pulumi up` leaves alone after creation (the `ignoreChanges` option). */
    ignoreChanges: string[];
    /** Inputs as registered, secrets replaced by REDACTED. */
    inputs: Record<string, unknown>;
    /** Inputs plus the mocks' fake outputs (IDs, auto-names), secrets replaced by REDACTED. */
    state: Record<string, unknown>;
}

export interface StackOutput {
    value: unknown;
    secret: boolean;
}

export interface Rendering {
    stack: string;
    source: string;
    config: StackConfig;
    warnings: string[];
    resources: RecordedResource[];
    outputs: Record<string, StackOutput>;
}

export const PROJECT = "mlserve";
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

function isSecretWrapper(v: unknown): v is { value: unknown } {
    return (
        typeof v === "object" &&
        v !== null &&
        (v as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig
    );
}

/** Deep copy with every secret wrapper replaced by REDACTED. */
export function redact(value: unknown): unknown {
    if (isSecretWrapper(value)) return REDACTED;
    if (Array.isArray(value)) return value.map(redact);
    if (value !== null && typeof value === "object") {
        if (pulumi.asset.Asset.isInstance(value) || pulumi.asset.Archive.isInstance(value)) return "[asset]";
        return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redact(v)]));
    }
    return value;
}

// The mock monitor is the Pulumi SDK's; we observe its registerResource calls to
// learn what it does not pass to mocks.newResource: parent, dependencies, secrets.
interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getRemote(): boolean;
    getDependenciesList(): string[];
    getProvider(): string;
    getProvidersMap(): { toArray(): Array<[string, string]> };
    getIgnorechangesList(): string[];
    getObject(): unknown;
}
interface RegisterResponse {
    getUrn(): string;
    getObject(): unknown;
}
type Callback = (err: Error | null, resp?: RegisterResponse) => void;

function installRecorder(into: RecordedResource[]): void {
    const monitor = pulumi.runtime.getMonitor() as unknown as {
        registerResource(req: RegisterRequest, cb: Callback): unknown;
    };
    const original = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: RegisterRequest, cb: Callback) =>
        original(req, (err, resp) => {
            if (!err && resp) {
                const deserialize = pulumi.runtime.deserializeProperties as (s: unknown, keepUnknowns?: boolean) => Record<string, unknown>;
                into.push({
                    urn: resp.getUrn(),
                    type: req.getType(),
                    name: req.getName(),
                    parent: req.getParent() || undefined,
                    custom: req.getCustom(),
                    remote: req.getRemote(),
                    dependencies: [...new Set(req.getDependenciesList())],
                    // A provider reference is "<urn>::<id>".
                    provider: req.getProvider() ? req.getProvider().split("::").slice(0, -1).join("::") : undefined,
                    providers: req.getCustom() ? undefined : Object.fromEntries(req.getProvidersMap().toArray().map(([pkg, ref]) => [pkg, ref.split("::").slice(0, -1).join("::")])),
                    ignoreChanges: req.getIgnorechangesList(),
                    inputs: redact(deserialize(req.getObject())) as Record<string, unknown>,
                    state: redact(deserialize(resp.getObject())) as Record<string, unknown>,
                });
            }
            cb(err, resp);
        });
}

async function resolveOutput(value: unknown): Promise<StackOutput> {
    const out = pulumi.output(value) as pulumi.Output<unknown>;
    const [resolved, secret] = await Promise.all([
        new Promise<unknown>((resolve) => out.apply((v) => resolve(v))),
        (out as unknown as { isSecret: Promise<boolean> }).isSecret,
    ]);
    return { value: secret ? REDACTED : resolved, secret };
}

export interface RenderOptions {
    /** Stack name; its Pulumi.<stack>.yaml is read unless `stackFile` is given. */
    stack: string;
    /** Use this config instead of the file (tests). */
    stackFile?: StackFile;
    /** Directory holding Pulumi.<stack>.yaml. Default: the repository root. */
    root?: string;
    /**
     * What to run with the validated config. Default: the whole platform
     * (`buildPlatform`); tests pass a function that builds one component.
     */
    build?: (config: StackConfig) => unknown;
}

let renderQueue: Promise<unknown> = Promise.resolve();

/**
 * Render a stack. Throws ConfigError (with every problem) when the config is
 * invalid; in that case the program never started and nothing was registered.
 * Renders run one at a time: the Pulumi runtime is process-global.
 */
export function renderStack(opts: RenderOptions): Promise<Rendering> {
    const run = renderQueue.then(() => renderOnce(opts));
    renderQueue = run.catch(() => undefined);
    return run;
}

async function renderOnce(opts: RenderOptions): Promise<Rendering> {
    const file = opts.stackFile ?? readStackFile(opts.root ?? REPO_ROOT, opts.stack);
    const region = file.config["aws:region"] ?? "us-east-1";
    const resources: RecordedResource[] = [];
    const failures: unknown[] = [];
    const onRejection = (reason: unknown) => failures.push(reason);
    process.on("unhandledRejection", onRejection);
    try {
        pulumi.runtime.setMocks(createMocks(region), PROJECT, opts.stack, false);
        installRecorder(resources);
        pulumi.runtime.setAllConfig(file.config, file.secretKeys);

        // Imported after the mocks, as the Pulumi testing guide requires.
        const { parseStackConfig } = await import("../config/load");
        const build = opts.build ?? (await import("../program")).buildPlatform;
        const loaded: LoadedConfig = parseStackConfig(pulumi.runtime.allConfig(), {
            project: PROJECT,
            stack: opts.stack,
            source: file.source,
            isSecret: (key) => file.secretKeys.includes(key),
        });
        const programOutputs = (build(loaded.config) ?? {}) as Record<string, unknown>;

        const outputs: Record<string, StackOutput> = {};
        for (const [key, value] of Object.entries(programOutputs)) outputs[key] = await resolveOutput(value);
        await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
        await new Promise((resolve) => setImmediate(resolve));
        if (failures.length > 0) {
            const first = failures[0];
            throw first instanceof Error ? first : new Error(String(first));
        }
        return { stack: opts.stack, source: file.source, config: loaded.config, warnings: loaded.warnings, resources, outputs };
    } finally {
        process.off("unhandledRejection", onRejection);
    }
}
