/**
 * The reaper (infra/lifecycle/reaper.ts): its decisions over hand-made stack
 * states at a fixed "now", the lifecycle settings it reads from a stack's config,
 * and a run against a fake backend. Reasons are asserted in full: they are what
 * the stack owner reads in the reaper's report.
 */
import { describe, expect, it } from "vitest";
import { decide, lifecycleFromConfig, runReaper, type ReaperBackend, type StackState } from "../../infra/lifecycle/reaper";

// Times below are hand-computed from this instant.
const now = new Date("2026-12-10T12:00:00Z");
const state = (s: Partial<StackState>): StackState => ({ name: "dev", owner: "alice", parked: false, resourceCount: 80, ...s });
const decision = (s: Partial<StackState>, policy?: Parameters<typeof decide>[2]) => decide([state(s)], now, policy)[0];

describe("decide: stacks with an expiry (default policy: warn 24 h before, destroy 7 days after parking)", () => {
    it("an expired running stack is parked, from the very instant of expiry", () => {
        expect(decision({ expiresAt: "2026-12-01" })).toEqual({ stack: "dev", action: "park", reason: "expired at 2026-12-01", owner: "alice" });
        expect(decision({ expiresAt: "2026-12-10T12:00:00Z" })).toEqual({ stack: "dev", action: "park", reason: "expired at 2026-12-10T12:00:00Z", owner: "alice" });
    });

    it("an expired parked stack is destroyed exactly 7 days after expiry, and kept (with the date) one second before", () => {
        expect(decision({ expiresAt: "2026-12-03T12:00:00Z", parked: true })).toEqual({
            stack: "dev",
            action: "destroy",
            reason: "expired at 2026-12-03T12:00:00Z and parked for the 7-day grace period",
            owner: "alice",
        });
        expect(decision({ expiresAt: "2026-12-03T12:00:01Z", parked: true })).toEqual({
            stack: "dev",
            action: "keep",
            reason: "expired and parked; destroyed after 2026-12-10T12:00:01.000Z",
            owner: "alice",
        });
    });

    it("a running stack is warned within 24 h of expiry (hours rounded up), exactly at 24 h, not one second before", () => {
        expect(decision({ expiresAt: "2026-12-11T06:00:00Z" })).toEqual({
            stack: "dev",
            action: "warn",
            reason: "expires at 2026-12-11T06:00:00Z, in 18 h: extend mlserve:lifecycle.expiresAt to keep it running",
            owner: "alice",
        });
        expect(decision({ expiresAt: "2026-12-11T06:30:00Z" })!.reason).toBe("expires at 2026-12-11T06:30:00Z, in 19 h: extend mlserve:lifecycle.expiresAt to keep it running");
        expect(decision({ expiresAt: "2026-12-10T12:00:00.001Z" })).toMatchObject({ action: "warn", reason: expect.stringContaining(", in 1 h:") });
        expect(decision({ expiresAt: "2026-12-11T12:00:00Z" })).toMatchObject({ action: "warn", reason: expect.stringContaining(", in 24 h:") });
        expect(decision({ expiresAt: "2026-12-11T12:00:01Z" })).toEqual({ stack: "dev", action: "keep", reason: "expires at 2026-12-11T12:00:01Z", owner: "alice" });
    });

    it("a parked stack about to expire is not warned (there is nothing running to lose)", () => {
        expect(decision({ expiresAt: "2026-12-11T06:00:00Z", parked: true })).toEqual({ stack: "dev", action: "keep", reason: "expires at 2026-12-11T06:00:00Z", owner: "alice" });
    });

    it("an expiry that is not a date is a warning naming the key and the value", () => {
        expect(decision({ expiresAt: "soon" })).toEqual({
            stack: "dev",
            action: "warn",
            reason: 'mlserve:lifecycle.expiresAt "soon" is not a date; fix it or the stack is never reaped',
            owner: "alice",
        });
        expect(decision({ name: "prod", expiresAt: "soon" })!.action).toBe("warn");
    });

    it("a custom policy replaces every default", () => {
        const policy = { destroyGraceDays: 2, noExpiryIdleDays: 3, warnHours: 48 };
        expect(decision({ expiresAt: "2026-12-08T12:00:00Z", parked: true }, policy)!.reason).toBe("expired at 2026-12-08T12:00:00Z and parked for the 2-day grace period");
        expect(decision({ expiresAt: "2026-12-08T12:00:01Z", parked: true }, policy)!.reason).toBe("expired and parked; destroyed after 2026-12-10T12:00:01.000Z");
        expect(decision({ expiresAt: "2026-12-12T12:00:00Z" }, policy)!.reason).toBe("expires at 2026-12-12T12:00:00Z, in 48 h: extend mlserve:lifecycle.expiresAt to keep it running");
        expect(decision({ lastUpdate: "2026-12-07T12:00:00Z" }, policy)!.reason).toBe("no expiresAt and no update for 3 days (limit 3); parked, not destroyed");
        expect(decision({ lastUpdate: "2026-12-07T12:00:01Z" }, policy)!.action).toBe("keep");
    });
});

