/**
 * Turns a Rendering into what `npm run plan` prints and writes: the resource
 * tree, inventory.json, manifests.yaml and cost.json. Pure functions.
 */
import { stringify } from "yaml";
import type { CostEstimate } from "../cost/estimate";
import type { RecordedResource, Rendering } from "./render";

export const OFFLINE_NOTICE =
    "OFFLINE ESTIMATE: the real program ran under Pulumi's mock runtime with no AWS or Kubernetes calls. " +
    "IDs, ARNs, auto-name suffixes, AZ names and endpoints are placeholders; `pulumi preview` computes the real ones. " +
    "Costs are on-demand list prices, not a bill.";

/** A Kubernetes object type token (`kubernetes:apps/v1:Deployment`), excluding Helm releases and providers. */
export function kubernetesObjectKind(type: string): { apiVersion: string; kind: string } | undefined {
    const m = /^kubernetes:([^/:]+)\/([^:]+):(.+)$/.exec(type);
    if (!m || m[1] === "helm.sh") return undefined;
    const [, group, version, kind] = m as unknown as [string, string, string, string];
    if (kind.endsWith("List") || kind.endsWith("Patch")) return undefined;
    return { apiVersion: group === "core" ? version : `${group}/${version}`, kind };
}

/** Every Kubernetes object the plan renders, as it would be applied (auto-names filled in). */
export function kubernetesObjects(resources: readonly RecordedResource[]): Record<string, unknown>[] {
    return resources.flatMap((r) => {
        const kind = kubernetesObjectKind(r.type);
        if (!kind) return [];
        const { id: _id, urn: _urn, status: _status, ...body } = r.state;
        return [{ ...kind, ...body }];
    });
}

export function manifestsYaml(resources: readonly RecordedResource[]): string {
    return kubernetesObjects(resources)
        .map((o) => stringify(o, { lineWidth: 0 }))
        .map((doc) => `---\n${doc}`)
        .join("");
}

export function inventory(rendering: Rendering): Record<string, unknown> {
    return {
        stack: rendering.stack,
        source: rendering.source,
        offline: true,
        notice: OFFLINE_NOTICE,
        resources: rendering.resources.map((r) => ({
            urn: r.urn,
            type: r.type,
            name: r.name,
            parent: r.parent ?? null,
            custom: r.custom,
            remote: r.remote,
            dependencies: r.dependencies,
            provider: r.provider ?? null,
            inputs: r.inputs,
        })),
        outputs: rendering.outputs,
    };
}

/** One short fact per resource type that a reviewer cares about. */
function describe(r: RecordedResource): string {
    const i = r.inputs;
    switch (r.type) {
        case "aws:ec2/vpc:Vpc":
            return String(i.cidrBlock);
        case "aws:ec2/subnet:Subnet":
            return `${String(i.cidrBlock)}${i.mapPublicIpOnLaunch ? " public" : " private"}`;
        case "eks:index:Cluster":
            return `Kubernetes ${String(i.version)}, auth ${String(i.authenticationMode)}, endpoint ${i.endpointPublicAccess ? `public ${JSON.stringify(i.publicAccessCidrs)}` : "private only"}${i.endpointPrivateAccess ? " + private" : ""}`;
        case "aws:eks/nodeGroup:NodeGroup": {
            const s = (i.scalingConfig ?? {}) as Record<string, unknown>;
            const taints = (i.taints as Array<Record<string, unknown>> | undefined) ?? [];
            return `${JSON.stringify(i.instanceTypes)} ${String(i.amiType)} ${String(i.capacityType)} min/desired/max ${String(s.minSize)}/${String(s.desiredSize)}/${String(s.maxSize)} disk ${String(i.diskSize)}GiB${taints.length ? ` taint ${taints.map((t) => `${String(t.key)}=${String(t.value)}:${String(t.effect)}`).join(",")}` : ""}`;
        }
        case "aws:eks/addon:Addon":
            return `${String(i.addonName)} ${String(i.addonVersion)}`;
        case "kubernetes:helm.sh/v3:Release":
            return `chart ${String(i.chart)} ${String(i.version)} in ${String(i.namespace)}`;
        case "aws:cloudwatch/logGroup:LogGroup":
            return `retention ${String(i.retentionInDays)} days`;
        case "aws:ec2/natGateway:NatGateway":
            return "NAT gateway";
        case "kubernetes:apps/v1:Deployment": {
            const spec = (i.spec ?? {}) as { replicas?: number; template?: { spec?: { containers?: Array<{ image?: string; args?: string[] }> } } };
            const c = spec.template?.spec?.containers?.[0];
            const args = c?.args ?? [];
            const flag = (name: string) => (args.includes(name) ? ` ${name} ${args[args.indexOf(name) + 1]}` : "");
            return `replicas ${spec.replicas ?? "(HPA)"} ${c?.image ?? ""}${flag("--quantize")}${flag("--quantization")}${flag("--dtype")}`;
        }
        default:
            return "";
    }
}

