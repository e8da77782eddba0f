/**
 * The Helm layer, rendered for real: every `kubernetes:helm.sh/v3:Release` the
 * recorded plan declares is rendered by the pinned helm CLI from the pinned
 * chart archive in the reference data (infra/plan/reference.ts), with exactly the values the
 * program passes. Release extraction and value clean-up are pure; running helm
 * and the on-disk cache are the thin I/O around them.
 */
import { createHash } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parseAllDocuments } from "yaml";
import { chartIndex, chartKey, type ChartArchive } from "./helmChart";
import { referenceDir } from "./reference";
import type { RecordedResource, Rendering } from "./render";
import { REDACTED, REPO_ROOT } from "./render";

/** The pinned chart archives; throws one ReferenceDataError naming `npm run reference:fetch` when there are none. */
export const chartDir = (): string => referenceDir("charts");
export const HELM_RELEASE_TYPE = "kubernetes:helm.sh/v3:Release";
/** Where rendered charts are cached between runs (keyed by helm version, archive, values). */
export const HELM_CACHE_DIR = path.join(REPO_ROOT, "out", "helm-cache");

export class HelmNotFoundError extends Error {
    override name = "HelmNotFoundError";
}

/**
 * The helm binary: on PATH, else in Go's bin folder (where `npm run tools:install`
 * puts it). Go's default GOPATH is ~/go; the home folder comes from the user
 * database too, so a caller that overrides HOME still finds it.
 */
export function findHelm(env: NodeJS.ProcessEnv = process.env, home: string = os.userInfo().homedir): string {
    const candidates = (env.PATH ?? "").split(path.delimiter).filter(Boolean).map((d) => path.join(d, "helm"));
    if (env.GOBIN) candidates.push(path.join(env.GOBIN, "helm"));
    for (const gopath of [env.GOPATH, goEnvGopath(env)].filter(Boolean) as string[]) {
        for (const p of gopath.split(path.delimiter)) candidates.push(path.join(p, "bin", "helm"));
    }
    candidates.push(path.join(home, "go", "bin", "helm"));
    const found = candidates.find((c) => {
        try {
            fs.accessSync(c, fs.constants.X_OK);
            return true;
        } catch {
            return false;
        }
    });
    if (!found) {
        throw new HelmNotFoundError("helm not found on PATH or in $(go env GOPATH)/bin: run `npm run tools:install` (installs the helm version .ci/install-tools.sh pins)");
    }
    return found;
}

function goEnvGopath(env: NodeJS.ProcessEnv): string | undefined {
    try {
        return execFileSync("go", ["env", "GOPATH"], { encoding: "utf8", env, stdio: ["ignore", "pipe", "ignore"] }).trim() || undefined;
    } catch {
        return undefined;
    }
}

export function helmVersion(helm: string): string {
    return execFileSync(helm, ["version", "--short"], { encoding: "utf8" }).trim();
}

/** What `pulumi up` would hand to Helm for one Release. */
export interface DeclaredRelease {
    /** Pulumi logical name and URN. */
    resourceName: string;
    urn: string;
    /** Helm release name. */
    name: string;
    chart: string;
    version: string;
    namespace: string;
    values: Record<string, unknown>;
    /** Pulumi's Release installs the chart's CRDs unless skipCrds is set. */
    includeCrds: boolean;
}

/** Every Helm release the recorded plan declares, in registration order. */
export function declaredReleases(resources: readonly RecordedResource[]): DeclaredRelease[] {
    return resources
        .filter((r) => r.type === HELM_RELEASE_TYPE)
        .map((r) => {
            const i = r.inputs;
            const name = typeof r.state.name === "string" ? r.state.name : String(i.name ?? r.name);
            return {
                resourceName: r.name,
                urn: r.urn,
                name,
                chart: String(i.chart),
                version: String(i.version),
                namespace: typeof i.namespace === "string" ? i.namespace : "default",
                values: (i.values ?? {}) as Record<string, unknown>,
                includeCrds: i.skipCrds !== true,
            };
        });
}

/** Stands in for a value the plan cannot know (an unknown output); a string so every chart still renders. */
export const UNKNOWN_PLACEHOLDER = "UNKNOWN-AT-PLAN-TIME";

/**
 * Values as helm will see them, and where they hold plan placeholders: unknown
 * outputs (Pulumi's unknown sentinel) become UNKNOWN_PLACEHOLDER; redacted
 * secrets stay "[secret]". Both are strings, so templates render; the paths are
 * reported so nobody mistakes a placeholder for a checked value.
 */
