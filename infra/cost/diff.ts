/**
 * The cost change of a pull request: the offline plan's cost.json of the base
 * branch against the head, per stack, as Markdown for a PR comment.
 */
import type { CostEstimate } from "./estimate";

type Cost = Pick<CostEstimate, "hourlyUsd" | "monthlyUsd" | "items"> & { parkedHourlyUsd?: number };

const usd = (n: number) => `$${n.toFixed(2)}`;
const signed = (n: number, digits = 2) => `${n > 0 ? "+" : n < 0 ? "−" : "±"}$${Math.abs(n).toFixed(digits)}`;

/** A cost.json this version can compare (an older plan may lack items), or undefined. */
export function asCost(value: unknown): Cost | undefined {
    const v = value as Partial<Cost> | null;
    const ok =
        typeof v === "object" && v !== null && typeof v.hourlyUsd === "number" && typeof v.monthlyUsd === "number" && Array.isArray(v.items) &&
        v.items.every((i) => typeof i === "object" && i !== null && typeof i.name === "string" && typeof i.hourlyUsd === "number");
    return ok ? (v as Cost) : undefined;
}

export function costDiffRows(base: Cost | undefined, head: Cost): Array<{ name: string; base: number; head: number }> {
    // Stryker disable next-line ArrayDeclaration: a made-up base item has no name and 0 on both sides, so the filter below drops it.
    const baseItems = base?.items ?? [];
    const names = [...new Set([...baseItems.map((i) => i.name), ...head.items.map((i) => i.name)])];
    return names
        .map((name) => ({
            name,
            base: baseItems.find((i) => i.name === name)?.hourlyUsd ?? 0,
            head: head.items.find((i) => i.name === name)?.hourlyUsd ?? 0,
        }))
        .filter((r) => Math.abs(r.head - r.base) >= 0.00005);
}

export function costDiffMarkdown(stacks: Array<{ stack: string; base?: Cost; head: Cost }>): string {
    const lines = ["### Cost estimate (offline plan, us-east-1 on-demand)", "", "| stack | base $/month | this PR $/month | change | parked $/h |", "| --- | ---: | ---: | ---: | ---: |"];
    for (const s of stacks) {
        const change = s.base ? signed(s.head.monthlyUsd - s.base.monthlyUsd) : "new";
        lines.push(`| ${s.stack} | ${s.base ? usd(s.base.monthlyUsd) : "—"} | ${usd(s.head.monthlyUsd)} | ${change} | ${s.head.parkedHourlyUsd !== undefined ? `$${s.head.parkedHourlyUsd.toFixed(4)}` : "—"} |`);
    }
    for (const s of stacks) {
        const rows = costDiffRows(s.base, s.head);
        if (rows.length === 0) continue;
        lines.push("", `<details><summary>${s.stack}: ${rows.length} item(s) changed</summary>`, "", "| item | base $/h | this PR $/h | change $/h |", "| --- | ---: | ---: | ---: |");
        for (const r of rows) lines.push(`| ${r.name} | ${r.base.toFixed(4)} | ${r.head.toFixed(4)} | ${signed(r.head - r.base, 4)} |`);
        lines.push("", "</details>");
    }
    lines.push("", "_Estimated from `npm run plan` on both branches; usage-priced items (data transfer, logs) are not included._");
    return lines.join("\n");
}
