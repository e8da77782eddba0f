/**
 * `npm run reference:fetch`, checked with local files from a loopback mirror:
 * only a file with a pinned SHA-256 is stored, a tampered one is rejected and
 * leaves nothing behind, a verified file is not downloaded twice.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readLock, REFERENCE_ENV, REFERENCE_KINDS, REFERENCE_REPO_ROOT, referenceDir, type LockedFile } from "../../infra/plan/reference";
import { ChecksumError, downloadVerified, fetchReference, sourceUrl } from "../../infra/plan/referenceFetch";
import { mirrorPath, startMirror, type Mirror } from "./mirror";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const GOOD = Buffer.from("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n# the pinned upstream file\n");
const TAMPERED = Buffer.from("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n# changed on the way\n");
const GOOD_SHA = sha(GOOD);
const URL_A = "https://raw.githubusercontent.com/example/project/v1.0.0/config/crd/a.yaml";
const entry: LockedFile = { kind: "crds", path: "example-v1.0.0/a.yaml", url: URL_A, sha256: GOOD_SHA, digestSource: "test" };

let mirror: Mirror;
let cache: string;
const target = () => path.join(cache, "crds", "example-v1.0.0", "a.yaml");
/** Every file under the cache, relative (temporary .part files included). */
const cacheFiles = () => (fs.existsSync(cache) ? fs.readdirSync(cache, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(cache, path.join(e.parentPath, e.name))).sort() : []);
const run = (lock: LockedFile[]) => fetchReference({ lock, cacheRoot: cache, baseUrl: mirror.baseUrl, timeoutMs: 10_000 });

beforeAll(async () => {
    mirror = await startMirror();
});
afterAll(async () => {
    await mirror.close();
});
afterEach(() => {
    mirror.hits.clear();
    if (cache) fs.rmSync(cache, { recursive: true, force: true });
});
// A fresh cache folder for every test.
const fresh = () => (cache = fs.mkdtempSync(path.join(os.tmpdir(), "mlserve-refcache-")));

describe("reference:fetch checksum verification", () => {
    it("reads upstream URLs from the mirror as <base>/<host>/<path>", () => {
        expect(sourceUrl(URL_A, "http://127.0.0.1:9/m/")).toBe("http://127.0.0.1:9/m/raw.githubusercontent.com/example/project/v1.0.0/config/crd/a.yaml");
        expect(sourceUrl(URL_A)).toBe(URL_A);
    });

    it("stores a downloaded file whose SHA-256 is the pinned one, and nothing else", async () => {
        fresh();
        mirror.set(URL_A, GOOD);
        const report = await run([entry]);
        expect(report.failed).toEqual([]);
        expect(report.downloaded).toEqual(["crds/example-v1.0.0/a.yaml"]);
        expect(fs.readFileSync(target()).equals(GOOD)).toBe(true);
        expect(cacheFiles()).toEqual([path.join("crds", "example-v1.0.0", "a.yaml")]);
        expect(mirror.hits.get(mirrorPath(URL_A))).toBe(1);
    });

    it("rejects a tampered file: not stored, no temporary file left, the error names the file and both digests", async () => {
        fresh();
        mirror.set(URL_A, TAMPERED);
        const report = await run([entry]);
        expect(report.downloaded).toEqual([]);
        expect(report.failed).toHaveLength(1);
        expect(report.failed[0]!.file).toBe("crds/example-v1.0.0/a.yaml");
        expect(report.failed[0]!.error).toContain("SHA-256 mismatch for crds/example-v1.0.0/a.yaml");
        expect(report.failed[0]!.error).toContain(`expected ${GOOD_SHA}`);
        expect(report.failed[0]!.error).toContain(`got ${sha(TAMPERED)}`);
        expect(fs.existsSync(target())).toBe(false);
        expect(cacheFiles()).toEqual([]);
        // The same check, one level down: a ChecksumError, and the target folder holds no .part file.
        const dest = path.join(cache, "direct", "a.yaml");
        await expect(downloadVerified(sourceUrl(URL_A, mirror.baseUrl), dest, [GOOD_SHA], "direct/a.yaml")).rejects.toThrow(ChecksumError);
        expect(fs.readdirSync(path.dirname(dest))).toEqual([]);
    });

    it("does not download a file that is already there with a pinned digest", async () => {
        fresh();
        mirror.set(URL_A, GOOD);
        fs.mkdirSync(path.dirname(target()), { recursive: true });
        fs.writeFileSync(target(), GOOD);
        const report = await run([entry]);
        expect(report.present).toEqual(["crds/example-v1.0.0/a.yaml"]);
        expect(report.downloaded).toEqual([]);
        expect(mirror.hits.get(mirrorPath(URL_A)) ?? 0).toBe(0);
    });

    it("replaces a cached file whose digest is not pinned (present is not enough)", async () => {
        fresh();
        mirror.set(URL_A, GOOD);
        fs.mkdirSync(path.dirname(target()), { recursive: true });
        fs.writeFileSync(target(), TAMPERED);
        const report = await run([entry]);
        expect(report.downloaded).toEqual(["crds/example-v1.0.0/a.yaml"]);
        expect(fs.readFileSync(target()).equals(GOOD)).toBe(true);
    });

    it("removes a cached file with an unpinned digest even when the new download fails", async () => {
        fresh();
        mirror.set(URL_A, TAMPERED);
        fs.mkdirSync(path.dirname(target()), { recursive: true });
        fs.writeFileSync(target(), TAMPERED);
        const report = await run([entry]);
        expect(report.failed).toHaveLength(1);
        expect(cacheFiles()).toEqual([]);
    });

    it("an HTTP error stores nothing and names the file", async () => {
        fresh();
        const missing: LockedFile = { ...entry, path: "example-v1.0.0/gone.yaml", url: "https://raw.githubusercontent.com/example/project/v1.0.0/gone.yaml" };
        const report = await run([missing]);
        expect(report.failed).toEqual([{ file: "crds/example-v1.0.0/gone.yaml", error: expect.stringContaining("HTTP 404") }]);
        expect(cacheFiles()).toEqual([]);
    });

    it("accepts the ../shared build's digest (sharedSha256) for a chart, and leaves .part leftovers of an interrupted run behind no more", async () => {
        fresh();
        const chartUrl = "https://example.github.io/charts/demo-1.0.0.tgz";
        const shared = Buffer.from("a helm package build of the tag");
        const chart: LockedFile = { kind: "charts", path: "demo-1.0.0.tgz", url: chartUrl, sha256: GOOD_SHA, sharedSha256: sha(shared), digestSource: "test" };
        mirror.set(chartUrl, shared);
        fs.mkdirSync(path.join(cache, "charts"), { recursive: true });
        fs.writeFileSync(path.join(cache, "charts", ".demo-1.0.0.tgz.0123456789ab.part"), "half a download");
        const report = await run([chart]);
        expect(report.downloaded).toEqual(["charts/demo-1.0.0.tgz"]);
        expect(cacheFiles()).toEqual([path.join("charts", "demo-1.0.0.tgz")]);
    });

    it("lists a file with no pinned download as not provided; a copy with the pinned ../shared digest counts as present, any other as unverified", async () => {
        fresh();
        const copy = Buffer.from("the ../shared copy");
        const manual: LockedFile = { kind: "charts", path: "manual-1.0.0.tgz", sharedSha256: sha(copy), notFetchable: "no published digest", provide: ["copy it from ../shared/reference/charts"] };
        expect((await run([manual])).notProvided).toEqual([manual]);
        fs.mkdirSync(path.join(cache, "charts"), { recursive: true });
        fs.writeFileSync(path.join(cache, "charts", "manual-1.0.0.tgz"), copy);
        const present = await run([manual]);
        expect([present.present, present.notProvided, present.unverified]).toEqual([["charts/manual-1.0.0.tgz"], [], []]);
        fs.writeFileSync(path.join(cache, "charts", "manual-1.0.0.tgz"), "a helm pull of the published archive");
        expect((await run([manual])).unverified).toEqual([{ file: "charts/manual-1.0.0.tgz", sha256: sha(Buffer.from("a helm pull of the published archive")) }]);
        expect(mirror.hits.size).toBe(0);
    });
});