export function resourceTree(resources: readonly RecordedResource[]): string {
    const children = new Map<string | undefined, RecordedResource[]>();
    const urns = new Set(resources.map((r) => r.urn));
    for (const r of resources) {
        const parent = r.parent && urns.has(r.parent) ? r.parent : undefined;
        children.set(parent, [...(children.get(parent) ?? []), r]);
    }
    const count = (urn: string): number => (children.get(urn) ?? []).reduce((n, c) => n + 1 + count(c.urn), 0);
    const lines: string[] = [];
    const walk = (parent: string | undefined, prefix: string) => {
        const kids = children.get(parent) ?? [];
        // Collapse runs of 4+ childless siblings of one type (e.g. ASG tags) into one line.
        const groups: RecordedResource[][] = [];
        for (const k of kids) {
            const last = groups[groups.length - 1];
            if (last && last[0]!.type === k.type && !children.has(k.urn) && !children.has(last[0]!.urn)) last.push(k);
            else groups.push([k]);
        }
        const expanded = groups.flatMap((g) => (g.length >= 4 ? [g] : g.map((r) => [r])));
        expanded.forEach((group, idx) => {
            const lastItem = idx === expanded.length - 1;
            const branch = parent === undefined ? "" : lastItem ? "└─ " : "├─ ";
            const r = group[0]!;
            if (group.length > 1) {
                lines.push(`${prefix}${branch}${r.type} ×${group.length}  ${group.map((g) => g.name).join(", ")}`);
                return;
            }
            const sub = count(r.urn);
            const detail = describe(r);
            const kind = r.remote ? " (remote component)" : r.custom ? "" : " (component)";
            lines.push(`${prefix}${branch}${r.type}  ${r.name}${kind}${sub ? `  [${sub} resources]` : ""}${detail ? `  ${detail}` : ""}`);
            walk(r.urn, parent === undefined ? prefix : `${prefix}${lastItem ? "   " : "│  "}`);
        });
    };
    walk(undefined, "");
    return lines.join("\n");
}

/** Nested outputs down to endpoint records, one line each. */
function formatTree(key: string, value: Record<string, unknown>, indent: string): string[] {
    const entries = Object.entries(value);
    if (entries.length === 0) return [`${indent}${key}: (none)`];
    return [
        `${indent}${key}:`,
        ...entries.flatMap(([k, v]) =>
            v && typeof v === "object" && !Array.isArray(v) && !("baseUrl" in v) && !("inCluster" in v)
                ? formatTree(k, v as Record<string, unknown>, `${indent}  `)
                : [`${indent}  ${k}: ${formatValue(v)}`],
        ),
    ];
}

/** One line per LLM variant or KServe endpoint; anything else as compact JSON. */
function formatValue(v: unknown): string {
    if (v && typeof v === "object" && "baseUrl" in v && "routes" in v) {
        const e = v as { baseUrl: string; engine: string; model: string; quantize: string; replicas: number; routes: Record<string, string> };
        return `${e.baseUrl}  ${e.engine} ${e.model} quantize=${e.quantize} replicas=${e.replicas}${e.replicas === 0 ? " (parked)" : ""}  routes ${Object.values(e.routes).join(" ")}`;
    }
    if (v && typeof v === "object" && "inCluster" in v && "external" in v) {
        const e = v as { protocol: string; inCluster: string; external: { url: string; hostHeader: string }; path?: string; grpc?: { service: string; method: string } };
        const call = e.grpc ? `grpc ${e.grpc.service}/${e.grpc.method}` : `POST ${e.path}`;
        return `${e.protocol} ${e.inCluster} ${call}  (external: ${e.external.url} Host: ${e.external.hostHeader})`;
    }
    return formatJson(v);
}

function formatJson(v: unknown): string {
    const s = typeof v === "string" ? v : JSON.stringify(v);
    return s.length > 160 ? `${s.slice(0, 157)}...` : s;
}

