/**
 * npm run report -- <results dir | s3://bucket/benchmarks/<run id>> [--out DIR] [--banner TEXT]
 * Writes report.md and report.html (to the results directory, or --out; for an S3
 * source, to --out or out/reports/<run id>/).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { renderCharts } from "./charts";
import { downloadResults, loadResults } from "./load";
import { html, markdown } from "./render";
import { summarize } from "./summarize";

export async function buildReport(source: string, o: { out?: string; banner?: string } = {}): Promise<{ md: string; html: string; dir: string; resultsDir: string }> {
    const dir = source.startsWith("s3://") ? await downloadResults(source) : source;
    const results = loadResults(dir);
    const rows = summarize(results.runs, results.manifest);
    const charts = await renderCharts(rows);
    const out = o.out ?? (source.startsWith("s3://") ? path.join("out", "reports", results.manifest.runId) : dir);
    fs.mkdirSync(out, { recursive: true });
    const md = path.join(out, "report.md");
    const page = path.join(out, "report.html");
    fs.writeFileSync(md, markdown(rows, results.manifest, o));
    fs.writeFileSync(page, html(rows, results.manifest, charts, o));
    return { md, html: page, dir: out, resultsDir: dir };
}

export function parseArgs(argv: string[]): { source: string; out?: string; banner?: string } {
    const rest: string[] = [];
    const o: { out?: string; banner?: string } = {};
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i]!;
        if (a === "--out" || a === "--banner") {
            const v = argv[++i];
            if (v === undefined) throw new Error(`${a} needs a value`);
            o[a === "--out" ? "out" : "banner"] = v;
        } else if (a.startsWith("--")) throw new Error(`unknown option ${a}`);
        else rest.push(a);
    }
    if (rest.length !== 1) throw new Error("usage: npm run report -- <results dir | s3://bucket/benchmarks/<run id>> [--out DIR] [--banner TEXT]");
    return { source: rest[0]!, ...o };
}

if (require.main === module) {
    (async () => {
        const args = parseArgs(process.argv.slice(2));
        const r = await buildReport(args.source, args);
        console.log(`wrote ${r.md} and ${r.html}`);
    })().catch((e: unknown) => {
        console.error(e instanceof Error ? e.message : e);
        process.exit(2);
    });
}
