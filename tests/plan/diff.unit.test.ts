/**
 * The cost change of a pull request (infra/cost/diff.ts): the rows that changed
 * and the Markdown comment, over hand-made cost estimates. Differences and
 * their formatting are worked out by hand.
 */
import { describe, expect, it } from "vitest";
import { asCost, costDiffMarkdown, costDiffRows } from "../../infra/cost/diff";

const item = (name: string, hourlyUsd: number) => ({ name, quantity: 1, unitHourlyUsd: hourlyUsd, hourlyUsd });
const cost = (monthlyUsd: number, items: Array<[string, number]>, parkedHourlyUsd?: number) => ({
    hourlyUsd: monthlyUsd / 730,
    monthlyUsd,
    items: items.map(([n, h]) => item(n, h)),
    ...(parkedHourlyUsd === undefined ? {} : { parkedHourlyUsd }),
});

describe("costDiffRows", () => {
    it("items of either side, base's first; missing on one side counts as 0; unchanged items dropped", () => {
        const base = cost(100, [["EKS", 0.1], ["EC2 g5.4xlarge", 1.624], ["NAT", 0.045]]);
        const head = cost(200, [["KMS", 0.0014], ["EC2 g5.4xlarge", 3.248], ["EKS", 0.1]]);
        expect(costDiffRows(base, head)).toEqual([
            { name: "EC2 g5.4xlarge", base: 1.624, head: 3.248 },
            { name: "NAT", base: 0.045, head: 0 },
            { name: "KMS", base: 0, head: 0.0014 },
        ]);
    });

    it("a new stack: every item from 0", () => {
        expect(costDiffRows(undefined, cost(1, [["EKS", 0.1], ["NAT", 0.045]]))).toEqual([
            { name: "EKS", base: 0, head: 0.1 },
            { name: "NAT", base: 0, head: 0.045 },
        ]);
    });

    it("a change shows from 0.00005 $/h (what rounds to 0.0001 in the table), up or down", () => {
        const rows = costDiffRows(cost(1, [["down-at-limit", 0.00005], ["down-below", 0.00004]]), cost(1, [["up-at-limit", 0.00005], ["up-below", 0.00004]]));
        expect(rows.map((r) => r.name)).toEqual(["down-at-limit", "up-at-limit"]);
    });
});

describe("costDiffMarkdown", () => {
    it("one summary row per stack (up, down, unchanged, new), then the changed items of each stack that has any", () => {
        const md = costDiffMarkdown([
            { stack: "dev", base: cost(300, [["EKS control plane", 0.1], ["EC2 g5.4xlarge", 1.624], ["NAT gateway", 0.045]], 0.35), head: cost(1485.52, [["EKS control plane", 0.1], ["EC2 g5.4xlarge", 3.248], ["KMS key", 0.0014]], 0.3372) },
            { stack: "shrink", base: cost(500, [["EKS control plane", 0.1]]), head: cost(400.25, [["EKS control plane", 0.1]]) },
            { stack: "same", base: cost(250, [["EKS control plane", 0.1]]), head: cost(250, [["EKS control plane", 0.1]], 0) },
            { stack: "new", head: cost(73, [["EKS control plane", 0.1]], 0.25) },
        ]);
        expect(md.split("\n")).toEqual([
            "### Cost estimate (offline plan, us-east-1 on-demand)",
            "",
            "| stack | base $/month | this PR $/month | change | parked $/h |",
            "| --- | ---: | ---: | ---: | ---: |",
            // 1485.52 − 300 = 1185.52; parked from the head.
            "| dev | $300.00 | $1485.52 | +$1185.52 | $0.3372 |",
            // 400.25 − 500 = −99.75 (a minus sign, U+2212).
            "| shrink | $500.00 | $400.25 | −$99.75 | — |",
            "| same | $250.00 | $250.00 | ±$0.00 | $0.0000 |",
            "| new | — | $73.00 | new | $0.2500 |",
            "",
            "<details><summary>dev: 3 item(s) changed</summary>",
            "",
            "| item | base $/h | this PR $/h | change $/h |",
            "| --- | ---: | ---: | ---: |",
            "| EC2 g5.4xlarge | 1.6240 | 3.2480 | +$1.6240 |",
            "| NAT gateway | 0.0450 | 0.0000 | −$0.0450 |",
            "| KMS key | 0.0000 | 0.0014 | +$0.0014 |",
            "",
            "</details>",
            "",
            "<details><summary>new: 1 item(s) changed</summary>",
            "",
            "| item | base $/h | this PR $/h | change $/h |",
            "| --- | ---: | ---: | ---: |",
            "| EKS control plane | 0.0000 | 0.1000 | +$0.1000 |",
            "",
            "</details>",
            "",
            "_Estimated from `npm run plan` on both branches; usage-priced items (data transfer, logs) are not included._",
        ]);
    });

    it("no stacks: the header and the footnote only", () => {
        expect(costDiffMarkdown([])).toBe(
            [
                "### Cost estimate (offline plan, us-east-1 on-demand)",
                "",
                "| stack | base $/month | this PR $/month | change | parked $/h |",
                "| --- | ---: | ---: | ---: | ---: |",
                "",
                "_Estimated from `npm run plan` on both branches; usage-priced items (data transfer, logs) are not included._",
            ].join("\n"),
        );
    });
});

describe("asCost", () => {
    it("takes a cost.json with totals and named, priced items, and nothing else", () => {
        const good = { hourlyUsd: 1, monthlyUsd: 730, items: [{ name: "a", hourlyUsd: 1 }] };
        expect(asCost(good)).toBe(good);
        expect(asCost({ hourlyUsd: 1, monthlyUsd: 730, items: [] })).toEqual({ hourlyUsd: 1, monthlyUsd: 730, items: [] });
        for (const bad of [undefined, null, "x", {}, { hourlyUsd: 1, monthlyUsd: 730 }, { hourlyUsd: 1, monthlyUsd: 730, items: null }, { hourlyUsd: "1", monthlyUsd: 730, items: [] }, { hourlyUsd: 1, monthlyUsd: "730", items: [] }, { hourlyUsd: 1, monthlyUsd: 730, items: [null] }, { hourlyUsd: 1, monthlyUsd: 730, items: [undefined] }, { hourlyUsd: 1, monthlyUsd: 730, items: [{ name: 1, hourlyUsd: 1 }] }, { hourlyUsd: 1, monthlyUsd: 730, items: [{ name: "a", hourlyUsd: "1" }] }]) {
            expect(asCost(bad), String(JSON.stringify(bad))).toBeUndefined();
        }
    });
});