describe("npm run reference:fetch (the CLI, with the real reference.lock.json, from a loopback mirror of the reference data in use)", () => {
    it("downloads and verifies every pinned file, is idempotent, and names the files it cannot provide with how to provide them", async () => {
        fresh();
        const lock = readLock();
        const served = new Map<string, Buffer>();
        for (const f of lock) if (f.url) served.set(f.url, fs.readFileSync(path.join(referenceDir(f.kind), f.path)));
        const local = await startMirror(served);
        try {
            // Asynchronous: the mirror runs in this process, so a synchronous spawn would block it.
            const cli = (args: string[] = ["--all"], env: Record<string, string> = {}) =>
                new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
                    execFile(
                        process.execPath,
                        [path.join(REFERENCE_REPO_ROOT, "node_modules", "tsx", "dist", "cli.mjs"), path.join(REFERENCE_REPO_ROOT, "infra/plan/referenceFetchCli.ts"), "--dest", cache, ...args],
                        { cwd: REFERENCE_REPO_ROOT, env: { ...process.env, MLSERVE_REFERENCE_BASE_URL: local.baseUrl, ...env }, timeout: 60_000 },
                        (err, stdout, stderr) => resolve({ status: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout, stderr }),
                    );
                });
            const first = await cli();
            expect(first.status, first.stderr).toBe(0);
            const fetchable = lock.filter((f) => f.url);
            expect(first.stdout).toContain(`${fetchable.length} downloaded and verified, 0 already there, 0 failed`);
            for (const f of fetchable) expect(fs.existsSync(path.join(cache, f.kind, f.path)), `${f.kind}/${f.path}`).toBe(true);
            for (const f of lock.filter((x) => x.notFetchable)) {
                expect(first.stderr).toContain(`${f.kind}/${f.path}: ${f.notFetchable}`);
                for (const how of f.provide!) expect(first.stderr).toContain(how);
            }
            const requests = [...local.hits.values()].reduce((a, b) => a + b, 0);
            const second = await cli();
            expect(second.status, second.stderr).toBe(0);
            expect(second.stdout).toContain(`0 downloaded and verified, ${fetchable.length} already there`);
            expect([...local.hits.values()].reduce((a, b) => a + b, 0)).toBe(requests);

            // Without --all, a kind read from elsewhere (here: every kind, through its env override) is not fetched at all.
            const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "mlserve-refelsewhere-"));
            try {
                fs.rmSync(cache, { recursive: true });
                const third = await cli([], Object.fromEntries(Object.values(REFERENCE_ENV).map((v) => [v, elsewhere])));
                expect(third.status, third.stderr).toBe(0);
                for (const kind of REFERENCE_KINDS) expect(third.stdout).toContain(`${kind}: read from ${elsewhere}, nothing to fetch`);
                expect([...local.hits.values()].reduce((a, b) => a + b, 0)).toBe(requests);
                expect(fs.existsSync(cache)).toBe(false);
            } finally {
                fs.rmSync(elsewhere, { recursive: true, force: true });
            }
        } finally {
            await local.close();
        }
    }, 120_000);
});
