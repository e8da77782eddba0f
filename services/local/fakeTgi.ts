/**
 * Local stand-ins for the async path's tests and benchmark (dev only; never bundled).
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

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
                const num = (name: string) => Number(new RegExp(`\\[${name}=(\\d+)\\]`).exec(inputs)?.[1] ?? NaN);
                if (inputs.includes("[hang]")) return void this.hanging.add(res);
                const reply = () => {
                    if (!Number.isNaN(num("status"))) return res.writeHead(num("status"), { "content-type": "application/json" }).end('{"error":"Input validation error"}');
                    if (!Number.isNaN(num("fail")) && n <= num("fail")) return res.writeHead(503, { "content-type": "application/json" }).end('{"error":"overloaded"}');
                    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ generated_text: `echo: ${inputs}` }));
                };
                const latency = num("latency");
                if (Number.isNaN(latency)) reply();
                else setTimeout(reply, latency);
            });
        });
        await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
        this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
        return this;
    }

    async stop(): Promise<void> {
        for (const res of this.hanging) res.destroy();
        await new Promise<void>((resolve) => this.server?.close(() => resolve()));
    }
}

