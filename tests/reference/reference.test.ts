/**
 * Where the reference data comes from (infra/plan/reference.ts): env override >
 * ../shared/reference > a complete .cache/reference > one error naming
 * `npm run reference:fetch`; and reference.lock.json pins exactly what the
 * readers use.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { CHARTS } from "../../components/versions";
import { knativeOperatorManifests } from "../../infra/plan/capacityPlan";
import { chartDir, renderCharts } from "../../infra/plan/helm";
import { chartBaseName } from "../../infra/plan/helmChart";
import { readLock, REFERENCE_ENV, REFERENCE_KINDS, REFERENCE_REPO_ROOT, ReferenceDataError, referenceDir, sharedRoot, type LockedFile } from "../../infra/plan/reference";
import { crdDir } from "../harness/schemas";

const sha = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");
const made: string[] = [];
const tmp = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlserve-ref-"));
    made.push(dir);
    return dir;
};
afterAll(() => {
    for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});
const write = (file: string, text = "x") => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
};

const lock: LockedFile[] = [
    { kind: "crds", path: "a-v1/one.yaml", url: "https://example.com/one.yaml", sha256: "0".repeat(64), digestSource: "test" },
    { kind: "crds", path: "a-v1/two.yaml", url: "https://example.com/two.yaml", sha256: "1".repeat(64), digestSource: "test" },
    { kind: "charts", path: "c-1.0.0.tgz", notFetchable: "no digest", provide: ["copy it"] },
];

/** A shared root, a cache root and an env-override folder, each filled as asked. */
function layout(opts: { shared?: boolean; cache?: "complete" | "partial" | "empty"; env?: boolean }) {
    const root = tmp();
    const sharedRoot = path.join(root, "shared");
    const cacheRoot = path.join(root, "cache");
    const envDir = path.join(root, "override");
    if (opts.shared) write(path.join(sharedRoot, "crds", "anything.yaml"));
    if (opts.cache === "empty") fs.mkdirSync(path.join(cacheRoot, "crds"), { recursive: true });
    if (opts.cache === "partial") write(path.join(cacheRoot, "crds", "a-v1", "one.yaml"));
    if (opts.cache === "complete") for (const f of lock) write(path.join(cacheRoot, f.kind, f.path));
    if (opts.env) fs.mkdirSync(envDir);
    return { sharedRoot, cacheRoot, envDir, env: opts.env ? { MLSERVE_CRD_DIR: envDir } : {}, lock };
}

describe("referenceDir: which folder the reference data is read from", () => {
    it("the kind's env override first, even when ../shared and the cache exist", () => {
        const l = layout({ env: true, shared: true, cache: "complete" });
        expect(referenceDir("crds", l)).toBe(l.envDir);
    });

    it("an env override that is not a folder fails, naming the variable (no fall-through to another source)", () => {
        const l = layout({ shared: true });
        expect(() => referenceDir("crds", { ...l, env: { MLSERVE_CRD_DIR: path.join(l.envDir, "nope") } })).toThrow(/MLSERVE_CRD_DIR=.*nope is not a folder/);
    });

    it("then ../shared/reference/<kind>, before a complete cache", () => {
        const l = layout({ shared: true, cache: "complete" });
        expect(referenceDir("crds", l)).toBe(path.join(l.sharedRoot, "crds"));
    });

    it("then the cache, when ../shared has no folder of that kind and the cache holds every pinned file", () => {
        const l = layout({ cache: "complete" });
        expect(referenceDir("crds", l)).toBe(path.join(l.cacheRoot, "crds"));
        // Per kind: ../shared with crds only still sends charts to the cache.
        const mixed = layout({ shared: true, cache: "complete" });
        expect(referenceDir("charts", mixed)).toBe(path.join(mixed.cacheRoot, "charts"));
    });

    it("an incomplete cache fails with one message naming the missing files and the command", () => {
        const l = layout({ cache: "partial" });
        expect(() => referenceDir("crds", l)).toThrow(ReferenceDataError);
        expect(() => referenceDir("crds", l)).toThrow(/is incomplete, missing a-v1\/two\.yaml; run `npm run reference:fetch`/);
        fs.mkdirSync(path.join(l.cacheRoot, "charts"));
        expect(() => referenceDir("charts", l)).toThrow(/missing c-1\.0\.0\.tgz \(no pinned download\)/);
    });

    it("neither ../shared nor the cache: one message naming both folders and the command", () => {
        const l = layout({});
        expect(() => referenceDir("crds", l)).toThrow(
            new ReferenceDataError(`no reference data for crds: neither ${path.join(l.sharedRoot, "crds")} nor ${path.join(l.cacheRoot, "crds")} exists; run \`npm run reference:fetch\``),
        );
    });

    it("the defaults are ../shared/reference beside the checkout and .cache/reference in it, as the message spells them", () => {
        const empty = tmp();
        // Only the defaults' spelling is checked here: the roots are moved by their env variables.
        expect(() => referenceDir("protos", { env: { MLSERVE_SHARED_REFERENCE_DIR: path.join(empty, "s"), MLSERVE_REFERENCE_CACHE_DIR: path.join(REFERENCE_REPO_ROOT, ".cache", "nothing-here") } })).toThrow(
            `nor ${path.join(".cache", "nothing-here", "protos")} exists`,
        );
        expect(() => referenceDir("protos", { env: {}, sharedRoot: path.join(REFERENCE_REPO_ROOT, "..", "shared", "no-such-reference"), cacheRoot: path.join(empty, "c") })).toThrow(
            `neither ${path.join("..", "shared", "no-such-reference", "protos")} nor`,
        );
    });
});

