/**
 * Local stand-ins for the async path's tests and benchmark (dev only; never bundled).
 */
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

/** One model call as the fake saw it (FakeTgi's `log` file holds one JSON line per call). */
export interface FakeCall {
    inputs: string;
    /** Calls with these inputs so far, this one included (per process). */
    n: number;
    /** HTTP status answered; 0 for a call left hanging. */
    status: number;
    job?: string;
    /** The worker's "<messageId>/<receiveCount>". */
    delivery?: string;
    worker?: string;
}

/**
 * A fake TGI `/generate`. Directives in `inputs` control it:
 *   [latency=MS]   answer after MS milliseconds
 *   [fail=N]       answer 503 to the first N calls with these inputs
 *   [status=CODE]  always answer CODE (e.g. 422: a poison request)
 *   [hang]         never answer (the worker's timeout fires)
 */
export class FakeTgi {
    readonly calls = new Map<string, number>();
    private server?: http.Server;
    private readonly hanging = new Set<http.ServerResponse>();
    url = "";

    constructor(private readonly o: { port?: number; log?: string } = {}) {}

    get totalCalls(): number {
        return [...this.calls.values()].reduce((a, b) => a + b, 0);
    }

    async start(): Promise<this> {
        this.server = http.createServer((req, res) => {
            if (req.method !== "POST" || req.url !== "/generate") return void res.writeHead(404).end();
            let body = "";
            req.on("data", (c) => (body += c));
            req.on("end", () => {
                let inputs = "";
                try {
                    inputs = String((JSON.parse(body) as { inputs?: unknown }).inputs ?? "");
                } catch {
                    return void res.writeHead(422, { "content-type": "application/json" }).end('{"error":"bad json"}');
                }
                const n = (this.calls.get(inputs) ?? 0) + 1;
                this.calls.set(inputs, n);
                const record = (status: number) => {
                    if (!this.o.log) return;
                    const h = (name: string) => (req.headers[name] as string | undefined) ?? undefined;
                    const call: FakeCall = { inputs, n, status, job: h("x-mlserve-job"), delivery: h("x-mlserve-delivery"), worker: h("x-mlserve-worker") };
                    fs.appendFileSync(this.o.log, `${JSON.stringify(call)}\n`);
                };
                const num = (name: string) => Number(new RegExp(`\\[${name}=(\\d+)\\]`).exec(inputs)?.[1] ?? NaN);
                if (inputs.includes("[hang]")) {
                    record(0);
                    return void this.hanging.add(res);
                }
                const answer = (status: number, text: string) => {
                    if (res.destroyed) return;
                    record(status);
                    res.writeHead(status, { "content-type": "application/json" }).end(text);
                };
                const reply = () => {
                    if (!Number.isNaN(num("status"))) return answer(num("status"), '{"error":"Input validation error"}');
                    if (!Number.isNaN(num("fail")) && n <= num("fail")) return answer(503, '{"error":"overloaded"}');
                    answer(200, JSON.stringify({ generated_text: `echo: ${inputs}` }));
                };
                const latency = num("latency");
                if (Number.isNaN(latency)) reply();
                else setTimeout(reply, latency);
            });
        });
        await new Promise<void>((resolve) => this.server!.listen(this.o.port ?? 0, "127.0.0.1", resolve));
        this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
        return this;
    }

    async stop(): Promise<void> {
        for (const res of this.hanging) res.destroy();
        await new Promise<void>((resolve) => this.server?.close(() => resolve()));
    }
}

/** The calls in a FakeTgi log file, from byte `offset` on (for tailing), and where the next read starts. */
export function readCalls(file: string, offset = 0): { calls: FakeCall[]; next: number } {
    if (!fs.existsSync(file)) return { calls: [], next: offset };
    const text = fs.readFileSync(file).subarray(offset).toString("utf8");
    const end = text.lastIndexOf("\n") + 1;
    const calls = text.slice(0, end).split("\n").filter(Boolean).map((l) => JSON.parse(l) as FakeCall);
    return { calls, next: offset + Buffer.byteLength(text.slice(0, end)) };
}
