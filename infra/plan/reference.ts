/**
 * Upstream reference data that the tests and the offline plan read: CRD schemas,
 * Helm chart archives, the manifests the Knative operator applies, and the Open
 * Inference Protocol proto. Every reader asks `referenceDir(kind)`, which takes:
 *   1. the kind's env override (MLSERVE_CRD_DIR, MLSERVE_CHART_DIR, MLSERVE_MANIFEST_DIR,
 *      MLSERVE_PROTO_DIR) when it is set;
 *   2. else ../shared/reference/<kind> beside the checkout (this project's CI and
 *      development machines have it);
 *   3. else .cache/reference/<kind> in the checkout, when it holds every file
 *      reference.lock.json lists for that kind (`npm run reference:fetch` fills it);
 *   4. else it throws one ReferenceDataError that names `npm run reference:fetch`.
 * MLSERVE_SHARED_REFERENCE_DIR and MLSERVE_REFERENCE_CACHE_DIR move steps 2 and 3
 * (an absolute shared folder for sandboxed copies of the repository, and tests).
 * No I/O happens at import: a module that only imports a reader never fails.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export const REFERENCE_KINDS = ["crds", "charts", "manifests", "protos"] as const;
export type ReferenceKind = (typeof REFERENCE_KINDS)[number];

/** The env override of each kind's folder. */
export const REFERENCE_ENV: Record<ReferenceKind, string> = {
    crds: "MLSERVE_CRD_DIR",
    charts: "MLSERVE_CHART_DIR",
    manifests: "MLSERVE_MANIFEST_DIR",
    protos: "MLSERVE_PROTO_DIR",
};

export const FETCH_COMMAND = "npm run reference:fetch";

/** The repository root (computed here, not imported from render.ts, so the fetch CLI does not load Pulumi). */
export const REFERENCE_REPO_ROOT = path.resolve(__dirname, "..", "..");
export const LOCK_FILE = path.join(REFERENCE_REPO_ROOT, "reference.lock.json");

/** One pinned file, as reference.lock.json lists it. */
export interface LockedFile {
    kind: ReferenceKind;
    /** Path inside the kind's folder; the same in ../shared/reference/<kind> and .cache/reference/<kind>. */
    path: string;
    /** Where reference:fetch downloads it; absent when nothing pinned can be downloaded. */
    url?: string;
    /** SHA-256 of what `url` serves. */
    sha256?: string;
    /** Where that digest came from. */
    digestSource?: string;
    /** SHA-256 of the ../shared/reference copy when it differs from `sha256` (charts: a `helm package` build of the tag). */
    sharedSha256?: string;
    /** Why there is no pinned download. */
    notFetchable?: string;
    /** How to provide a file that has no pinned download. */
    provide?: string[];
}

export class ReferenceDataError extends Error {
    override name = "ReferenceDataError";
}

const SHA256 = /^[0-9a-f]{64}$/;

/** Read and check reference.lock.json: every entry is either downloadable (url + sha256 + digestSource) or says why not and how to provide it. */
export function readLock(file: string = LOCK_FILE): LockedFile[] {
    const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as { files?: unknown };
    if (!Array.isArray(parsed.files)) throw new Error(`${file}: no "files" list`);
    const seen = new Set<string>();
    return parsed.files.map((raw: unknown, i: number) => {
        const f = raw as LockedFile;
        const where = `${file}: files[${i}] (${String(f?.kind)}/${String(f?.path)})`;
        if (!REFERENCE_KINDS.includes(f.kind)) throw new Error(`${where}: kind must be one of ${REFERENCE_KINDS.join(", ")}`);
        if (typeof f.path !== "string" || !f.path || path.isAbsolute(f.path) || f.path.split("/").some((p) => p === ".." || p === "." || p === "")) {
            throw new Error(`${where}: path must be a relative path inside the kind's folder`);
        }
        const key = `${f.kind}/${f.path}`;
        if (seen.has(key)) throw new Error(`${where}: listed twice`);
        seen.add(key);
        for (const d of [f.sha256, f.sharedSha256]) if (d !== undefined && !SHA256.test(d)) throw new Error(`${where}: ${d} is not a lower-case hex SHA-256`);
        const fetchable = f.url !== undefined || f.sha256 !== undefined;
        if (fetchable && !(f.url && f.sha256 && f.digestSource)) throw new Error(`${where}: a downloadable entry needs url, sha256 and digestSource`);
        if (fetchable && f.notFetchable) throw new Error(`${where}: has both a url and notFetchable`);
        if (!fetchable && !(f.notFetchable && f.provide?.length)) throw new Error(`${where}: without a url it needs notFetchable (why) and provide (how)`);
        return f;
    });
}

