/** testing/mutation/score.ts: the per-module mutation score and the gate of `npm run test:mutation`. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { failures, main, scores, type MutationReport } from "../../testing/mutation/score";

const fixture = (name: string) => path.join(__dirname, "fixtures", name);
const load = (name: string) => JSON.parse(fs.readFileSync(fixture(name), "utf8")) as MutationReport;
function run(...argv: string[]): { code: number; out: string } {
    const lines: string[] = [];
    const code = main(argv, (s) => lines.push(s));
    return { code, out: lines.join("\n") };
}

describe("score per module", () => {
    it("detected = killed + timeout over killed + timeout + survived + no coverage; ignored and errors left out", () => {
        const { modules, overall } = scores(load("pass.json"));
        expect(modules.map((m) => [m.module, m.detected, m.valid, m.excluded])).toEqual([
            ["infra/a.ts", 10, 10, 3],
            ["infra/b.ts", 8, 10, 3],
        ]);
        expect(modules.map((m) => m.score)).toEqual([100, 80]);
        expect(overall).toMatchObject({ killed: 16, timeout: 2, survived: 1, noCoverage: 1, excluded: 6, score: 90 });
    });

    it("a module with only ignored mutants has no score and does not fail", () => {
        const c = scores(load("module-below.json")).modules.find((m) => m.module === "infra/c.ts")!;
        expect(c).toMatchObject({ valid: 0, excluded: 4, score: undefined });
    });

    it("counts the static mutants (reached outside any test) of each module, whatever their status", () => {
        const m = (status: "Killed" | "Survived" | "Ignored", isStatic?: boolean) => ({ id: "1", mutatorName: "X", status, static: isStatic, location: { start: { line: 1 } } });
        const { modules, overall } = scores({ files: { "x.ts": { mutants: [m("Killed", true), m("Survived", true), m("Ignored", true), m("Killed", false), m("Killed")] }, "y.ts": { mutants: [m("Survived")] } } });
        expect(modules.map((x) => [x.module, x.static])).toEqual([["x.ts", 3], ["y.ts", 0]]);
        expect(overall.static).toBe(3);
    });

    it("a report with no files at all fails (nothing was tested)", () => {
        expect(failures(scores({ files: {} }))).toEqual(["overall: no valid mutant (nothing was mutated or tested)"]);
    });
});

describe("the gate", () => {
    it("passes at 90% overall with every module at 70% or more, and prints the table", () => {
        const { code, out } = run(fixture("pass.json"));
        expect(code).toBe(0);
        expect(out).toMatch(/^infra\/a\.ts\s+100\.00%\s+9\s+1\s+0\s+0\s+3\s+0$/m);
        expect(out).toMatch(/^infra\/b\.ts\s+80\.00%\s+7\s+1\s+1\s+1\s+3\s+0$/m);
        expect(out).toMatch(/^overall\s+90\.00%/m);
        expect(out).toMatch(/at least 85% overall and 70% per module/);
    });

    it("fails when the overall score is below 85%, though no module is below 70%", () => {
        const { code, out } = run(fixture("overall-below.json"));
        expect(code).toBe(1);
        expect(failures(scores(load("overall-below.json")))).toEqual(["overall: 80.00% is below 85%"]);
        expect(out).toMatch(/- overall: 80\.00% is below 85%/);
        expect(out).not.toMatch(/- infra\//);
    });

    it("fails naming the module below 70% when the overall score passes", () => {
        const result = scores(load("module-below.json"));
        expect(result.overall.score).toBeGreaterThan(85);
        const { code, out } = run(fixture("module-below.json"));
        expect(code).toBe(1);
        expect(out).toMatch(/- infra\/b\.ts: 60\.00% is below 70%/);
        expect(out).not.toMatch(/- overall/);
        expect(out).not.toMatch(/- infra\/[ac]\.ts/);
    });

    it("limits can be set; a score just under a limit is not rounded up to it", () => {
        expect(run(fixture("pass.json"), "--module", "81").code).toBe(1);
        expect(run(fixture("pass.json"), "--overall", "95").code).toBe(1);
        expect(run(fixture("overall-below.json"), "--overall", "80").code).toBe(0);
        const almost: MutationReport = { files: { "x.ts": { mutants: Array.from({ length: 2000 }, (_, i) => ({ id: String(i), mutatorName: "X", status: i < 1699 ? "Killed" : "Survived", location: { start: { line: 1 } } })) } } };
        const r = scores(almost);
        expect(failures(r)).toEqual(["overall: 84.95% is below 85%"]);
    });

    it("a missing or unreadable report is exit 2 with the reason", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "score-"));
        try {
            expect(run(path.join(dir, "none.json"))).toMatchObject({ code: 2, out: expect.stringMatching(/ENOENT/) });
            fs.writeFileSync(path.join(dir, "bad.json"), "{");
            expect(run(path.join(dir, "bad.json")).code).toBe(2);
            fs.writeFileSync(path.join(dir, "other.json"), "{}");
            expect(run(path.join(dir, "other.json"))).toMatchObject({ code: 2, out: expect.stringMatching(/no `files`/) });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
