/**
 * `npm run reference:fetch [-- --dest <dir>] [--all]`: fill the reference-data cache
 * (default .cache/reference) from the pinned upstream URLs in reference.lock.json,
 * verifying each file's SHA-256 (referenceFetch.ts). A kind that is read from
 * elsewhere (its env override, or ../shared/reference/<kind>) is not fetched unless
 * --all is given: with ../shared beside the checkout the command downloads nothing.
 * Prints what it downloaded, what was already there, and which files it cannot
 * provide and how to get them.
 * Exit codes: 0 every downloadable file is in place (files without a pinned
 * download may still be missing: they are listed), 1 a download or a checksum
 * failed (nothing unverified was stored), 2 bad arguments.
 * MLSERVE_REFERENCE_BASE_URL reads the same paths from a mirror (`<base>/<host>/<path>`).
 */
import * as path from "node:path";
import { cacheRoot, FETCH_COMMAND, providedElsewhere, readLock, REFERENCE_KINDS, shown } from "./reference";
import { fetchReference } from "./referenceFetch";

const USAGE = `usage: ${FETCH_COMMAND} [-- [--dest <dir>] [--all]]   (default dest: MLSERVE_REFERENCE_CACHE_DIR or .cache/reference; --all: also the kinds ../shared/reference or an env override provides)`;

async function main(argv: string[]): Promise<number> {
    let dest = cacheRoot();
    let all = false;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i]!;
        if (arg === "--dest" && argv[i + 1]) dest = path.resolve(argv[++i]!);
        else if (arg === "--all") all = true;
        else {
            console.error(arg === "--help" || arg === "-h" ? USAGE : `error: unknown argument ${arg}\n${USAGE}`);
            return arg === "--help" || arg === "-h" ? 0 : 2;
        }
    }
    const elsewhere = new Map(REFERENCE_KINDS.map((k) => [k, all ? undefined : providedElsewhere(k)]));
    for (const [kind, dir] of elsewhere) if (dir) console.log(`${kind}: read from ${shown(dir)}, nothing to fetch`);
    const lock = readLock().filter((f) => !elsewhere.get(f.kind));
    if (!lock.length) return 0;
    const mirror = process.env.MLSERVE_REFERENCE_BASE_URL;
    console.log(`reference data: ${lock.length} pinned files into ${shown(dest)}${mirror ? ` (from the mirror ${mirror})` : ""}`);
    const report = await fetchReference({ lock, cacheRoot: dest, log: (line) => console.log(`  ${line}`) });

    console.log(`\n${report.downloaded.length} downloaded and verified, ${report.present.length} already there, ${report.failed.length} failed, ${report.notProvided.length} not provided`);
    if (report.notProvided.length) {
        console.error(`\nNot provided: these files have no pinned download (reference.lock.json says why). Tests and \`npm run plan\` that need them fail until they are in ${path.join(shown(dest), "<kind>")}:`);
        for (const f of report.notProvided) {
            console.error(`  ${f.kind}/${f.path}: ${f.notFetchable}`);
            for (const how of f.provide ?? []) console.error(`    - ${how}`);
        }
    }
    for (const u of report.unverified) console.error(`\nUnverified: ${u.file} has sha256 ${u.sha256}, which reference.lock.json does not pin (kept, as someone put it there).`);
    if (report.failed.length) {
        console.error(`\nFailed (nothing was stored for these):`);
        for (const f of report.failed) console.error(`  ${f.file}: ${f.error}`);
        return 1;
    }
    return 0;
}

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
        console.error(`reference:fetch failed: ${(err as Error).stack ?? String(err)}`);
        process.exit(1);
    },
);
