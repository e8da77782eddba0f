/**
 * The async path under faults, every part its own process on 127.0.0.1:
 * fauxqs (SQS), moto (S3, conditional writes), the fake TGI, the gateway and
 * three workers. 2,000 jobs (poison, hanging, flaky, SQS-unsafe characters,
 * 300 submitted three times at once) by clients that retry with the same
 * Idempotency-Key after errors and their own timeouts, while workers are
 * SIGKILLed (at random, and during a job's last delivery), the gateway is
 * restarted (SIGTERM, then SIGKILL) and the model server is killed and restarted.
 *
 * It must end with every accepted job done or failed (0 pending, 0 lost), no
 * job run to success by two different messages (duplicate submits never run
 * twice), and every DLQ message accounted for: its job failed with a reason.
 * Bounded: every loop has a count or a deadline.
 */
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCalls, type FakeCall } from "../../testing/local/fakeTgi";
import { createJobResources } from "../../testing/local/resources";
import { freePorts, spawnService, startFauxqsProcess, startMotoServer, waitForHttp, type LocalServer, type ServiceProcess } from "../../testing/local/servers";
import { awsClients } from "../../services/shared/aws";
import { isTerminal, JobStore, keys, type JobState, type ResultRecord } from "../../services/shared/jobs";
import { listKeys } from "./localAws";

const JOBS = 2000;
const MAX_RECEIVE = 4;
const RANDOM_KILLS = 18;
const LAST_DELIVERY_KILLS = 4;
const DLQ_RECHECK_SECONDS = 3;
const run = `f${Date.now().toString(36)}`;

let fauxqs: LocalServer;
let moto: LocalServer;
let sqs: SQSClient;
let s3: S3Client;
let store: JobStore;
let res: { bucket: string; queueUrl: string; dlqUrl: string };
let awsEnv: Record<string, string>;
let gatewayPort: number;
let modelPort: number;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlserve-faults-"));
const callLog = path.join(dir, "calls.jsonl");
const all = new Set<ChildProcess>();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function service(script: string, env: Record<string, string>): ServiceProcess {
    const child = spawnService(script, env);
    all.add(child);
    child.once("exit", () => all.delete(child));
    return child;
}

const exited = (c: ChildProcess) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once("exit", () => r())));

async function startGateway() {
    const g = service("services/gateway/main.ts", { ...awsEnv, VARIANTS: "fp16", PORT: String(gatewayPort), HOST: "127.0.0.1", REQUEST_TIMEOUT_MS: "5000", SHUTDOWN_TIMEOUT_MS: "3000", LOG_LEVEL: "warn" });
    await waitForHttp(`http://127.0.0.1:${gatewayPort}/healthz`, `gateway (${g.output()})`, g);
    return g;
}

async function startModel() {
    const m = service("testing/local/fakeTgiMain.ts", { PORT: String(modelPort), FAKE_TGI_LOG: callLog });
    await waitForHttp(`http://127.0.0.1:${modelPort}/`, "fake TGI", m);
    return m;
}

const workers = new Map<number, ServiceProcess>();
function startWorker() {
    const w = service("services/worker/main.ts", {
        ...awsEnv,
        MODEL_ENDPOINTS: JSON.stringify({ fp16: `http://127.0.0.1:${modelPort}` }),
        CONCURRENCY: "8",
        WAIT_TIME_SECONDS: "1",
        VISIBILITY_TIMEOUT_SECONDS: "3",
        MAX_RECEIVE_COUNT: String(MAX_RECEIVE),
        MODEL_TIMEOUT_MS: "1000",
        ATTEMPTS: "2",
        BACKOFF_MS: "50",
        SHUTDOWN_GRACE_MS: "5000",
        DLQ_RECHECK_SECONDS: String(DLQ_RECHECK_SECONDS),
        METRICS_PORT: "0",
        LOG_LEVEL: "warn",
    });
    workers.set(w.pid!, w);
    w.once("exit", () => workers.delete(w.pid!));
    return w;
}

async function kill(w: ChildProcess) {
    w.kill("SIGKILL");
    await exited(w);
    startWorker();
}

type Kind = "normal" | "poison" | "hang" | "flaky" | "unsafe" | "duplicate";
function kindOf(i: number): Kind {
    const r = i % 100;
    if (r < 2) return "poison";
    if (r === 2) return "hang";
    if (r < 6) return "flaky";
    if (r === 6) return "unsafe";
    if (r >= 10 && r < 25) return "duplicate";
    return "normal";
}
function inputsOf(i: number): string {
    const base = `fault ${run} ${i}`;
    switch (kindOf(i)) {
        case "poison":
            return `${base} [status=422]`;
        case "hang":
            return `${base} [hang]`;
        case "flaky":
            return `${base} [fail=1]`;
        case "unsafe":
            return `${base} \uffff\ufffe`;
        default:
            return `${base} [latency=${10 + ((i * 37) % 150)}]`;
    }
}