export function planValues(values: unknown, at = ""): { values: unknown; placeholders: string[] } {
    if (values === pulumi.runtime.unknownValue) return { values: UNKNOWN_PLACEHOLDER, placeholders: [at] };
    if (values === REDACTED) return { values, placeholders: [at] };
    if (Array.isArray(values)) {
        const parts = values.map((v, i) => planValues(v, `${at}[${i}]`));
        return { values: parts.map((p) => p.values), placeholders: parts.flatMap((p) => p.placeholders) };
    }
    if (values !== null && typeof values === "object") {
        const entries = Object.entries(values as Record<string, unknown>).map(([k, v]) => [k, planValues(v, at ? `${at}.${k}` : k)] as const);
        return { values: Object.fromEntries(entries.map(([k, p]) => [k, p.values])), placeholders: entries.flatMap(([, p]) => p.placeholders) };
    }
    return { values, placeholders: [] };
}

export type K8sObject = Record<string, unknown> & { apiVersion?: unknown; kind?: unknown; metadata?: { name?: string; namespace?: string } };

export interface RenderedRelease {
    release: DeclaredRelease;
    archive: ChartArchive;
    /** helm's output, unchanged (what --include-charts writes). */
    yaml: string;
    objects: K8sObject[];
    placeholders: string[];
}

export class ChartNotFoundError extends Error {
    override name = "ChartNotFoundError";
}

/** Parse multi-document YAML into objects, dropping empty documents. */
export function parseManifests(text: string): K8sObject[] {
    return parseAllDocuments(text)
        .map((d) => {
            if (d.errors.length) throw new Error(`helm output is not valid YAML: ${d.errors[0]!.message}`);
            return d.toJS() as K8sObject | null;
        })
        .filter((o): o is K8sObject => o !== null && typeof o === "object");
}

export interface RenderChartsOptions {
    kubeVersion: string;
    chartDir?: string;
    helm?: string;
    /** Directory for cached renders; undefined disables the cache. Default HELM_CACHE_DIR. */
    cacheDir?: string | null;
}

/** Render every declared release of a recorded plan with helm (cached on disk by input hash). */
export function renderCharts(rendering: Pick<Rendering, "resources">, opts: RenderChartsOptions): RenderedRelease[] {
    const dir = opts.chartDir ?? chartDir();
    const index = chartIndex(dir);
    const helm = opts.helm ?? findHelm();
    const version = helmVersion(helm);
    const cacheDir = opts.cacheDir === undefined ? HELM_CACHE_DIR : opts.cacheDir;
    return declaredReleases(rendering.resources).map((release) => {
        const archive = index.get(chartKey(release.chart, release.version));
        if (!archive) {
            throw new ChartNotFoundError(
                `no chart archive for ${release.chart} ${release.version} (release ${release.name}) in ${dir}; have: ${[...index.keys()].join(", ")}`,
            );
        }
        const { values, placeholders } = planValues(release.values);
        const args = ["template", release.name, archive.file, "--namespace", release.namespace, "--kube-version", opts.kubeVersion];
        if (release.includeCrds) args.push("--include-crds");
        const valuesJson = JSON.stringify(values);
        const key = createHash("sha256")
            .update([version, createHash("sha256").update(fs.readFileSync(archive.file)).digest("hex"), ...args.filter((a) => a !== archive.file), valuesJson].join("\n"))
            .digest("hex")
            .slice(0, 24);
        const cached = cacheDir ? readCache(cacheDir, key) : undefined;
        if (cached) return { release, archive, ...cached, placeholders };
        const yaml = runHelm(helm, args, valuesJson, release);
        const objects = parseManifests(yaml);
        if (cacheDir) writeCache(cacheDir, key, { yaml, objects });
        return { release, archive, yaml, objects, placeholders };
    });
}

function runHelm(helm: string, args: string[], valuesJson: string, release: DeclaredRelease): string {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mlserve-helm-"));
    try {
        const valuesFile = path.join(tmp, "values.json");
        fs.writeFileSync(valuesFile, valuesJson);
        const r = spawnSync(helm, [...args, "-f", valuesFile], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
        if (r.status !== 0) throw new Error(`helm template failed for release ${release.name} (${release.chart} ${release.version}): ${r.stderr || r.error?.message}`);
        return r.stdout;
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

function readCache(dir: string, key: string): { yaml: string; objects: K8sObject[] } | undefined {
    try {
        return JSON.parse(fs.readFileSync(path.join(dir, `${key}.json`), "utf8")) as { yaml: string; objects: K8sObject[] };
    } catch {
        return undefined;
    }
}

function writeCache(dir: string, key: string, entry: { yaml: string; objects: K8sObject[] }): void {
    fs.mkdirSync(dir, { recursive: true });
    // Temporary name then rename: test files render in parallel processes.
    const tmp = path.join(dir, `.${key}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, JSON.stringify(entry));
    fs.renameSync(tmp, path.join(dir, `${key}.json`));
}

/** The rendered charts as one YAML stream, each release introduced by a comment naming it. */
export function chartsYaml(rendered: readonly RenderedRelease[]): string {
    return rendered
        .map((r) => `# Helm release ${r.release.name}: ${r.archive.name} ${r.archive.version} in ${r.release.namespace} (helm template)\n${r.yaml.startsWith("---") ? "" : "---\n"}${r.yaml}`)
        .join("");
}