describe("decide: stacks without an expiry are parked when idle, never destroyed", () => {
    it("parked after 14 days without an update (days rounded down), exactly at 14 days, not one second before", () => {
        expect(decision({ lastUpdate: "2026-11-01T00:00:00Z" })).toEqual({
            stack: "dev",
            action: "park",
            reason: "no expiresAt and no update for 39 days (limit 14); parked, not destroyed",
            owner: "alice",
        });
        expect(decision({ lastUpdate: "2026-11-26T12:00:00Z" })!.reason).toBe("no expiresAt and no update for 14 days (limit 14); parked, not destroyed");
        expect(decision({ lastUpdate: "2026-11-26T12:00:01Z" })).toEqual({ stack: "dev", action: "keep", reason: "no expiry, recently updated", owner: "alice" });
    });

    it("kept when already parked, or when the last update is unknown or not a date", () => {
        expect(decision({ lastUpdate: "2026-01-01T00:00:00Z", parked: true })).toEqual({ stack: "dev", action: "keep", reason: "parked, no expiry", owner: "alice" });
        expect(decision({})).toEqual({ stack: "dev", action: "keep", reason: "no expiry, recently updated", owner: "alice" });
        expect(decision({ lastUpdate: "last week" })).toEqual({ stack: "dev", action: "keep", reason: "no expiry, recently updated", owner: "alice" });
    });
});

describe("decide: production and empty stacks", () => {
    it("production is never parked or destroyed: warned from the instant of expiry, else kept", () => {
        expect(decision({ name: "prod", expiresAt: "2026-01-01" })).toEqual({
            stack: "prod",
            action: "warn",
            reason: "production stack past its expiry (2026-01-01); the reaper never parks or destroys production",
            owner: "alice",
        });
        expect(decision({ name: "prod-eu", expiresAt: "2026-12-10T12:00:00Z", parked: true })!.action).toBe("warn");
        expect(decision({ name: "prod", expiresAt: "2026-12-10T12:00:01Z" })).toEqual({ stack: "prod", action: "keep", reason: "production", owner: "alice" });
        expect(decision({ name: "production", lastUpdate: "2025-01-01T00:00:00Z" })).toEqual({ stack: "production", action: "keep", reason: "production", owner: "alice" });
    });

    it("a stack with nothing deployed is left alone, whatever its settings; an unknown count is not zero", () => {
        expect(decision({ expiresAt: "soon", resourceCount: 0 })).toEqual({ stack: "dev", action: "keep", reason: "nothing deployed", owner: "alice" });
        expect(decision({ expiresAt: "2026-01-01", parked: true, resourceCount: 0 })!.action).toBe("keep");
        expect(decision({ expiresAt: "2026-01-01", resourceCount: undefined })!.action).toBe("park");
    });

    it("one decision per stack, in order, each with its own owner", () => {
        const ds = decide([state({ name: "a", owner: "x", expiresAt: "2026-12-01" }), state({ name: "b", owner: undefined })], now);
        expect(ds).toEqual([
            { stack: "a", action: "park", reason: "expired at 2026-12-01", owner: "x" },
            { stack: "b", action: "keep", reason: "no expiry, recently updated", owner: undefined },
        ]);
    });
});

describe("lifecycleFromConfig", () => {
    const cfg = (value: string) => ({ "mlserve:lifecycle": { value } });

    it("reads owner, expiry and parked from mlserve:lifecycle", () => {
        expect(lifecycleFromConfig(cfg('{"owner":"alice","expiresAt":"2026-12-31","parked":true,"alertEmails":[]}'))).toStrictEqual({ owner: "alice", expiresAt: "2026-12-31", parked: true });
        expect(lifecycleFromConfig(cfg('{"owner":"alice"}'))).toStrictEqual({ owner: "alice", expiresAt: undefined, parked: false });
    });

    it("ignores values of the wrong type: parked only when literally true", () => {
        expect(lifecycleFromConfig(cfg('{"owner":7,"expiresAt":20261231,"parked":"true"}'))).toStrictEqual({ owner: undefined, expiresAt: undefined, parked: false });
    });

    it("no section, an empty one or one that is not JSON: not parked, nothing else known", () => {
        expect(lifecycleFromConfig({})).toStrictEqual({ parked: false });
        expect(lifecycleFromConfig({ "aws:region": { value: "us-east-1" } })).toStrictEqual({ parked: false });
        expect(lifecycleFromConfig(cfg(""))).toStrictEqual({ parked: false });
        expect(lifecycleFromConfig(cfg("{owner: alice"))).toStrictEqual({ parked: false });
    });
});

