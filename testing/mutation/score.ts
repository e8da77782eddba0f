/**
 * Mutation score per module from Stryker's JSON report (the
 * mutation-testing-report-schema: files -> mutants, each with a status), and the
 * gate of `npm run test:mutation`: at least 85% overall and 70% for every module.
 *
 * The score is Stryker's own: detected / valid, where detected = Killed + Timeout
 * and valid = detected + Survived + NoCoverage (a mutant no test runs is a
 * mutant no test catches). CompileError, RuntimeError, Ignored and Pending do
 * not count either way.
 *
 *   tsx testing/mutation/score.ts [report.json] [--overall 85] [--module 70]
 */
import * as fs from "node:fs";

export type MutantStatus = "Killed" | "Survived" | "NoCoverage" | "CompileError" | "RuntimeError" | "Timeout" | "Ignored" | "Pending";

/** The part of the report this reads. */
export interface MutationReport {
    files: Record<string, { mutants: Array<{ id: string; mutatorName: string; status: MutantStatus; static?: boolean; location: { start: { line: number } } }> }>;
}

export interface ModuleScore {
    module: string;
    killed: number;
    timeout: number;
    survived: number;
    noCoverage: number;
    /** Ignored, CompileError, RuntimeError, Pending: not in the score. */
    excluded: number;
    /**
     * Mutants the dry run reached outside any test (module load, a describe body, beforeAll):
     * each reruns every related test file, so they take most of the run's time.
     */
    static: number;
    detected: number;
    valid: number;
    /** Percent, or undefined when the module has no valid mutant. */
    score: number | undefined;
}

export interface Limits {
    overall: number;
    module: number;
}

export const DEFAULT_LIMITS: Limits = { overall: 85, module: 70 };

type Mutant = MutationReport["files"][string]["mutants"][number];

function tally(module: string, mutants: Mutant[]): ModuleScore {
    const statuses = mutants.map((m) => m.status);
    const count = (s: MutantStatus) => statuses.filter((x) => x === s).length;
    const killed = count("Killed");
    const timeout = count("Timeout");
    const survived = count("Survived");
    const noCoverage = count("NoCoverage");
    const detected = killed + timeout;
    const valid = detected + survived + noCoverage;
    return {
        module,
        killed,
        timeout,
        survived,
        noCoverage,
        excluded: statuses.length - valid,
        static: mutants.filter((m) => m.static === true).length,
        detected,
        valid,
        score: valid > 0 ? (detected / valid) * 100 : undefined,
    };
}

/** One row per file of the report, sorted by path, and the overall row. */
export function scores(report: MutationReport): { modules: ModuleScore[]; overall: ModuleScore } {
    if (!report || typeof report.files !== "object" || report.files === null) throw new Error("not a mutation-testing report: no `files`");
    const modules = Object.entries(report.files)
        .map(([file, { mutants }]) => tally(file, mutants))
        .sort((a, b) => a.module.localeCompare(b.module));
    const all = Object.values(report.files).flatMap((f) => f.mutants);
    return { modules, overall: tally("overall", all) };
}

/** What fails the gate, one line each; empty when it passes. */
export function failures(result: { modules: ModuleScore[]; overall: ModuleScore }, limits: Limits = DEFAULT_LIMITS): string[] {
    const out: string[] = [];
    if (result.overall.score === undefined) out.push("overall: no valid mutant (nothing was mutated or tested)");
    else if (result.overall.score < limits.overall) out.push(`overall: ${pct(result.overall.score)} is below ${limits.overall}%`);
    for (const m of result.modules) {
        if (m.score !== undefined && m.score < limits.module) out.push(`${m.module}: ${pct(m.score)} is below ${limits.module}%`);
    }
    return out;
}

const pct = (score: number | undefined) => (score === undefined ? "n/a" : `${(Math.floor(score * 100) / 100).toFixed(2)}%`);

export function table(result: { modules: ModuleScore[]; overall: ModuleScore }): string {
    const head = ["module", "score", "killed", "timeout", "survived", "no cov", "excluded", "static"];
    const row = (m: ModuleScore) => [m.module, pct(m.score), m.killed, m.timeout, m.survived, m.noCoverage, m.excluded, m.static].map(String);
    const rows = [head, ...result.modules.map(row), row(result.overall)];
    const widths = head.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
    const rule = widths.map((w) => "-".repeat(w)).join("  ");
    return [line(head), rule, ...result.modules.map((m) => line(row(m))), rule, line(row(result.overall))].join("\n");
}

function parseArgs(argv: string[]): { file: string; limits: Limits } {
    let file = "reports/mutation/mutation.json";
    const limits = { ...DEFAULT_LIMITS };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i]!;
        if (a === "--overall" || a === "--module") {
            const v = Number(argv[++i]);
            if (!Number.isFinite(v)) throw new Error(`${a} needs a number`);
            limits[a === "--overall" ? "overall" : "module"] = v;
        } else if (a.startsWith("--")) throw new Error(`unknown option ${a}`);
        else file = a;
    }
    return { file, limits };
}

/** Prints the table and what fails; returns the exit code. */
export function main(argv: string[], log: (s: string) => void = console.log): number {
    let args: ReturnType<typeof parseArgs>;
    let result: ReturnType<typeof scores>;
    try {
        args = parseArgs(argv);
        result = scores(JSON.parse(fs.readFileSync(args.file, "utf8")) as MutationReport);
    } catch (err) {
        log(`mutation score: ${(err as Error).message}`);
        return 2;
    }
    log(table(result));
    const failed = failures(result, args.limits);
    if (failed.length === 0) {
        log(`mutation score ${pct(result.overall.score)}: at least ${args.limits.overall}% overall and ${args.limits.module}% per module`);
        return 0;
    }
    log(`mutation score below the threshold (${args.limits.overall}% overall, ${args.limits.module}% per module):`);
    for (const f of failed) log(`  - ${f}`);
    return 1;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
