/** infra/config/async.ts: `mlserve:async` and its rules. */
import { describe, expect, it } from "vitest";
import { asyncRules, asyncSchema } from "../../infra/config/async";
import { expectBounds, problemsOf } from "./bounds";

const run = (raw: unknown) => asyncRules.flatMap((c) => c(raw));

describe("mlserve:async", () => {
    it("defaults: on, images built by the stack, 5 deliveries, 120 s model timeout, worker 0-4, gateway 2-5 at 70% CPU", () => {
        expect(asyncSchema.parse({})).toEqual({
            enabled: true,
            images: {},
            maxReceiveCount: 5,
            modelTimeoutSeconds: 120,
            attempts: 3,
            messageRetentionDays: 4,
            resultRetentionDays: 7,
            worker: { concurrency: 8, minReplicas: 0, maxReplicas: 4, messagesPerReplica: 5, activationMessages: 0 },
            gateway: { minReplicas: 2, maxReplicas: 5, targetCpuUtilizationPercent: 70 },
        });
    });

    it("bounds of every number", () => {
        const s = asyncSchema;
        expectBounds(s, "maxReceiveCount", (n) => ({ maxReceiveCount: n }), 1, 100);
        expectBounds(s, "modelTimeoutSeconds", (n) => ({ modelTimeoutSeconds: n }), 1, 3600);
        expectBounds(s, "attempts", (n) => ({ attempts: n }), 1, 10);
        expectBounds(s, "messageRetentionDays", (n) => ({ messageRetentionDays: n }), 1, 14);
        expectBounds(s, "resultRetentionDays", (n) => ({ resultRetentionDays: n }), 1, 3650);
        expectBounds(s, "worker.concurrency", (n) => ({ worker: { concurrency: n } }), 1, 256);
        expectBounds(s, "worker.minReplicas", (n) => ({ worker: { minReplicas: n, maxReplicas: 100 } }), 0, 100);
        expectBounds(s, "worker.maxReplicas", (n) => ({ worker: { maxReplicas: n } }), 1, 100);
        expectBounds(s, "worker.messagesPerReplica", (n) => ({ worker: { messagesPerReplica: n } }), 1, 1000);
        expectBounds(s, "worker.activationMessages", (n) => ({ worker: { activationMessages: n } }), 0, 1000);
        expectBounds(s, "gateway.minReplicas", (n) => ({ gateway: { minReplicas: n, maxReplicas: 100 } }), 1, 100);
        expectBounds(s, "gateway.maxReplicas", (n) => ({ gateway: { maxReplicas: n } }), 1, 100);
        expectBounds(s, "gateway.targetCpuUtilizationPercent", (n) => ({ gateway: { targetCpuUtilizationPercent: n } }), 1, 100);
    });

    it("images must be pinned; variants are non-empty names; unknown keys are refused", () => {
        expect(problemsOf(asyncSchema, { images: { gateway: "r/gw:1.0", worker: "r/w:1.0" }, variants: ["a"] })).toEqual([]);
        expect(problemsOf(asyncSchema, { images: { worker: "r/w" } })).toEqual([{ path: "images.worker", message: "must pin a tag or digest, e.g. <registry>/<image>:<version>" }]);
        expect(problemsOf(asyncSchema, { variants: [""] })).toEqual([{ path: "variants.0", message: "Too small: expected string to have >=1 characters" }]);
        expect(problemsOf(asyncSchema, { images: { other: "r/x:1" } }).map((p) => p.path)).toEqual(["images"]);
        expect(problemsOf(asyncSchema, { worker: { replicas: 1 } }).map((p) => p.path)).toEqual(["worker"]);
        expect(problemsOf(asyncSchema, { gateway: { replicas: 1 } }).map((p) => p.path)).toEqual(["gateway"]);
    });
});

describe("async rules", () => {
    it("worker and gateway minReplicas may equal maxReplicas, not exceed it", () => {
        expect(run({ async: { worker: { minReplicas: 3, maxReplicas: 3 }, gateway: { minReplicas: 3, maxReplicas: 3 } } })).toEqual([]);
        expect(run({ async: { worker: { minReplicas: 5 }, gateway: { minReplicas: 6 } } })).toEqual([
            { path: ["async", "worker", "minReplicas"], input: 5, message: "must be <= maxReplicas (4)" },
            { path: ["async", "gateway", "minReplicas"], input: 6, message: "must be <= maxReplicas (5)" },
        ]);
    });

    it("the async path needs KEDA and metrics-server, unless it is off", () => {
        const addons = { keda: { enabled: false }, metricsServer: { enabled: false } };
        expect(run({ addons })).toEqual([
            { path: ["async", "enabled"], input: true, message: "the async path needs KEDA: it scales the worker on queue depth, from zero. Set mlserve:addons.keda.enabled to true, or turn the async path off" },
            {
                path: ["async", "enabled"],
                input: true,
                message: "the async path needs metrics-server: the gateway's HorizontalPodAutoscaler reads CPU metrics from it. Set mlserve:addons.metricsServer.enabled to true, or turn the async path off",
            },
        ]);
        expect(run({ addons, async: { enabled: false } })).toEqual([]);
    });

    it("with no target list, the stack needs a TGI variant (an engine left out is TGI)", () => {
        const none = { path: ["async", "enabled"], input: true, message: "the async path targets TGI variants (its worker calls /generate), and mlserve:variants has none" };
        expect(run({})).toEqual([]);
        expect(run({ variants: [{ name: "a" }] })).toEqual([]);
        expect(run({ variants: [] })).toEqual([none]);
        expect(run({ variants: [{ name: "v", engine: "vllm" }] })).toEqual([none]);
        expect(run({ variants: [{ name: "v", engine: "vllm" }], async: { enabled: false } })).toEqual([]);
    });

    it("each target must be a TGI variant of mlserve:variants, with the list of what there is", () => {
        const variants = [{ name: "t1" }, { name: "v1", engine: "vllm" }, { name: "t2", engine: "tgi" }];
        expect(run({ variants, async: { variants: ["t1", "t2"] } })).toEqual([]);
        expect(run({ variants, async: { variants: ["t1", "nope", "v1"] } })).toEqual([
            { path: ["async", "variants", 1], input: "nope", message: 'no variant named "nope" in mlserve:variants (variants: t1, v1, t2)' },
            { path: ["async", "variants", 2], input: "v1", message: '"v1" runs vLLM; the async worker calls TGI\'s /generate, so it can target only TGI variants (t1, t2)' },
        ]);
        expect(run({ variants: [], async: { variants: ["x"] } })).toEqual([{ path: ["async", "variants", 0], input: "x", message: 'no variant named "x" in mlserve:variants (variants: none)' }]);
        expect(run({ variants: [{ name: "v", engine: "vllm" }], async: { variants: ["v"] } })).toEqual([
            { path: ["async", "variants", 0], input: "v", message: '"v" runs vLLM; the async worker calls TGI\'s /generate, so it can target only TGI variants (none)' },
        ]);
        expect(run({ variants: [{ name: "v", engine: "vllm" }], async: { enabled: false, variants: ["v", "x"] } })).toEqual([]);
    });

    it("a broken variant entry still lets the others be targeted", () => {
        expect(run({ variants: [{ name: 5 }, { name: "t" }], async: { variants: ["t"] } })).toEqual([]);
    });
});
