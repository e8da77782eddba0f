/**
 * Reading packaged Helm charts (.tgz) without helm: the chart index (which file
 * holds which chart version) and a chart's default values, subcharts included.
 * Pure functions over the archive bytes, plus one thin directory reader.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { parse } from "yaml";

/** Regular files of a .tar.gz, by path. Enough of ustar/pax/GNU for `helm package` archives. */
export function tarEntries(gz: Buffer): Map<string, Buffer> {
    const tar = gunzipSync(gz);
    const files = new Map<string, Buffer>();
    const text = (b: Buffer) => b.toString("utf8").replace(/\0.*$/s, "");
    let longName: string | undefined;
    for (let off = 0; off + 512 <= tar.length; ) {
        const header = tar.subarray(off, off + 512);
        if (header.every((b) => b === 0)) break;
        const size = parseInt(text(header.subarray(124, 136)).trim() || "0", 8);
        const type = String.fromCharCode(header[156] ?? 0);
        const prefix = text(header.subarray(345, 500));
        const name = longName ?? (prefix ? `${prefix}/${text(header.subarray(0, 100))}` : text(header.subarray(0, 100)));
        const body = tar.subarray(off + 512, off + 512 + size);
        longName = undefined;
        if (type === "L") longName = text(body);
        else if (type === "x") longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString("utf8"))?.[1];
        else if (type === "0" || type === "\0") files.set(name, Buffer.from(body));
        off += 512 + Math.ceil(size / 512) * 512;
    }
    return files;
}

/** Helm compares versions as semver; a leading "v" is not significant (knative-operator "v1.23.0" is chart 1.23.0). */
export function normalizeVersion(v: string): string {
    return v.replace(/^v/, "");
}

/** The chart name a release's `chart` field refers to: `oci://ghcr.io/kserve/charts/kserve-crd` and `repo/keda` name `kserve-crd` and `keda`. */
export function chartBaseName(chart: string): string {
    return chart.replace(/\/+$/, "").split("/").pop() ?? chart;
}

interface ChartYaml {
    name: string;
    version: string;
    dependencies?: Array<{ name: string; alias?: string; condition?: string }>;
}

/** The top-level chart folder of an archive (`kube-prometheus-stack/`). */
function rootDir(files: Map<string, Buffer>): string {
    const top = [...files.keys()].find((f) => /^[^/]+\/Chart\.yaml$/.test(f));
    if (!top) throw new Error("not a Helm chart archive: no <chart>/Chart.yaml");
    return top.split("/")[0]!;
}

export interface ChartArchive {
    file: string;
    name: string;
    version: string;
    files: Map<string, Buffer>;
}

export function readChartArchive(file: string): ChartArchive {
    const files = tarEntries(fs.readFileSync(file));
    const chart = parse(files.get(`${rootDir(files)}/Chart.yaml`)!.toString("utf8")) as ChartYaml;
    return { file, name: chart.name, version: chart.version, files };
}

/** Every chart archive in `dir`, by `name@version` (version without a leading v). */
export function chartIndex(dir: string): Map<string, ChartArchive> {
    const index = new Map<string, ChartArchive>();
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith(".tgz")).sort()) {
        const archive = readChartArchive(path.join(dir, f));
        index.set(`${archive.name}@${normalizeVersion(archive.version)}`, archive);
    }
    return index;
}

export function chartKey(chart: string, version: string): string {
    return `${chartBaseName(chart)}@${normalizeVersion(version)}`;
}

type Values = Record<string, unknown>;
const isMap = (v: unknown): v is Values => v !== null && typeof v === "object" && !Array.isArray(v);

/** Deep merge for key discovery: every key of either side; `over` wins on scalars. */
function mergeKeys(base: unknown, over: unknown, keepEmpty = false): unknown {
    if (!isMap(base) || !isMap(over)) return over === undefined ? base : over;
    // An empty default map marks a free-form map: template references must not make it look closed.
    if (keepEmpty && Object.keys(over).length === 0) return over;
    const out: Values = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = mergeKeys(base[k], v, keepEmpty);
    return out;
}