/** A client that retries (same key) after 5xx, connection errors and its own 3 s timeout; bounded. */
async function submit(body: unknown, key?: string): Promise<{ status: number; body: Record<string, unknown>; tries: number }> {
    for (let attempt = 1; attempt <= 60; attempt++) {
        try {
            const r = await fetch(`http://127.0.0.1:${gatewayPort}/v1/jobs`, {
                method: "POST",
                headers: { "content-type": "application/json", ...(key ? { "idempotency-key": key } : {}) },
                body: typeof body === "string" ? body : JSON.stringify(body),
                signal: AbortSignal.timeout(3000),
            });
            const parsed = (await r.json()) as Record<string, unknown>;
            if (r.status < 500) return { status: r.status, body: parsed, tries: attempt };
        } catch {
            // connection refused or reset (gateway restarting), or our own timeout: retry with the same key
        }
        await sleep(Math.min(1000, 100 * attempt));
    }
    throw new Error(`submit with key ${key} did not get an answer below 500 in 60 tries`);
}

async function drainDlq(): Promise<Array<{ body: string; reason?: string }>> {
    const got: Array<{ body: string; reason?: string }> = [];
    for (let empty = 0, rounds = 0; empty < 3 && rounds < 1000; rounds++) {
        const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: res.dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 600, MessageAttributeNames: ["All"] }));
        const ms = out.Messages ?? [];
        empty = ms.length === 0 ? empty + 1 : 0;
        got.push(...ms.map((m) => ({ body: m.Body ?? "", reason: m.MessageAttributes?.reason?.StringValue })));
    }
    return got;
}

async function queueDepth(url: string): Promise<number> {
    const a = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }))).Attributes ?? {};
    return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
}

beforeAll(async () => {
    [fauxqs, moto] = await Promise.all([startFauxqsProcess(), startMotoServer()]);
    ({ sqs, s3 } = awsClients({ region: "us-east-1", sqsEndpoint: fauxqs.endpoint, s3Endpoint: moto.endpoint }));
    res = await createJobResources(sqs, s3, { maxReceiveCount: MAX_RECEIVE, visibilityTimeoutSeconds: 3, suffix: run });
    store = new JobStore(s3, res.bucket);
    awsEnv = { AWS_REGION: "us-east-1", AWS_ENDPOINT_URL_SQS: fauxqs.endpoint, AWS_ENDPOINT_URL_S3: moto.endpoint, QUEUE_URL: res.queueUrl, DLQ_URL: res.dlqUrl, BUCKET: res.bucket };
    [gatewayPort, modelPort] = (await freePorts(2)) as [number, number];
}, 60_000);

afterAll(async () => {
    for (const c of all) c.kill("SIGKILL");
    await Promise.all([fauxqs?.stop(), moto?.stop()]);
    fs.rmSync(dir, { recursive: true, force: true });
});

