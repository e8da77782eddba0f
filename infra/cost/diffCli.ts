/**
 * `npm run cost:diff -- <base dir> <head dir> [stack ...]`: Markdown cost change
 * between two plan output trees (<dir>/<stack>/cost.json). A missing base is a new stack.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { asCost, costDiffMarkdown } from "./diff";

const [baseDir, headDir, ...stackArgs] = process.argv.slice(2);
if (!baseDir || !headDir) {
    console.error("usage: npm run cost:diff -- <base plan dir> <head plan dir> [stack ...]");
    process.exit(2);
}
const read = (dir: string, stack: string) => {
    const file = path.join(dir, stack, "cost.json");
    return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : undefined;
};
const stacks = stackArgs.length ? stackArgs : fs.readdirSync(headDir).filter((d) => fs.existsSync(path.join(headDir, d, "cost.json")));
const rows = stacks.map((stack) => {
    const head = read(headDir, stack);
    if (!head) {
        console.error(`no ${path.join(headDir, stack, "cost.json")}: run npm run plan -- --stack ${stack} --out ${path.join(headDir, stack)}`);
        process.exit(2);
    }
    const headCost = asCost(head);
    if (!headCost) {
        console.error(`${path.join(headDir, stack, "cost.json")} is not a cost estimate (hourlyUsd, monthlyUsd, items[] with name and hourlyUsd): rerun npm run plan -- --stack ${stack}`);
        process.exit(2);
    }
    const base = read(baseDir, stack);
    const baseCost = asCost(base);
    // An older or broken base plan is compared as no base (the stack shows as new), with a warning.
    if (base !== undefined && !baseCost) console.error(`warning: ${path.join(baseDir, stack, "cost.json")} has no cost items this version can read: ${stack} is shown as new`);
    return { stack, base: baseCost, head: headCost };
});
console.log(costDiffMarkdown(rows));
