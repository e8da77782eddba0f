/**
 * A stand-in KServe model server: REST v1 (`:predict`), Open Inference Protocol
 * v2 over REST and gRPC (`inference.GRPCInferenceService`), and `/metrics` with
 * the KServe Python model server's step histograms (`request_preprocess_seconds`,
 * `request_predict_seconds`, `request_postprocess_seconds`, label `model_name`).
 * Each request sleeps known preprocess / predict / postprocess times.
 * Also a stand-in Prometheus query API (fixed GPU figures) for the report's
 * "when reachable" path.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { Histogram, Registry } from "prom-client";

export const OIP_PROTO = path.join(__dirname, "..", "protos", "grpc_predict_v2.proto");

export interface StepDelays {
    preprocessMs: number;
    predictMs: number;
    postprocessMs: number;
}

/** Sleeps at least `ms` (a timer may fire a fraction of a millisecond early: loop). */
async function sleep(ms: number): Promise<void> {
    const end = performance.now() + ms;
    for (let left = ms; left > 0; left = end - performance.now()) await new Promise((r) => setTimeout(r, Math.ceil(left)));
}

export class FakeKServe {
    readonly registry = new Registry();
    private readonly hist: Record<"preprocess" | "predict" | "postprocess", Histogram>;
    private http?: http.Server;
    private grpcServer?: grpc.Server;
    url = "";
    grpcTarget = "";
    requests = 0;

    constructor(private readonly o: { model: string; delays: StepDelays }) {
        const h = (step: string) =>
            new Histogram({ name: `request_${step}_seconds`, help: `${step} latency`, labelNames: ["model_name"], registers: [this.registry] });
        this.hist = { preprocess: h("preprocess"), predict: h("predict"), postprocess: h("postprocess") };
    }

    /** Runs the three steps, timing each as the model server does. */
    private async infer(model: string, n: number): Promise<Array<{ label: string; score: number }>> {
        this.requests++;
        const d = this.o.delays;
        for (const [step, ms] of [["preprocess", d.preprocessMs], ["predict", d.predictMs], ["postprocess", d.postprocessMs]] as const) {
            const end = this.hist[step].startTimer({ model_name: model });
            await sleep(ms);
            end();
        }
        return Array.from({ length: n }, (_, i) => ({ label: i % 2 ? "NEGATIVE" : "POSITIVE", score: 0.9 }));
    }

    async start(): Promise<this> {
        const model = this.o.model;
        this.http = http.createServer((req, res) => {
            const chunks: Buffer[] = [];
            req.on("data", (c: Buffer) => chunks.push(c));
            req.on("end", () => {
                const url = req.url ?? "";
                const json = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
                if (req.method === "GET" && url === "/metrics") {
                    void this.registry.metrics().then((text) => res.writeHead(200, { "content-type": this.registry.contentType }).end(text));
                    return;
                }
                if (req.method === "GET" && (url === "/v2/health/ready" || url === "/v2/health/live" || url === `/v2/models/${model}/ready`)) return json(200, { ready: true });
                if (req.method === "GET" && url === `/v2/models/${model}`) return json(200, { name: model, platform: "stand-in", inputs: [], outputs: [] });
                let body: { instances?: unknown[]; inputs?: Array<{ data?: unknown[]; shape?: number[] }>; id?: string };
                try {
                    body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as typeof body;
                } catch {
                    return json(400, { error: "bad json" });
                }
                if (req.method === "POST" && url === `/v1/models/${model}:predict`) {
                    void this.infer(model, body.instances?.length ?? 1).then((p) => json(200, { predictions: p.map((x) => x.label) }));
                    return;
                }
                if (req.method === "POST" && url === `/v2/models/${model}/infer`) {
                    const n = body.inputs?.[0]?.data?.length ?? 1;
                    void this.infer(model, n).then((p) =>
                        json(200, { model_name: model, id: body.id ?? "", outputs: [{ name: "output-0", datatype: "BYTES", shape: [n], data: p.map((x) => x.label) }] }),
                    );
                    return;
                }
                json(404, { error: `no route ${req.method} ${url}` });
            });
        });
        this.http.keepAliveTimeout = 5000;
        await new Promise<void>((r) => this.http!.listen(0, "127.0.0.1", r));
        this.url = `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;

        const def = protoLoader.loadSync(OIP_PROTO, { keepCase: true, longs: Number, defaults: true });
        const pkg = grpc.loadPackageDefinition(def) as unknown as { inference: { GRPCInferenceService: { service: grpc.ServiceDefinition } } };
        this.grpcServer = new grpc.Server();
        type Call = grpc.ServerUnaryCall<Record<string, unknown>, unknown>;
        type Cb = grpc.sendUnaryData<unknown>;
        this.grpcServer.addService(pkg.inference.GRPCInferenceService.service, {
            ServerLive: (_c: Call, cb: Cb) => cb(null, { live: true }),
            ServerReady: (_c: Call, cb: Cb) => cb(null, { ready: true }),
            ModelReady: (_c: Call, cb: Cb) => cb(null, { ready: true }),
            ModelInfer: (call: Call, cb: Cb) => {
                const req = call.request as { model_name: string; id: string; inputs: Array<{ shape: number[] }> };
                if (req.model_name !== model) return cb({ code: grpc.status.NOT_FOUND, details: `model ${req.model_name} not found` });
                const n = Number(req.inputs[0]?.shape?.[0] ?? 1);
                void this.infer(model, n).then((p) =>
                    cb(null, {
                        model_name: model,
                        id: req.id,
                        outputs: [{ name: "output-0", datatype: "BYTES", shape: [n], contents: { bytes_contents: p.map((x) => Buffer.from(x.label)) } }],
                    }),
                );
            },
        });
        const port = await new Promise<number>((resolve, reject) =>
            this.grpcServer!.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
        );
        this.grpcTarget = `127.0.0.1:${port}`;
        return this;
    }

    async stop(): Promise<void> {
        this.grpcServer?.forceShutdown();
        this.http?.closeAllConnections();
        await new Promise<void>((r) => this.http?.close(() => r()) ?? r());
    }
}

/** A Prometheus HTTP API stand-in: `/api/v1/query` answers every query with one sample of `value(query)`. */
export async function startFakePrometheus(value: (query: string) => number): Promise<{ url: string; queries: string[]; stop(): Promise<void> }> {
    const queries: string[] = [];
    const server = http.createServer((req, res) => {
        const u = new URL(req.url ?? "/", "http://x");
        if (u.pathname !== "/api/v1/query") return void res.writeHead(404).end();
        const q = u.searchParams.get("query") ?? "";
        queries.push(q);
        const result = [{ metric: {}, value: [Number(u.searchParams.get("time") ?? Date.now() / 1000), String(value(q))] }];
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "success", data: { resultType: "vector", result } }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        queries,
        stop: () => new Promise<void>((r) => server.close(() => r())),
    };
}
