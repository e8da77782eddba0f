/**
 * Node-pool capacity check: for each pool, the CPU, memory, pod and GPU
 * requests of every pod that will land there against the pool's allocatable,
 * at its desired and at its max size. Pure functions; the inputs are built by
 * capacityWorkloads.ts from the recorded plan and the rendered charts.
 *
 * Allocatable per node, as EKS AL2023 nodes compute it (nodeadm, kubelet
 * config.go in awslabs/amazon-eks-ami):
 *   kube-reserved CPU    = 6% of the first core + 1% of the second + 0.5% of
 *                          cores 3–4 + 0.25% of every further core
 *   kube-reserved memory = 11 MiB × maxPods + 255 MiB
 *   eviction threshold   = memory.available < 100Mi
 *   allocatable CPU      = vCPUs × 1000m − kube-reserved CPU
 *   allocatable memory   = capacity − kube-reserved memory − 100 MiB, where
 *                          capacity = nominal memory × (1 − 7.5%): the kernel
 *                          and firmware keep part of the nominal size
 *                          (Karpenter's default VM memory overhead estimate)
 *   allocatable pods     = maxPods (eni-max-pods.txt)
 * No system-reserved is set on AL2023. Sums, not bin packing: a pool that fits
 * by sums can still leave a pod pending through fragmentation, so keep headroom.
 */
import type { NodeShape } from "./capacityData";

export interface Resources {
    cpuMilli: number;
    memoryMiB: number;
}

export interface Toleration {
    key?: string;
    operator?: string;
    value?: string;
    effect?: string;
}

export interface Scheduling {
    nodeSelector?: Record<string, string>;
    tolerations?: readonly Toleration[];
    affinity?: unknown;
}

/** Pods of one workload: `replicas` pods (or one per eligible node when `daemon`), each requesting `request`. */
export interface WorkloadSpec {
    name: string;
    kind: string;
    /** Where it comes from (our program, a Helm release, an operator, an EKS add-on). */
    source?: string;
    daemon: boolean;
    replicas: number;
    request: Resources;
    gpus: number;
    scheduling: Scheduling;
}

export interface Taint {
    key: string;
    value?: string;
    effect: string;
}

export interface PoolSpec {
    name: string;
    instanceType: string;
    desired: number;
    max: number;
    labels: Record<string, string>;
    taints: Taint[];
    gpusPerNode: number;
    /** undefined when the instance type is not in capacityData's table. */
    shape?: NodeShape;
}

export interface Allocatable extends Resources {
    pods: number;
}

/** CPU quantity in millicores ("250m", "1", 0.5). */
export function parseCpu(q: unknown): number {
    if (q === undefined || q === null || q === "") return 0;
    const s = String(q);
    if (s.endsWith("m")) return Number(s.slice(0, -1));
    const n = Number(s);
    if (Number.isNaN(n)) throw new Error(`not a CPU quantity: ${s}`);
    return n * 1000;
}

const MEMORY_UNITS: Record<string, number> = {
    "": 1 / (1024 * 1024),
    k: 1000 / (1024 * 1024),
    Ki: 1 / 1024,
    M: 1e6 / (1024 * 1024),
    Mi: 1,
    G: 1e9 / (1024 * 1024),
    Gi: 1024,
    T: 1e12 / (1024 * 1024),
    Ti: 1024 * 1024,
};

/** Memory quantity in MiB ("128Mi", "1Gi", "500M", bytes). */
export function parseMemory(q: unknown): number {
    if (q === undefined || q === null || q === "") return 0;
    const m = /^(\d+(?:\.\d+)?)([a-zA-Z]*)$/.exec(String(q));
    const unit = m ? MEMORY_UNITS[m[2]!] : undefined;
    if (!m || unit === undefined) throw new Error(`not a memory quantity: ${String(q)}`);
    return Number(m[1]) * unit;
}

/** EKS AL2023's kube-reserved CPU in millicores for a node with `vcpus` cores (see the header). */
export function kubeReservedCpuMilli(vcpus: number): number {
    const total = vcpus * 1000;
    const ranges: Array<[number, number, number]> = [
        [0, 1000, 600],
        [1000, 2000, 100],
        [2000, 4000, 50],
        [4000, total, 25],
    ];
    return ranges.reduce((sum, [start, end, pct]) => (total <= start ? sum : sum + Math.floor(((Math.min(total, end) - start) * pct) / 10000)), 0);
}

