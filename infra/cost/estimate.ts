/**
 * Offline cost estimate, derived from the resources a rendering registered (not
 * from config), so anything that adds or resizes a priced resource shows up.
 */
import type { RecordedResource } from "../plan/render";
import { EC2_HOURLY_USD, HOURS_PER_MONTH, NOT_ESTIMATED, PRICE_REGION, PRICES_AS_OF, SERVICE_PRICES } from "./prices";

export interface CostItem {
    name: string;
    quantity: number;
    /** null when the price table has no entry (the item is listed, not summed). */
    unitHourlyUsd: number | null;
    hourlyUsd: number;
}

export interface CostEstimate {
    hourlyUsd: number;
    monthlyUsd: number;
    pricesAsOf: string;
    priceRegion: string;
    region: string;
    items: CostItem[];
    notEstimated: string[];
    warnings: string[];
}

const round = (n: number, digits = 4) => Math.round(n * 10 ** digits) / 10 ** digits;

function num(v: unknown, fallback = 0): number {
    // Number.isFinite is false for anything that is not a number (no coercion).
    return Number.isFinite(v) ? (v as number) : fallback;
}

export function estimateCost(resources: readonly RecordedResource[], region: string): CostEstimate {
    const items: CostItem[] = [];
    const warnings: string[] = [];
    // Listed either way; summed as 0 without a price, and a negative quantity (never valid) is no credit.
    const add = (name: string, quantity: number, unitHourlyUsd: number | null) => {
        items.push({ name, quantity, unitHourlyUsd, hourlyUsd: round(Math.max(quantity, 0) * (unitHourlyUsd ?? 0)) });
    };

    for (const r of resources) {
        switch (r.type) {
            case "eks:index:Cluster":
                add(`EKS control plane (${String(r.inputs.name ?? r.name)})`, 1, SERVICE_PRICES.eksControlPlaneHourly);
                break;
            case "aws:eks/nodeGroup:NodeGroup": {
                const types = (r.inputs.instanceTypes as string[] | undefined) ?? [];
                const type = types[0] ?? "unknown";
                const scaling = (r.inputs.scalingConfig ?? {}) as Record<string, unknown>;
                const desired = num(scaling.desiredSize);
                const price = EC2_HOURLY_USD[type] ?? null;
                if (price === null) warnings.push(`no price for instance type ${type} in infra/cost/prices.ts; node group ${r.name} is not summed`);
                add(`EC2 ${type} (node group ${r.name}, desired ${desired})`, desired, price);
                const disk = num(r.inputs.diskSize, 20);
                add(`EBS gp3 root volumes ${disk} GiB (node group ${r.name})`, desired, round((disk * SERVICE_PRICES.ebsGp3GibMonthly) / HOURS_PER_MONTH, 6));
                break;
            }
            case "aws:ec2/natGateway:NatGateway":
                add(`NAT gateway (${r.name})`, 1, SERVICE_PRICES.natGatewayHourly);
                break;
            case "aws:ec2/eip:Eip":
                add(`Public IPv4 address (${r.name})`, 1, SERVICE_PRICES.publicIpv4Hourly);
                break;
            case "aws:kms/key:Key":
                add(`KMS key (${r.name})`, 1, round(SERVICE_PRICES.kmsKeyMonthly / HOURS_PER_MONTH, 6));
                break;
            // Any other type is free or usage-priced (NOT_ESTIMATED).
        }
    }
    if (region !== PRICE_REGION) warnings.push(`prices are ${PRICE_REGION} on-demand; ${region} usually differs by a few percent`);
    const hourlyUsd = round(items.reduce((s, i) => s + i.hourlyUsd, 0));
    return {
        hourlyUsd,
        monthlyUsd: round(hourlyUsd * HOURS_PER_MONTH, 2),
        pricesAsOf: PRICES_AS_OF,
        priceRegion: PRICE_REGION,
        region,
        items,
        notEstimated: NOT_ESTIMATED,
        warnings,
    };
}
