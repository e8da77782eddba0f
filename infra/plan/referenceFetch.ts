/**
 * `npm run reference:fetch`: download every pinned reference file that has a URL
 * in reference.lock.json into the cache (.cache/reference/<kind>/<path>) and keep
 * it only when its SHA-256 is pinned there. Each download goes to a temporary
 * `.<name>.<random>.part` file beside its target, is hashed while it streams, and
 * is renamed into place only after the digest matched; on a mismatch or any error
 * the temporary file is deleted, so the cache never holds a half-written or
 * unverified download. Files already there with a pinned digest are not
 * downloaded again. The readers (reference.ts) never see `.part` files: they
 * look for the listed names only, and chart/CRD scans filter on .tgz/.yaml.
 */
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { cacheRoot, readLock, type LockedFile } from "./reference";

/** Upper bound of one download (the largest pinned file is about 1 MB). */
const MAX_BYTES = 64 * 1024 * 1024;

export class ChecksumError extends Error {
    override name = "ChecksumError";
}

export interface FetchOptions {
    lock?: readonly LockedFile[];
    /** Default: MLSERVE_REFERENCE_CACHE_DIR or .cache/reference. */
    cacheRoot?: string;
    /**
     * A mirror to download from instead of the upstream hosts (default
     * MLSERVE_REFERENCE_BASE_URL): `https://host/p` is read from `<base>/host/p`.
     * The digests are the same, so a mirror cannot change what is stored.
     */
    baseUrl?: string;
    /** Per-download timeout; default 120 s. */
    timeoutMs?: number;
    /** Parallel downloads; default 4. */
    concurrency?: number;
    log?: (line: string) => void;
}

export interface FetchReport {
    /** `<kind>/<path>` of each file downloaded and verified in this run. */
    downloaded: string[];
    /** Already in the cache with a pinned digest (not downloaded again). */
    present: string[];
    /** Downloads that failed (HTTP error, checksum mismatch, ...): nothing was stored for them. */
    failed: Array<{ file: string; error: string }>;
    /** Files with no pinned download that are not in the cache. */
    notProvided: LockedFile[];
    /** Files with no pinned download that are in the cache but match no pinned digest (kept: someone put them there). */
    unverified: Array<{ file: string; sha256: string }>;
}

/** The URL to download from: the upstream URL, or its path under a mirror. */
export function sourceUrl(url: string, baseUrl?: string): string {
    if (!baseUrl) return url;
    const u = new URL(url);
    return `${baseUrl.replace(/\/+$/, "")}/${u.host}${u.pathname}${u.search}`;
}

export async function sha256File(file: string): Promise<string> {
    const hash = createHash("sha256");
    await pipeline(fs.createReadStream(file), hash);
    return hash.digest("hex");
}

/** The digests a cached copy of `entry` may have: the published one and the ../shared build's. */
export function acceptedDigests(entry: LockedFile): string[] {
    return [entry.sha256, entry.sharedSha256].filter((d): d is string => d !== undefined);
}

const label = (e: LockedFile) => `${e.kind}/${e.path}`;

/**
 * Download `url` to `target` when, and only when, its SHA-256 is one of `accepted`.
 * Throws ChecksumError naming the file and both digests on a mismatch; nothing is left behind.
 */
export async function downloadVerified(url: string, target: string, accepted: readonly string[], name: string, timeoutMs = 120_000): Promise<void> {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString("hex")}.part`);
    try {
        const res = await fetch(url, { redirect: "follow", signal: AbortSignal.timeout(timeoutMs) });
        if (!res.ok || !res.body) throw new Error(`GET ${url}: HTTP ${res.status} ${res.statusText}`);
        const hash = createHash("sha256");
        let size = 0;
        const meter = new Transform({
            transform(chunk: Buffer, _enc, done) {
                size += chunk.length;
                if (size > MAX_BYTES) return done(new Error(`GET ${url}: more than ${MAX_BYTES} bytes`));
                hash.update(chunk);
                done(null, chunk);
            },
        });
        await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), meter, fs.createWriteStream(tmp, { flags: "wx" }));
        const actual = hash.digest("hex");
        if (!accepted.includes(actual)) {
            throw new ChecksumError(`SHA-256 mismatch for ${name} (from ${url}): expected ${accepted.join(" or ")}, got ${actual}; the download was deleted, nothing was stored`);
        }
        fs.renameSync(tmp, target);
    } finally {
        fs.rmSync(tmp, { force: true });
    }
}

/** Delete `.part` leftovers of an interrupted run (a killed process cannot clean up after itself). */
function sweepPartials(dir: string): void {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
        if (entry.isFile() && entry.name.startsWith(".") && entry.name.endsWith(".part")) fs.rmSync(path.join(entry.parentPath, entry.name), { force: true });
    }
}

export async function fetchReference(opts: FetchOptions = {}): Promise<FetchReport> {
    const lock = opts.lock ?? readLock();
    const root = opts.cacheRoot ?? cacheRoot();
    const baseUrl = opts.baseUrl ?? (process.env.MLSERVE_REFERENCE_BASE_URL || undefined);
    const log = opts.log ?? (() => undefined);
    const report: FetchReport = { downloaded: [], present: [], failed: [], notProvided: [], unverified: [] };
    sweepPartials(root);

    const queue = [...lock];
    const worker = async () => {
        for (let entry = queue.shift(); entry; entry = queue.shift()) {
            const target = path.join(root, entry.kind, entry.path);
            const accepted = acceptedDigests(entry);
            const existing = fs.existsSync(target) ? await sha256File(target) : undefined;
            if (existing && accepted.includes(existing)) {
                report.present.push(label(entry));
                log(`ok          ${label(entry)} (already there)`);
                continue;
            }
            if (!entry.url) {
                if (existing) {
                    report.unverified.push({ file: label(entry), sha256: existing });
                    log(`UNVERIFIED  ${label(entry)}: sha256 ${existing} matches no pinned digest (kept)`);
                } else {
                    report.notProvided.push(entry);
                    log(`NOT THERE   ${label(entry)}: no pinned download`);
                }
                continue;
            }
            if (existing) {
                // Not a pinned digest: not ours to keep. Removed before the download, so a failed one leaves no stale copy.
                fs.rmSync(target);
                log(`replacing   ${label(entry)}: sha256 ${existing} is not pinned`);
            }
            try {
                await downloadVerified(sourceUrl(entry.url, baseUrl), target, accepted, label(entry), opts.timeoutMs);
                report.downloaded.push(label(entry));
                log(`downloaded  ${label(entry)}`);
            } catch (err) {
                report.failed.push({ file: label(entry), error: (err as Error).message });
                log(`FAILED      ${label(entry)}: ${(err as Error).message}`);
            }
        }
    };
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
    for (const list of [report.downloaded, report.present]) list.sort();
    return report;
}