describe("every reader uses the resolver, and fails with its one message when there is no reference data", () => {
    const saved = { ...process.env };
    afterEach(() => {
        for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
        Object.assign(process.env, saved);
    });
    const noReferenceData = () => {
        const root = tmp();
        for (const v of Object.values(REFERENCE_ENV)) delete process.env[v];
        process.env.MLSERVE_SHARED_REFERENCE_DIR = path.join(root, "shared");
        process.env.MLSERVE_REFERENCE_CACHE_DIR = path.join(root, "cache");
    };
    const message = (kind: string) => new RegExp(`^no reference data for ${kind}: neither .* nor .* exists; run \`npm run reference:fetch\`$`);

    it("CRDs (tests/harness/schemas.ts), charts (helm.ts) and the Knative operator manifests (capacityPlan.ts)", () => {
        noReferenceData();
        expect(crdDir).toThrow(message("crds"));
        expect(chartDir).toThrow(message("charts"));
        expect(() => renderCharts({ resources: [] }, { kubeVersion: "1.33", cacheDir: null })).toThrow(message("charts"));
        expect(() => knativeOperatorManifests({ spec: { version: "1.23" } })).toThrow(message("manifests"));
    });

    it("each reader honours its env override", () => {
        const dir = tmp();
        process.env.MLSERVE_CRD_DIR = dir;
        process.env.MLSERVE_CHART_DIR = dir;
        expect([crdDir(), chartDir()]).toEqual([dir, dir]);
    });

    it("`npm run plan` prints that one message (no stack trace, no ENOENT) and exits 2", () => {
        noReferenceData();
        const out = tmp();
        const r = spawnSync(process.execPath, [path.join(REFERENCE_REPO_ROOT, "node_modules", "tsx", "dist", "cli.mjs"), path.join(REFERENCE_REPO_ROOT, "infra/plan/cli.ts"), "--stack", "dev", "--out", out], {
            cwd: REFERENCE_REPO_ROOT,
            encoding: "utf8",
            env: process.env,
            timeout: 120_000,
        });
        expect(r.status, r.stderr).toBe(2);
        expect(r.stderr.trim()).toMatch(message("charts"));
        expect(r.stderr).not.toMatch(/ENOENT|\n\s+at /);
        expect(fs.readdirSync(out)).toEqual([]);
    }, 120_000);
});

describe("reference.lock.json", () => {
    const pinned = readLock();

    it("pins every kind, every chart that components/versions.ts installs, and only https URLs", () => {
        for (const kind of REFERENCE_KINDS) expect(pinned.some((f) => f.kind === kind), kind).toBe(true);
        const charts = pinned.filter((f) => f.kind === "charts").map((f) => f.path);
        for (const c of Object.values(CHARTS)) {
            const base = chartBaseName(c.chart);
            expect([`${base}-${c.version}.tgz`, `${base}-${c.version.replace(/^v/, "")}.tgz`].some((n) => charts.includes(n)), `${c.chart} ${c.version}`).toBe(true);
        }
        for (const f of pinned) if (f.url) expect(f.url, `${f.kind}/${f.path}`).toMatch(/^https:\/\//);
    });

    it("a file that is the unchanged upstream file is fetched from its raw URL at the release tag", () => {
        for (const f of pinned.filter((x) => x.kind !== "charts")) {
            expect(f.url, f.path).toMatch(/^https:\/\/raw\.githubusercontent\.com\/[^/]+\/[^/]+\/(v\d|knative-v\d)[^/]*\/.+/);
            expect(f.sharedSha256, f.path).toBeUndefined();
        }
    });

    it("the reference data in use is exactly the pinned files, each with a pinned digest", () => {
        for (const kind of REFERENCE_KINDS) {
            const dir = referenceDir(kind);
            const listed = pinned.filter((f) => f.kind === kind);
            const onDisk = fs
                .readdirSync(dir, { recursive: true, withFileTypes: true })
                .filter((e) => e.isFile() && e.name !== "README.md" && !e.name.startsWith("."))
                .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
                .sort();
            expect(onDisk, dir).toEqual(listed.map((f) => f.path).sort());
            for (const f of listed) {
                // In the cache, a file without a pinned download may have been provided by hand, unverified (reference:fetch says so).
                if (f.notFetchable && dir !== path.join(sharedRoot(), kind)) continue;
                expect([f.sha256, f.sharedSha256], `${kind}/${f.path} in ${dir}`).toContain(sha(path.join(dir, f.path)));
            }
        }
    });

    it("the proto the load tests use (loadtest/protos) is the pinned upstream file", () => {
        const proto = pinned.find((f) => f.kind === "protos" && f.path === "grpc_predict_v2.proto")!;
        expect(sha(path.join(REFERENCE_REPO_ROOT, "loadtest", "protos", "grpc_predict_v2.proto"))).toBe(proto.sha256);
    });

    it("rejects an entry with neither a pinned download nor a reason, and a path that leaves its folder", () => {
        const bad = (files: unknown[]) => {
            const file = path.join(tmp(), "lock.json");
            fs.writeFileSync(file, JSON.stringify({ files }));
            return () => readLock(file);
        };
        expect(bad([{ kind: "crds", path: "a.yaml" }])).toThrow(/needs notFetchable/);
        expect(bad([{ kind: "crds", path: "../a.yaml", url: "https://x/a", sha256: "0".repeat(64), digestSource: "t" }])).toThrow(/relative path inside/);
        expect(bad([{ kind: "crds", path: "a.yaml", url: "https://x/a", sha256: "ABC", digestSource: "t" }])).toThrow(/not a lower-case hex SHA-256/);
    });
});
