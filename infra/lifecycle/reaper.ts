/**
 * The reaper's decisions as a pure function: stacks with their lifecycle
 * settings + now -> what to do with each. Production is never parked or
 * destroyed; a stack without an expiry is parked when idle, never destroyed.
 */
import { isProductionStack } from "../../components/validators";

export interface StackState {
    name: string;
    owner?: string;
    expiresAt?: string;
    parked: boolean;
    /** Last update time reported by the backend (ISO). */
    lastUpdate?: string;
    /** Resources in the stack's state; 0 = nothing deployed. */
    resourceCount?: number;
}

export interface ReaperPolicy {
    /** Days a parked, expired stack is kept before it is destroyed. */
    destroyGraceDays: number;
    /** Days without an update after which a stack with no expiry is parked. */
    noExpiryIdleDays: number;
    /** Warn this many hours before expiry. */
    warnHours: number;
}

export const DEFAULT_REAPER_POLICY: ReaperPolicy = { destroyGraceDays: 7, noExpiryIdleDays: 14, warnHours: 24 };

export type ReaperAction = "park" | "destroy" | "warn" | "keep";

export interface Decision {
    stack: string;
    action: ReaperAction;
    reason: string;
    owner?: string;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export function decide(stacks: readonly StackState[], now: Date, policy: ReaperPolicy = DEFAULT_REAPER_POLICY): Decision[] {
    return stacks.map((s) => {
        const d = (action: ReaperAction, reason: string): Decision => ({ stack: s.name, action, reason, owner: s.owner });
        if (s.resourceCount === 0) return d("keep", "nothing deployed");
        const expires = s.expiresAt === undefined ? undefined : Date.parse(s.expiresAt);
        if (Number.isNaN(expires)) return d("warn", `mlserve:lifecycle.expiresAt "${s.expiresAt}" is not a date; fix it or the stack is never reaped`);
        if (isProductionStack(s.name)) {
            // No expiry: never past it.
            return now.getTime() >= (expires ?? Infinity)
                ? d("warn", `production stack past its expiry (${s.expiresAt}); the reaper never parks or destroys production`)
                : d("keep", "production");
        }
        if (expires === undefined) {
            const last = s.lastUpdate ? Date.parse(s.lastUpdate) : NaN;
            if (!s.parked && !Number.isNaN(last) && now.getTime() - last >= policy.noExpiryIdleDays * DAY) {
                return d("park", `no expiresAt and no update for ${Math.floor((now.getTime() - last) / DAY)} days (limit ${policy.noExpiryIdleDays}); parked, not destroyed`);
            }
            return d("keep", s.parked ? "parked, no expiry" : "no expiry, recently updated");
        }
        const overdue = now.getTime() - expires;
        if (overdue >= 0) {
            if (!s.parked) return d("park", `expired at ${s.expiresAt}`);
            if (overdue >= policy.destroyGraceDays * DAY) return d("destroy", `expired at ${s.expiresAt} and parked for the ${policy.destroyGraceDays}-day grace period`);
            return d("keep", `expired and parked; destroyed after ${new Date(expires + policy.destroyGraceDays * DAY).toISOString()}`);
        }
        if (!s.parked && -overdue <= policy.warnHours * HOUR) return d("warn", `expires at ${s.expiresAt}, in ${Math.ceil(-overdue / HOUR)} h: extend mlserve:lifecycle.expiresAt to keep it running`);
        return d("keep", `expires at ${s.expiresAt}`);
    });
}

/** The lifecycle settings from a stack's config map (Automation API shape: key -> {value}). */
export function lifecycleFromConfig(config: Record<string, { value: string; secret?: boolean }>): Pick<StackState, "owner" | "expiresAt" | "parked"> {
    const raw = config["mlserve:lifecycle"]?.value;
    try {
        // No section ("undefined") and an empty one are not JSON either: not parked, like a broken one.
        const lc = JSON.parse(String(raw)) as { owner?: unknown; expiresAt?: unknown; parked?: unknown };
        return {
            owner: typeof lc.owner === "string" ? lc.owner : undefined,
            expiresAt: typeof lc.expiresAt === "string" ? lc.expiresAt : undefined,
            parked: lc.parked === true,
        };
    } catch {
        return { parked: false };
    }
}

/** What the reaper needs from a Pulumi backend; the CLI provides it with the Automation API. */
export interface ReaperBackend {
    listStacks(): Promise<Array<{ name: string; lastUpdate?: string; resourceCount?: number }>>;
    getConfig(stack: string): Promise<Record<string, { value: string; secret?: boolean }>>;
    /** Set mlserve:lifecycle.parked true and run `pulumi up`. */
    park(stack: string): Promise<void>;
    destroy(stack: string): Promise<void>;
}

export interface ReaperRun {
    decisions: Decision[];
    executed: Array<{ stack: string; action: ReaperAction; ok: boolean; error?: string }>;
}

/** Decide, then (unless dry-run) act; one stack's failure does not stop the others. */
export async function runReaper(backend: ReaperBackend, now: Date, opts: { dryRun: boolean; policy?: ReaperPolicy }): Promise<ReaperRun> {
    const states: StackState[] = [];
    for (const s of await backend.listStacks()) {
        states.push({ name: s.name, lastUpdate: s.lastUpdate, resourceCount: s.resourceCount, ...lifecycleFromConfig(await backend.getConfig(s.name)) });
    }
    const decisions = decide(states, now, opts.policy);
    const executed: ReaperRun["executed"] = [];
    if (!opts.dryRun) {
        for (const d of decisions) {
            if (d.action !== "park" && d.action !== "destroy") continue;
            try {
                await (d.action === "park" ? backend.park(d.stack) : backend.destroy(d.stack));
                executed.push({ stack: d.stack, action: d.action, ok: true });
            } catch (err) {
                executed.push({ stack: d.stack, action: d.action, ok: false, error: (err as Error).message });
            }
        }
    }
    return { decisions, executed };
}
