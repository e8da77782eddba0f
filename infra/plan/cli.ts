/**
 * `npm run plan -- --stack <name> [--out <dir>] [--include-charts]`: what `pulumi up`
 * would create, with no AWS credentials and no Pulumi CLI. Every Helm release is
 * rendered with the pinned helm (`npm run tools:install`) and the node pools are
 * checked for capacity. Exit codes: 0 planned, 1 the program failed, 2 bad
 * arguments, stack file or config, a pool over capacity at its max size, no
 * helm, or no reference data (`npm run reference:fetch`) (message only, no trace).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError } from "../config/load";
import { estimateCost } from "../cost/estimate";
import { capacityTable } from "./capacity";
import { planCapacity } from "./capacityPlan";
import { chartsYaml, ChartNotFoundError, HelmNotFoundError, renderCharts } from "./helm";
import { chartDefaultValues, unknownValueKeys } from "./helmChart";
import { ReferenceDataError } from "./reference";
import { inventory, manifestsYaml, planSummary } from "./report";
import { renderStack, REPO_ROOT } from "./render";
import { listStacks, readStackFile, StackFileError, withParked } from "./stackFile";

const USAGE =
    "usage: npm run plan -- --stack <name> [--out <dir>] [--dir <dir with Pulumi.<name>.yaml>] [--include-charts]   (defaults: out/plan/<name>, the repository root; --include-charts adds the rendered Helm charts to manifests.yaml)";

interface CliArgs {
    stack: string;
    out?: string;
    dir?: string;
    /** Append every Helm release, rendered by helm, to manifests.yaml. */
    includeCharts: boolean;
}

export function parseArgs(argv: string[]): CliArgs {
    let stack: string | undefined;
    let out: string | undefined;
    let dir: string | undefined;
    let includeCharts = false;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) throw new UsageError(`${arg} needs a value`);
            return v;
        };
        if (arg === "--stack" || arg === "-s") stack = value();
        else if (arg?.startsWith("--stack=")) stack = arg.slice("--stack=".length);
        else if (arg === "--out") out = value();
        else if (arg?.startsWith("--out=")) out = arg.slice("--out=".length);
        else if (arg === "--dir") dir = value();
        else if (arg?.startsWith("--dir=")) dir = arg.slice("--dir=".length);
        else if (arg === "--include-charts") includeCharts = true;
        else if (arg === "--help" || arg === "-h") throw new UsageError("");
        else throw new UsageError(`unknown argument "${arg}"`);
    }
    if (!stack) throw new UsageError(`--stack is required; stacks: ${listStacks(dir ?? REPO_ROOT).join(", ")}`);
    return { stack, out, dir, includeCharts };
}

class UsageError extends Error {}

async function main(): Promise<number> {
    let args: CliArgs;
    try {
        args = parseArgs(process.argv.slice(2));
    } catch (err) {
        if (err instanceof UsageError) {
            if (err.message) console.error(`error: ${err.message}`);
            console.error(USAGE);
            return 2;
        }
        throw err;
    }
    const outDir = path.resolve(args.out ?? path.join(REPO_ROOT, "out", "plan", args.stack));
    try {
        const file = readStackFile(args.dir ? path.resolve(args.dir) : REPO_ROOT, args.stack);
        const rendering = await renderStack({ stack: args.stack, stackFile: file });
        // The other state of the park switch, rendered for real: its cost is the other column.
        const parked = rendering.config.lifecycle.parked;
        const other = await renderStack({ stack: args.stack, stackFile: withParked(file, !parked) });
        const cost = estimateCost(rendering.resources, rendering.config.region);
        const otherCost = estimateCost(other.resources, rendering.config.region);
        const [runningCost, parkedCost] = parked ? [otherCost, cost] : [cost, otherCost];
        Object.assign(cost, { parked, runningHourlyUsd: runningCost.hourlyUsd, parkedHourlyUsd: parkedCost.hourlyUsd, parkedItems: parkedCost.items });
        // The charts, rendered for real; capacity is checked in the running state (parking only shrinks it).
        const running = parked ? other : rendering;
        const kubeVersion = rendering.config.cluster.kubernetesVersion;
        const runningCharts = renderCharts(running, { kubeVersion });
        const charts = parked ? renderCharts(rendering, { kubeVersion }) : runningCharts;
        const capacity = planCapacity(running.resources, runningCharts);
        // Parked, the pools are checked at their parked desired size, which the parked cost counts:
        // with the autoscaler, more pods than fit there keep more nodes (and cost) than it says.
        const parkedState = parked ? rendering : other;
        const parkedCapacity = planCapacity(parkedState.resources, parked ? charts : renderCharts(parkedState, { kubeVersion }));
        if (capacity.errors.length) {
            console.error(`Node pool capacity (requests vs allocatable, running state):\n${capacityTable(capacity.report)}\n`);
            console.error(`capacity check failed for stack "${args.stack}":\n${capacity.errors.map((e) => `  - ${e}`).join("\n")}`);
            return 2;
        }
        fs.mkdirSync(outDir, { recursive: true });
        const files = {
            "inventory.json": `${JSON.stringify(inventory(rendering), null, 2)}\n`,
            "manifests.yaml": manifestsYaml(rendering.resources) + (args.includeCharts ? chartsYaml(charts) : ""),
            "cost.json": `${JSON.stringify(cost, null, 2)}\n`,
        };
        // Write to temporary names, then rename: a failed run never leaves a half-written plan.
        for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(outDir, `.${name}.tmp`), text);
        for (const name of Object.keys(files)) fs.renameSync(path.join(outDir, `.${name}.tmp`), path.join(outDir, name));
        console.log(
            planSummary(rendering, cost, Object.keys(files).map((f) => path.relative(process.cwd(), path.join(outDir, f))), { running: runningCost, parked: parkedCost }, {
                table: capacityTable(capacity.report),
                warnings: [
                    ...capacity.warnings,
                    ...parkedCapacity.warnings.map((w) => `parked: ${w} The parked cost above counts only the desired size.`),
                    // Helm ignores a values key the chart does not have; tests fail on it for dev and prod.
                    ...charts.flatMap((c) => unknownValueKeys(c.release.values, chartDefaultValues(c.archive.files)).map((k) => `Helm release ${c.release.name}: ${k}`)),
                    ...charts
                        .filter((c) => c.placeholders.length)
                        .map((c) => `Helm release ${c.release.name} was rendered with plan placeholders (unknown outputs or secrets) at ${c.placeholders.join(", ")}`),
                ],
                charts: charts.length,
            }),
        );
        return 0;
    } catch (err) {
        if (err instanceof ConfigError || err instanceof StackFileError || err instanceof HelmNotFoundError || err instanceof ChartNotFoundError || err instanceof ReferenceDataError) {
            console.error(err.message);
            return 2;
        }
        console.error(`plan failed: ${(err as Error).stack ?? String(err)}`);
        return 1;
    }
}

main().then(
    (code) => process.exit(code),
    (err) => {
        console.error(err);
        process.exit(1);
    },
);