/**
 * `.Values.a.b` paths a chart's own templates read, as a tree with null leaves.
 * Charts read some settings they do not list in values.yaml (grafana's
 * `fullnameOverride`); those are real keys.
 */
export function templateValueRefs(files: Map<string, Buffer>, dir: string): Values {
    let refs: Values = {};
    const prefix = `${dir}/templates/`;
    for (const [p, body] of files) {
        if (!p.startsWith(prefix)) continue;
        for (const m of body.toString("utf8").matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
            const parts = m[1]!.slice(1).split(".");
            refs = mergeKeys(refs, parts.reduceRight<unknown>((acc, k) => ({ [k]: acc }), null)) as Values;
        }
    }
    return refs;
}

/**
 * A chart's default values as Helm sees them: its values.yaml, each subchart's
 * defaults under the subchart's alias or name (recursively), the keys named by
 * dependency conditions (`grafana.enabled`) and the keys its templates read
 * without a default (null: free-form below).
 */
export function chartDefaultValues(files: Map<string, Buffer>, dir = rootDir(files)): Values {
    const read = (p: string) => (files.has(p) ? parse(files.get(p)!.toString("utf8")) : undefined);
    const chart = read(`${dir}/Chart.yaml`) as ChartYaml;
    let values = mergeKeys(templateValueRefs(files, dir), read(`${dir}/values.yaml`) ?? {}, true) as Values;
    for (const dep of chart.dependencies ?? []) {
        const subDir = `${dir}/charts/${dep.name}`;
        const key = dep.alias ?? dep.name;
        if (files.has(`${subDir}/Chart.yaml`)) values = mergeKeys({ [key]: chartDefaultValues(files, subDir) }, values) as Values;
        for (const cond of (dep.condition ?? "").split(",").filter(Boolean)) {
            const parts = cond.trim().split(".");
            values = mergeKeys(parts.reduceRight<unknown>((acc, p) => ({ [p]: acc }), true), values) as Values;
        }
    }
    return values;
}

/**
 * Keys whose maps hold user data or whole Kubernetes API objects, not chart
 * settings: labels, annotations, selectors, extra arguments, resources,
 * affinity, security contexts. Their contents are not chart keys; what they
 * render into is checked by the schema validation of the rendered objects.
 */
export const FREE_FORM_KEYS: ReadonlySet<string> = new Set([
    "nodeSelector",
    "annotations",
    "podAnnotations",
    "labels",
    "podLabels",
    "commonLabels",
    "additionalLabels",
    "extraLabels",
    "matchLabels",
    "extraArgs",
    "extraEnv",
    "env",
    "resources",
    "affinity",
    "securityContext",
    "podSecurityContext",
    "containerSecurityContext",
    "global",
]);

/**
 * Values keys we set that the chart does not have, as dotted paths (a typo
 * there is silently ignored by Helm). The rule, walking our values against the
 * chart defaults:
 * - a key absent from the defaults is unknown;
 * - below a key whose default is an empty map or null, or whose name is in
 *   FREE_FORM_KEYS, anything goes (free-form maps);
 * - lists are not walked (their items are free-form);
 * - a map where the chart has a scalar default is reported as a type mismatch.
 */
export function unknownValueKeys(set: unknown, defaults: unknown, at = ""): string[] {
    if (!isMap(set) || !isMap(defaults)) return [];
    const problems: string[] = [];
    for (const [k, v] of Object.entries(set)) {
        const p = at ? `${at}.${k}` : k;
        if (!(k in defaults)) {
            if (!(at === "" && k === "global")) problems.push(`${p} (no such key in the chart's values)`);
            continue;
        }
        const d = defaults[k];
        if (FREE_FORM_KEYS.has(k) || d === null || d === undefined) continue;
        if (isMap(v) && isMap(d)) {
            if (Object.keys(d).length > 0) problems.push(...unknownValueKeys(v, d, p));
        } else if (isMap(v) && !Array.isArray(d)) {
            problems.push(`${p} (a map where the chart's default is a ${typeof d})`);
        }
    }
    return problems;
}