export const VM_MEMORY_OVERHEAD = 0.075;
export const EVICTION_HARD_MIB = 100;

export function allocatable(shape: NodeShape): Allocatable {
    const capacityMiB = shape.memoryGiB * 1024 * (1 - VM_MEMORY_OVERHEAD);
    return {
        cpuMilli: shape.vcpus * 1000 - kubeReservedCpuMilli(shape.vcpus),
        memoryMiB: Math.floor(capacityMiB - (11 * shape.maxPods + 255) - EVICTION_HARD_MIB),
        pods: shape.maxPods,
    };
}

interface NodeSelectorRequirement {
    key: string;
    operator: string;
    values?: string[];
}

function matchesRequirement(labels: Record<string, string>, r: NodeSelectorRequirement): boolean {
    const v = labels[r.key];
    switch (r.operator) {
        case "In":
            return v !== undefined && (r.values ?? []).includes(v);
        case "NotIn":
            return v === undefined || !(r.values ?? []).includes(v);
        case "Exists":
            return v !== undefined;
        case "DoesNotExist":
            return v === undefined;
        case "Gt":
            return v !== undefined && Number(v) > Number(r.values?.[0]);
        case "Lt":
            return v !== undefined && Number(v) < Number(r.values?.[0]);
        default:
            return false;
    }
}

/** Does a pod with this scheduling fit a node with these labels and taints (nodeSelector, required node affinity, NoSchedule/NoExecute taints)? */
export function schedulable(s: Scheduling, labels: Record<string, string>, taints: readonly Taint[]): boolean {
    for (const [k, v] of Object.entries(s.nodeSelector ?? {})) if (labels[k] !== v) return false;
    const required = (s.affinity as { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: Array<{ matchExpressions?: NodeSelectorRequirement[] }> } } } | undefined)
        ?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    if (required && required.length > 0 && !required.some((t) => (t.matchExpressions ?? []).every((r) => matchesRequirement(labels, r)))) return false;
    return taints
        .filter((t) => t.effect === "NoSchedule" || t.effect === "NoExecute")
        .every((t) =>
            (s.tolerations ?? []).some(
                (tol) =>
                    (!tol.effect || tol.effect === t.effect) &&
                    (tol.operator === "Exists" ? !tol.key || tol.key === t.key : tol.key === t.key && (tol.value ?? "") === (t.value ?? "")),
            ),
        );
}