export interface ReferenceOptions {
    env?: NodeJS.ProcessEnv;
    /** The folder holding crds/, charts/, ...: default MLSERVE_SHARED_REFERENCE_DIR or ../shared/reference. */
    sharedRoot?: string;
    /** The cache: default MLSERVE_REFERENCE_CACHE_DIR or .cache/reference. */
    cacheRoot?: string;
    lock?: readonly LockedFile[];
}

export function sharedRoot(env: NodeJS.ProcessEnv = process.env): string {
    return path.resolve(env.MLSERVE_SHARED_REFERENCE_DIR || path.join(REFERENCE_REPO_ROOT, "..", "shared", "reference"));
}

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
    return path.resolve(env.MLSERVE_REFERENCE_CACHE_DIR || path.join(REFERENCE_REPO_ROOT, ".cache", "reference"));
}

const isDir = (p: string) => fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
const isFile = (p: string) => fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
/** A path as the user would type it from the repository root (inside it, or ../shared), else absolute. */
export const shown = (p: string): string => {
    const rel = path.relative(REFERENCE_REPO_ROOT, p);
    return rel && !path.isAbsolute(rel) && (!rel.startsWith("..") || rel.startsWith(path.join("..", "shared") + path.sep)) ? rel : p;
};

/** Lock entries of a kind that are missing from `dir`. */
export function missingFiles(kind: ReferenceKind, dir: string, lock: readonly LockedFile[]): LockedFile[] {
    return lock.filter((f) => f.kind === kind && !isFile(path.join(dir, f.path)));
}

/**
 * The folder a kind is read from without the cache (its env override, else
 * ../shared/reference/<kind> when it exists), or undefined when only the cache can
 * provide it. reference:fetch fetches only the kinds for which this is undefined.
 */
export function providedElsewhere(kind: ReferenceKind, opts: ReferenceOptions = {}): string | undefined {
    const env = opts.env ?? process.env;
    const override = env[REFERENCE_ENV[kind]];
    if (override) return path.resolve(override);
    const shared = path.join(opts.sharedRoot ?? sharedRoot(env), kind);
    return isDir(shared) ? shared : undefined;
}

/** The folder to read a kind of reference data from (see the module comment for the order). */
export function referenceDir(kind: ReferenceKind, opts: ReferenceOptions = {}): string {
    const env = opts.env ?? process.env;
    const variable = REFERENCE_ENV[kind];
    const override = env[variable];
    if (override) {
        if (!isDir(override)) throw new ReferenceDataError(`no reference data for ${kind}: ${variable}=${override} is not a folder; unset it, or run \`${FETCH_COMMAND}\` and point it at .cache/reference/${kind}`);
        return path.resolve(override);
    }
    const shared = path.join(opts.sharedRoot ?? sharedRoot(env), kind);
    if (isDir(shared)) return shared;
    const cache = path.join(opts.cacheRoot ?? cacheRoot(env), kind);
    if (isDir(cache)) {
        const missing = missingFiles(kind, cache, opts.lock ?? readLock());
        if (!missing.length) return cache;
        const names = missing.map((f) => (f.notFetchable ? `${f.path} (no pinned download)` : f.path)).join(", ");
        throw new ReferenceDataError(
            `no reference data for ${kind}: ${shown(shared)} does not exist and ${shown(cache)} is incomplete, missing ${names}; run \`${FETCH_COMMAND}\` (it downloads what it can and says how to provide the rest)`,
        );
    }
    throw new ReferenceDataError(`no reference data for ${kind}: neither ${shown(shared)} nor ${shown(cache)} exists; run \`${FETCH_COMMAND}\``);
}