describe("faults", () => {
    it(`${JOBS} jobs through worker SIGKILLs (some on the last delivery), a gateway and a model-server restart, duplicate submits, poison and hangs: 0 lost, 0 pending, 0 duplicate runs, every DLQ message accounted for`, async () => {
        const started = Date.now();
        let model = await startModel();
        let gateway = await startGateway();
        for (let i = 0; i < 3; i++) startWorker();

        // Chaos, bounded by counts: random worker kills, kills on the last delivery of hanging jobs.
        let randomKills = 0;
        const lastKills = new Set<string>();
        let chaos = true;
        const randomKiller = (async () => {
            while (chaos && randomKills < RANDOM_KILLS) {
                await sleep(700);
                const victims = [...workers.values()];
                if (victims.length === 0) continue;
                await kill(victims[randomKills % victims.length]!);
                randomKills++;
            }
        })();
        const lastDeliveryKiller = (async () => {
            let offset = 0;
            while (chaos && lastKills.size < LAST_DELIVERY_KILLS) {
                await sleep(100);
                const r = readCalls(callLog, offset);
                offset = r.next;
                for (const c of r.calls) {
                    if (!c.inputs.includes("[hang]") || !c.delivery?.endsWith(`/${MAX_RECEIVE}`) || lastKills.size >= LAST_DELIVERY_KILLS) continue;
                    const w = workers.get(Number(c.worker?.split(":").pop()));
                    if (!w) continue;
                    lastKills.add(c.job!);
                    await kill(w);
                }
            }
        })();

        // Clients: 16 at a time; the restarts happen at fixed points of the submission.
        const accepted = new Map<number, string>();
        const refused: number[] = [];
        let next = 0;
        let restarts = { gatewayTerm: 0, gatewayKill: 0, model: 0 };
        const restartAt = async (n: number) => {
            if (n === 600) {
                gateway.kill("SIGTERM");
                await exited(gateway);
                gateway = await startGateway();
                restarts = { ...restarts, gatewayTerm: 1 };
            } else if (n === 1000) {
                model.kill("SIGKILL");
                await exited(model);
                await sleep(1000);
                model = await startModel();
                restarts = { ...restarts, model: 1 };
            } else if (n === 1400) {
                gateway.kill("SIGKILL");
                await exited(gateway);
                gateway = await startGateway();
                restarts = { ...restarts, gatewayKill: 1 };
            }
        };
        await Promise.all(
            Array.from({ length: 16 }, async () => {
                while (next < JOBS) {
                    const i = next++;
                    if ([600, 1000, 1400].includes(i)) void restartAt(i);
                    const body = { variant: "fp16", request: { inputs: inputsOf(i), parameters: { max_new_tokens: 16 } } };
                    const key = `${run}-${i}`;
                    // Duplicate submits: three at once with the same key, then one more after they answered.
                    const answers = kindOf(i) === "duplicate" ? [...(await Promise.all([submit(body, key), submit(body, key), submit(body, key)])), await submit(body, key)] : [await submit(body, key)];
                    for (const a of answers) {
                        if (a.status === 202 || a.status === 200) accepted.set(i, String(a.body.jobId));
                        else refused.push(i);
                    }
                }
            }),
        );
        // Poison the gateway must refuse (never jobs, never 503), and malformed messages straight into the queue.
        const deep = `{"variant":"fp16","request":{"inputs":"x","parameters":{"grammar":{"type":"json","value":${"[".repeat(3000)}${"]".repeat(3000)}}}}}`;
        const badAnswers = await Promise.all([...Array(10).keys()].flatMap((i) => [submit(deep, `${run}-deep-${i}`), submit({ variant: "fp16", request: { inputs: "x", parameters: { max_new_tokens: -1 } } }, `${run}-neg-${i}`)]));
        for (let i = 0; i < 3; i++) await sqs.send(new SendMessageCommand({ QueueUrl: res.queueUrl, MessageBody: `not a job ${i}` }));
        const submitSeconds = (Date.now() - started) / 1000;

        // Every accepted job must reach done or failed: poll the store, bounded.
        const terminal = new Map<string, ResultRecord>();
        const ids = new Set(accepted.values());
        const deadline = Date.now() + 240_000;
        while (terminal.size < ids.size && Date.now() < deadline) {
            const present = (await listKeys(s3, res.bucket, "results/")).map((k) => k.slice("results/".length, -".json".length)).filter((id) => ids.has(id) && !terminal.has(id));
            for (let k = 0; k < present.length; k += 50) {
                const states = await Promise.all(present.slice(k, k + 50).map((id) => store.getJson<JobState>(keys.result(id))));
                states.forEach((s) => isTerminal(s) && terminal.set(s.jobId, s));
            }
            if (terminal.size < ids.size) await sleep(2000);
        }
        chaos = false;
        await Promise.all([randomKiller, lastDeliveryKiller]);
        // Leftover messages (duplicates, deliveries that waited) are acknowledged once their job is settled.
        const queueDeadline = Date.now() + 60_000;
        while ((await queueDepth(res.queueUrl)) > 3 && Date.now() < queueDeadline) await sleep(1000);
        const processSeconds = (Date.now() - started) / 1000;

        const pending = [...ids].filter((id) => !terminal.has(id));
        // Lost: accepted, yet neither an outcome nor even a job record (the status would say "no job").
        const lost = (await Promise.all(pending.map(async (id) => ((await store.exists(keys.job(id))) ? undefined : id)))).filter(Boolean);
        const stalled = pending.slice(0, 5).map((id) => `${id}: ${JSON.stringify(terminal.get(id))}`);
        expect(pending, `jobs still pending: ${stalled.join("; ")}`).toEqual([]);
        expect(lost).toEqual([]);
        expect(accepted.size).toBe(JOBS);
        expect(refused).toEqual([]);
        expect(badAnswers.map((a) => a.status)).toEqual(Array(20).fill(400));

        // Outcomes by kind.
        const byKind = new Map<Kind, ResultRecord[]>();
        for (const [i, id] of accepted) byKind.set(kindOf(i), [...(byKind.get(kindOf(i)) ?? []), terminal.get(id)!]);
        for (const r of byKind.get("poison")!) expect(r).toMatchObject({ status: "failed", error: expect.stringMatching(/model rejected the request: HTTP 422/) });
        for (const r of byKind.get("hang")!) expect(r).toMatchObject({ status: "failed", error: expect.stringMatching(new RegExp(`^gave up after ${MAX_RECEIVE} deliveries: `)) });
        const shouldRun = (["normal", "flaky", "unsafe", "duplicate"] as const).flatMap((k) => byKind.get(k)!);
        // A job every one of whose deliveries was killed gives up, with that reason; anything else must be done.
        const gaveUp = shouldRun.filter((r) => r.status === "failed");
        for (const r of gaveUp) expect(r.error).toMatch(new RegExp(`^gave up after ${MAX_RECEIVE} deliveries: `));
        for (const [i, id] of accepted) {
            const r = terminal.get(id)!;
            if (r.status === "done") expect((r.result as { generated_text: string }).generated_text, `job ${i}`).toBe(`echo: ${inputsOf(i)}`);
        }
        // The jobs killed on their last delivery ended failed through the DLQ, with an earlier delivery's reason
        // (a timeout, or the model server being down while it restarted).
        expect(lastKills.size).toBe(LAST_DELIVERY_KILLS);
        for (const id of lastKills) expect(terminal.get(id)).toMatchObject({ status: "failed", error: expect.stringMatching(/^gave up after 4 deliveries: model call failed 2 times: (timed out after 1000 ms|fetch failed)/) });

        // Never run to success by two different messages; re-runs only after a kill (same message, a later delivery).
        const ok = readCalls(callLog).calls.filter((c: FakeCall) => c.status === 200 && c.job && ids.has(c.job));
        const messagesPerJob = new Map<string, Set<string>>();
        for (const c of ok) messagesPerJob.set(c.job!, (messagesPerJob.get(c.job!) ?? new Set()).add(c.delivery!.split("/")[0]!));
        const runByTwoMessages = [...messagesPerJob].filter(([, m]) => m.size > 1).map(([id]) => id);
        expect(runByTwoMessages).toEqual([]);
        const duplicateJobs = new Set((byKind.get("duplicate") ?? []).map((r) => r.jobId));
        expect(duplicateJobs.size).toBe(300);
        const rerunsAfterKills = ok.length - messagesPerJob.size;

        // Stop the workers (drain), then read the whole DLQ: every message's job failed; only the 3 malformed ones have no job.
        for (const w of workers.values()) w.kill("SIGTERM");
        await Promise.all([...workers.values()].map(exited));
        await sleep((DLQ_RECHECK_SECONDS + 1) * 1000);
        const dlq = await drainDlq();
        const dlqJobs = new Set<string>();
        const unattributable: string[] = [];
        for (const m of dlq) {
            const jobId = /"jobId":"(j-[0-9a-f]{32})"/.exec(m.body)?.[1];
            if (!jobId) {
                unattributable.push(m.body);
                continue;
            }
            dlqJobs.add(jobId);
            expect(terminal.get(jobId), `DLQ message of job ${jobId}`).toMatchObject({ status: "failed", error: expect.any(String) });
        }
        expect(unattributable.sort()).toEqual(["not a job 0", "not a job 1", "not a job 2"]);
        const failedJobs = [...terminal.values()].filter((r) => r.status === "failed").map((r) => r.jobId);
        expect(failedJobs.filter((id) => !dlqJobs.has(id)), "failed jobs with no DLQ message").toEqual([]);
        expect(await queueDepth(res.queueUrl)).toBe(0);

        const summary = {
            jobs: ids.size,
            done: [...terminal.values()].filter((r) => r.status === "done").length,
            failed: failedJobs.length,
            poison: byKind.get("poison")!.length,
            hang: byKind.get("hang")!.length,
            gaveUpAfterKills: gaveUp.length,
            pending: pending.length,
            lost: lost.length,
            duplicateSubmitJobs: duplicateJobs.size,
            runByTwoMessages: runByTwoMessages.length,
            rerunsAfterKills,
            dlqMessages: dlq.length,
            dlqJobs: dlqJobs.size,
            dlqUnattributable: unattributable.length,
            refusedAtSubmit: badAnswers.length,
            workerKills: randomKills + lastKills.size,
            lastDeliveryKills: lastKills.size,
            restarts,
            submitSeconds,
            totalSeconds: processSeconds,
        };
        console.log(`fault test: ${JSON.stringify(summary)}`);
        expect(randomKills + lastKills.size).toBeGreaterThanOrEqual(21);
        expect(restarts).toEqual({ gatewayTerm: 1, gatewayKill: 1, model: 1 });
    }, 600_000);
});