/** Node labels a pool's nodes carry: the node group's labels plus the ones kubelet and EKS set. */
export function nodeLabels(pool: Pick<PoolSpec, "labels" | "instanceType">): Record<string, string> {
    return { "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "node.kubernetes.io/instance-type": pool.instanceType, ...pool.labels };
}

export interface Consumer extends Resources {
    name: string;
    kind: string;
    source?: string;
    /** Pods at the desired size (DaemonSets: one per node). */
    pods: number;
    gpus: number;
}

export interface PoolUsage {
    nodes: number;
    requested: Allocatable & { gpus: number };
    allocatable: Allocatable & { gpus: number };
}

export interface PoolCapacity {
    pool: PoolSpec;
    perNode?: Allocatable;
    atDesired?: PoolUsage;
    atMax?: PoolUsage;
    consumers: Consumer[];
    /** Pods larger than one node of the pool: they can never be scheduled. */
    oversized: string[];
}

export interface CapacityReport {
    pools: PoolCapacity[];
    /** Workloads with replicas that no pool can take (selector, affinity or taints exclude every pool). */
    unplaced: WorkloadSpec[];
}

/**
 * Which pool a workload's pods land in. DaemonSets: every pool whose nodes they
 * fit. Others: pods asking for GPUs go to the first eligible pool with GPUs,
 * other pods to the first eligible pool without (the scheduler may spread them
 * elsewhere; counting them once where they would normally go keeps sums honest).
 */
export function poolsFor(w: WorkloadSpec, pools: readonly PoolSpec[]): PoolSpec[] {
    const eligible = pools.filter((p) => schedulable(w.scheduling, nodeLabels(p), p.taints) && (w.gpus === 0 || p.gpusPerNode > 0));
    if (w.daemon) return eligible;
    const preferred = eligible.find((p) => (w.gpus > 0 ? p.gpusPerNode > 0 : p.gpusPerNode === 0)) ?? eligible[0];
    return preferred ? [preferred] : [];
}

function usage(pool: PoolSpec, perNode: Allocatable, consumers: Array<{ w: WorkloadSpec }>, nodes: number): PoolUsage {
    const requested = { cpuMilli: 0, memoryMiB: 0, pods: 0, gpus: 0 };
    for (const { w } of consumers) {
        const pods = w.daemon ? nodes : w.replicas;
        requested.cpuMilli += w.request.cpuMilli * pods;
        requested.memoryMiB += w.request.memoryMiB * pods;
        requested.pods += pods;
        requested.gpus += w.gpus * pods;
    }
    return {
        nodes,
        requested,
        allocatable: { cpuMilli: perNode.cpuMilli * nodes, memoryMiB: perNode.memoryMiB * nodes, pods: perNode.pods * nodes, gpus: pool.gpusPerNode * nodes },
    };
}

export function capacityReport(workloads: readonly WorkloadSpec[], pools: readonly PoolSpec[]): CapacityReport {
    const placed = new Map<string, Array<{ w: WorkloadSpec }>>(pools.map((p) => [p.name, []]));
    const unplaced: WorkloadSpec[] = [];
    for (const w of workloads) {
        if (!w.daemon && w.replicas === 0) continue;
        const targets = poolsFor(w, pools);
        if (targets.length === 0 && !w.daemon) unplaced.push(w);
        for (const p of targets) placed.get(p.name)!.push({ w });
    }
    return {
        unplaced,
        pools: pools.map((pool) => {
            const list = placed.get(pool.name)!;
            const perNode = pool.shape ? allocatable(pool.shape) : undefined;
            const consumers = list
                .map(({ w }) => {
                    const pods = w.daemon ? pool.desired : w.replicas;
                    return { name: w.name, kind: w.kind, source: w.source, pods, gpus: w.gpus * pods, cpuMilli: w.request.cpuMilli * pods, memoryMiB: w.request.memoryMiB * pods };
                })
                .sort((a, b) => b.cpuMilli - a.cpuMilli || b.memoryMiB - a.memoryMiB);
            const oversized = perNode
                ? list
                      .filter(({ w }) => w.request.cpuMilli > perNode.cpuMilli || w.request.memoryMiB > perNode.memoryMiB || w.gpus > pool.gpusPerNode)
                      .map(({ w }) => `${w.name} (${fmtCpu(w.request.cpuMilli)} CPU, ${fmtMem(w.request.memoryMiB)}${w.gpus ? `, ${w.gpus} GPU` : ""} per pod)`)
                : [];
            return {
                pool,
                perNode,
                atDesired: perNode ? usage(pool, perNode, list, pool.desired) : undefined,
                atMax: perNode ? usage(pool, perNode, list, pool.max) : undefined,
                consumers,
                oversized,
            };
        }),
    };
}

type Dim = "cpuMilli" | "memoryMiB" | "pods" | "gpus";
const DIM_NAMES: Record<Dim, string> = { cpuMilli: "CPU", memoryMiB: "memory", pods: "pods", gpus: "GPUs" };

function over(u: PoolUsage): Dim[] {
    return (["cpuMilli", "memoryMiB", "pods", "gpus"] as Dim[]).filter((d) => u.requested[d] > u.allocatable[d]);
}

export function fmtCpu(m: number): string {
    return m >= 1000 ? `${(m / 1000).toFixed(2).replace(/\.?0+$/, "")}` : `${Math.round(m)}m`;
}

export function fmtMem(mib: number): string {
    return mib >= 1024 ? `${(mib / 1024).toFixed(1)}Gi` : `${Math.round(mib)}Mi`;
}

function topConsumers(pc: PoolCapacity, n = 5): string {
    return pc.consumers
        .filter((c) => c.cpuMilli > 0 || c.memoryMiB > 0)
        .slice(0, n)
        .map((c) => `${c.name} ${fmtCpu(c.cpuMilli)} CPU/${fmtMem(c.memoryMiB)}`)
        .join(", ");
}

function describeOver(u: PoolUsage, dims: Dim[]): string {
    return dims.map((d) => `${DIM_NAMES[d]} ${fmtDim(d, u.requested[d])} > ${fmtDim(d, u.allocatable[d])}`).join(", ");
}

function fmtDim(d: Dim, v: number): string {
    return d === "cpuMilli" ? fmtCpu(v) : d === "memoryMiB" ? fmtMem(v) : String(v);
}

/** Errors (the plan fails) and warnings, each naming the pool and its biggest consumers. */
export function capacityFindings(report: CapacityReport): { errors: string[]; warnings: string[] } {
    const errors: string[] = [];
    const warnings: string[] = [];
    for (const pc of report.pools) {
        const { pool } = pc;
        if (!pc.atDesired || !pc.atMax) {
            warnings.push(`pool ${pool.name}: capacity not checked, instance type ${pool.instanceType} is not in infra/plan/capacityData.ts`);
            continue;
        }
        for (const o of pc.oversized) errors.push(`pool ${pool.name} (${pool.instanceType}): a pod is larger than one node's allocatable and can never be scheduled: ${o}`);
        const overMax = over(pc.atMax);
        const overDesired = over(pc.atDesired);
        if (overMax.length) {
            errors.push(
                `pool ${pool.name} (${pool.instanceType}) is oversubscribed even at its max size ${pool.max}: ${describeOver(pc.atMax, overMax)}. ` +
                    `Biggest consumers: ${topConsumers(pc)}. Raise the pool's instance type or maxSize, or lower these requests.`,
            );
        } else if (overDesired.length) {
            warnings.push(
                `pool ${pool.name} (${pool.instanceType}) needs more than its desired size ${pool.desired}: ${describeOver(pc.atDesired, overDesired)}; ` +
                    `the autoscaler has to add nodes (up to ${pool.max}). Biggest consumers: ${topConsumers(pc)}.`,
            );
        }
    }
    for (const w of report.unplaced) errors.push(`${w.kind} ${w.name}${w.source ? ` (${w.source})` : ""}: no node pool can take its pods (node selector, affinity or taints exclude every pool)`);
    return { errors, warnings };
}

function pct(a: number, b: number): string {
    return b === 0 ? (a === 0 ? "  -" : "  ∞") : `${Math.round((a / b) * 100)}%`.padStart(4);
}

/** The table `npm run plan` prints. */
export function capacityTable(report: CapacityReport): string {
    const lines: string[] = [];
    for (const pc of report.pools) {
        const p = pc.pool;
        if (!pc.atDesired || !pc.atMax || !pc.perNode) {
            lines.push(`  ${p.name}: ${p.instanceType} — not in the node-shape table, not checked`);
            continue;
        }
        const n = pc.perNode;
        lines.push(`  ${p.name}: ${p.instanceType}, allocatable per node ${fmtCpu(n.cpuMilli)} CPU, ${fmtMem(n.memoryMiB)}, ${n.pods} pods${p.gpusPerNode ? `, ${p.gpusPerNode} GPU` : ""}`);
        for (const [label, u] of [
            ["desired", pc.atDesired],
            ["max", pc.atMax],
        ] as const) {
            const cells = [
                `CPU ${fmtCpu(u.requested.cpuMilli)}/${fmtCpu(u.allocatable.cpuMilli)} ${pct(u.requested.cpuMilli, u.allocatable.cpuMilli)}`,
                `memory ${fmtMem(u.requested.memoryMiB)}/${fmtMem(u.allocatable.memoryMiB)} ${pct(u.requested.memoryMiB, u.allocatable.memoryMiB)}`,
                `pods ${u.requested.pods}/${u.allocatable.pods} ${pct(u.requested.pods, u.allocatable.pods)}`,
                ...(p.gpusPerNode || u.requested.gpus ? [`GPUs ${u.requested.gpus}/${u.allocatable.gpus}`] : []),
            ];
            const verdict = over(u).length ? "  OVER" : "  ok";
            lines.push(`    at ${label.padEnd(7)} ${String(u.nodes).padStart(2)} node${u.nodes === 1 ? " " : "s"}  ${cells.join("   ")}${verdict}`);
        }
        lines.push(`    biggest consumers: ${topConsumers(pc, 6) || "(none)"}`);
    }
    return lines.join("\n");
}