describe("runReaper", () => {
    type Fake = { name: string; lifecycle?: Record<string, unknown>; lastUpdate?: string; resourceCount?: number; fail?: boolean };

    function fakeBackend(stacks: Fake[]) {
        const calls: string[] = [];
        const backend: ReaperBackend = {
            listStacks: async () => stacks.map((s) => ({ name: s.name, lastUpdate: s.lastUpdate, resourceCount: s.resourceCount })),
            getConfig: async (name) => {
                calls.push(`config ${name}`);
                const lc = stacks.find((s) => s.name === name)!.lifecycle;
                const config: Record<string, { value: string }> = { "aws:region": { value: "us-east-1" } };
                if (lc) config["mlserve:lifecycle"] = { value: JSON.stringify(lc) };
                return config;
            },
            park: async (name) => {
                if (stacks.find((s) => s.name === name)!.fail) throw new Error(`pulumi up of ${name} failed`);
                calls.push(`park ${name}`);
            },
            destroy: async (name) => {
                if (stacks.find((s) => s.name === name)!.fail) throw new Error(`pulumi destroy of ${name} failed`);
                calls.push(`destroy ${name}`);
            },
        };
        return { backend, calls };
    }

    const stacks: Fake[] = [
        { name: "expired", lifecycle: { owner: "a", expiresAt: "2026-12-01" }, resourceCount: 10 },
        { name: "broken", lifecycle: { owner: "b", expiresAt: "2026-12-01" }, resourceCount: 10, fail: true },
        { name: "old", lifecycle: { owner: "c", expiresAt: "2026-11-01", parked: true }, resourceCount: 10 },
        { name: "broken-old", lifecycle: { owner: "c", expiresAt: "2026-11-01", parked: true }, resourceCount: 10, fail: true },
        { name: "idle", lifecycle: { owner: "d" }, lastUpdate: "2026-11-01T00:00:00Z", resourceCount: 10 },
        { name: "empty", lifecycle: { owner: "e", expiresAt: "2026-11-01" }, resourceCount: 0 },
        { name: "soon", lifecycle: { owner: "f", expiresAt: "2026-12-11T06:00:00Z" } },
        { name: "unconfigured" },
    ];

    it("dry run: decides from each stack's config, last update and resource count, and changes nothing", async () => {
        const { backend, calls } = fakeBackend(stacks);
        const run = await runReaper(backend, now, { dryRun: true });
        expect(run.decisions.map((d) => [d.stack, d.action, d.owner])).toEqual([
            ["expired", "park", "a"],
            ["broken", "park", "b"],
            ["old", "destroy", "c"],
            ["broken-old", "destroy", "c"],
            ["idle", "park", "d"],
            ["empty", "keep", "e"],
            ["soon", "warn", "f"],
            ["unconfigured", "keep", undefined],
        ]);
        expect(calls).toEqual(stacks.map((s) => `config ${s.name}`));
        expect(run.executed).toEqual([]);
    });

    it("a real run parks and destroys (nothing else), and a failure is reported without stopping the others", async () => {
        const { backend, calls } = fakeBackend(stacks);
        const run = await runReaper(backend, now, { dryRun: false });
        expect(calls.filter((c) => !c.startsWith("config "))).toEqual(["park expired", "destroy old", "park idle"]);
        expect(run.executed).toEqual([
            { stack: "expired", action: "park", ok: true },
            { stack: "broken", action: "park", ok: false, error: "pulumi up of broken failed" },
            { stack: "old", action: "destroy", ok: true },
            { stack: "broken-old", action: "destroy", ok: false, error: "pulumi destroy of broken-old failed" },
            { stack: "idle", action: "park", ok: true },
        ]);
        expect(run.decisions).toHaveLength(8);
    });

    it("passes its policy to the decisions", async () => {
        const { backend } = fakeBackend([{ name: "recent", lifecycle: { owner: "a" }, lastUpdate: "2026-12-07T12:00:00Z", resourceCount: 3 }]);
        expect((await runReaper(backend, now, { dryRun: true })).decisions[0]!.action).toBe("keep");
        const run = await runReaper(backend, now, { dryRun: true, policy: { destroyGraceDays: 7, noExpiryIdleDays: 3, warnHours: 24 } });
        expect(run.decisions[0]).toEqual({ stack: "recent", action: "park", reason: "no expiresAt and no update for 3 days (limit 3); parked, not destroyed", owner: "a" });
    });
});