export function costTable(cost: CostEstimate): string {
    const rows = cost.items.map((i) => {
        const unit = i.unitHourlyUsd === null ? "no price" : `$${i.unitHourlyUsd.toFixed(4)}/h`;
        return `  ${i.name.padEnd(64)} ${String(i.quantity).padStart(3)} × ${unit.padStart(12)} = $${i.hourlyUsd.toFixed(4)}/h`;
    });
    return [
        ...rows,
        `  ${"TOTAL".padEnd(64)} $${cost.hourlyUsd.toFixed(4)}/h  ≈ $${cost.monthlyUsd.toFixed(2)}/month (730 h)`,
        `  Prices: ${cost.priceRegion} on-demand as of ${cost.pricesAsOf} (infra/cost/prices.ts). Not included: ${cost.notEstimated.join("; ")}.`,
        ...cost.warnings.map((w) => `  note: ${w}`),
    ].join("\n");
}

/** Running vs parked, with what dominates the parked cost. */
export function parkSummary(running: CostEstimate, parked: CostEstimate, isParked: boolean): string {
    const top = [...parked.items].filter((i) => i.hourlyUsd > 0).sort((a, b) => b.hourlyUsd - a.hourlyUsd).slice(0, 3);
    return [
        `  Running: $${running.hourlyUsd.toFixed(4)}/h (≈ $${running.monthlyUsd.toFixed(2)}/month)   Parked: $${parked.hourlyUsd.toFixed(4)}/h (≈ $${parked.monthlyUsd.toFixed(2)}/month)   This stack is ${isParked ? "PARKED" : "running"}.`,
        `  Parked cost is mostly: ${top.map((i) => `${i.name} $${i.hourlyUsd.toFixed(4)}/h`).join("; ")}.`,
        "  Park with `pulumi config set --path mlserve:lifecycle.parked true && pulumi up`; set it back to false to restore the sizes in config.",
    ].join("\n");
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;

/** The node-pool capacity section of the summary (capacity.ts renders the table). */
export interface CapacitySummary {
    table: string;
    warnings: string[];
    /** Helm releases rendered with helm for the check. */
    charts: number;
}

export function planSummary(
    rendering: Rendering,
    cost: CostEstimate,
    files: string[],
    park?: { running: CostEstimate; parked: CostEstimate },
    capacity?: CapacitySummary,
): string {
    const rs = rendering.resources;
    const components = rs.filter((r) => !r.custom && !r.remote).length;
    const remote = rs.filter((r) => r.remote).length;
    const providers = rs.filter((r) => r.type.startsWith("pulumi:providers:")).length;
    const k8sObjects = kubernetesObjects(rs).length;
    const outputs = Object.entries(rendering.outputs).flatMap(([k, o]) => {
        if (o.secret) return [`  ${k}: [secret]`];
        if (o.value !== null && typeof o.value === "object" && !Array.isArray(o.value)) return formatTree(k, o.value as Record<string, unknown>, "  ");
        return [`  ${k}: ${formatValue(o.value)}`];
    });
    return [
        `mlserve plan: stack "${rendering.stack}" from ${rendering.source}, region ${rendering.config.region}`,
        "",
        OFFLINE_NOTICE,
        "",
        `Resources: ${rs.length} (${plural(components, "component")}, ${plural(remote, "remote component")}, ${plural(providers, "provider")}, ${plural(rs.length - components - remote - providers, "cloud/cluster resource")}; ${plural(k8sObjects, "Kubernetes object")})`,
        "",
        resourceTree(rs),
        "",
        "Stack outputs (endpoints):",
        ...outputs,
        "",
        "Estimated cost:",
        costTable(cost),
        ...(park ? ["", "Running vs parked:", parkSummary(park.running, park.parked, rendering.config.lifecycle.parked)] : []),
        ...(capacity
            ? [
                  "",
                  `Node pool capacity (pod requests vs allocatable, running state, minimum replicas; ${plural(capacity.charts, "Helm release")} rendered with helm):`,
                  capacity.table,
                  ...capacity.warnings.map((w) => `  warning: ${w}`),
              ]
            : []),
        ...(rendering.warnings.length ? ["", "Config warnings:", ...rendering.warnings.map((w) => `  - ${w}`)] : []),
        "",
        "Wrote:",
        ...files.map((f) => `  ${f}`),
    ].join("\n");
}
