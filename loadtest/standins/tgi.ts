/**
 * A stand-in TGI server for the load-test tests: `/generate` (with TGI's timing
 * headers), `/generate_stream` (SSE), vLLM-style `/v1/completions` streaming,
 * `/health`, `/info`. It sleeps known phases (validation, queue, prefill, one
 * step per further token) so a test can check the report recovers them.
 * Answers come from a prompt→answer table so the quality columns are testable.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface TgiDelays {
    validationMs: number;
    queueMs: number;
    /** Prefill: from the end of queueing to the first token. */
    prefillMs: number;
    /** Each token after the first. */
    perTokenMs: number;
}

export interface FakeTgiOptions {
    delays: TgiDelays;
    /** Question text → generated text; the question is read from the prompt's "Question: ...". */
    answers?: Map<string, string>;
    port?: number;
}

/** Sleeps until performance.now() >= t (a timer may fire a fraction of a millisecond early: loop). */
async function sleepUntil(t: number): Promise<void> {
    for (let left = t - performance.now(); left > 0; left = t - performance.now()) await new Promise((r) => setTimeout(r, Math.ceil(left)));
}

/** The question a prompt asks: the text after the last "Question:" up to the end marker. */
export function questionOf(prompt: string): string {
    const i = prompt.lastIndexOf("Question:");
    if (i < 0) return "";
    return prompt.slice(i + "Question:".length).split("<|end|>")[0]!.trim();
}

/** Tokens as whitespace-led words: joining them gives the text back exactly. */
export function tokenize(text: string): string[] {
    return text.match(/\s*\S+/g) ?? [];
}

export class FakeTgiServer {
    private server?: http.Server;
    url = "";
    requests = 0;

    constructor(private readonly o: FakeTgiOptions) {}

    private answerFor(prompt: string, maxNew: number): string[] {
        const tokens = tokenize(this.o.answers?.get(questionOf(prompt)) ?? "SELECT 1;");
        return tokens.slice(0, Math.max(1, maxNew));
    }

    /** Sleeps the phases; calls `onToken` at each token's scheduled time (absolute, so delays do not drift). */
    private async generate(tokens: string[], onToken?: (i: number) => void) {
        const d = this.o.delays;
        const t0 = performance.now();
        await sleepUntil(t0 + d.validationMs);
        const t1 = performance.now();
        await sleepUntil(t1 + d.queueMs);
        const t2 = performance.now();
        for (let i = 0; i < tokens.length; i++) {
            await sleepUntil(t2 + d.prefillMs + i * d.perTokenMs);
            onToken?.(i);
        }
        const t3 = performance.now();
        return { validation: t1 - t0, queue: t2 - t1, inference: t3 - t2, total: t3 - t0 };
    }

    async start(): Promise<this> {
        this.server = http.createServer((req, res) => {
            const chunks: Buffer[] = [];
            req.on("data", (c: Buffer) => chunks.push(c));
            req.on("end", () => void this.handle(req, res, Buffer.concat(chunks).toString("utf8")).catch(() => res.destroy()));
        });
        // Keep-alive sockets from many load-tool connections must not hold the server open after stop().
        this.server.keepAliveTimeout = 5000;
        await new Promise<void>((resolve) => this.server!.listen(this.o.port ?? 0, "127.0.0.1", resolve));
        this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
        return this;
    }

    private async handle(req: http.IncomingMessage, res: http.ServerResponse, body: string) {
        const url = req.url ?? "";
        if (req.method === "GET" && url === "/health") return void res.writeHead(200).end();
        if (req.method === "GET" && url === "/info") {
            return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ model_id: "stand-in", version: "stand-in" }));
        }
        if (req.method !== "POST") return void res.writeHead(404).end();
        let json: { inputs?: string; prompt?: string; parameters?: { max_new_tokens?: number }; max_tokens?: number; stream?: boolean };
        try {
            json = JSON.parse(body) as typeof json;
        } catch {
            return void res.writeHead(422, { "content-type": "application/json" }).end('{"error":"bad json"}');
        }
        this.requests++;
        if (url === "/generate") {
            const tokens = this.answerFor(json.inputs ?? "", json.parameters?.max_new_tokens ?? 100);
            const t = await this.generate(tokens);
            const ms = (x: number) => String(Math.round(x));
            res.writeHead(200, {
                "content-type": "application/json",
                "x-validation-time": ms(t.validation),
                "x-queue-time": ms(t.queue),
                "x-inference-time": ms(t.inference),
                // As TGI: inference time over generated tokens, prefill included (not TPOT).
                "x-time-per-token": ms(t.inference / tokens.length),
                "x-total-time": ms(t.total),
                "x-prompt-tokens": String(tokenize(json.inputs ?? "").length),
                "x-generated-tokens": String(tokens.length),
                "x-compute-time": String(t.inference / 1000),
            });
            return void res.end(JSON.stringify({ generated_text: tokens.join("") }));
        }
        if (url === "/generate_stream") {
            const tokens = this.answerFor(json.inputs ?? "", json.parameters?.max_new_tokens ?? 100);
            res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
            await this.generate(tokens, (i) => {
                const last = i === tokens.length - 1;
                const event = {
                    index: i,
                    token: { id: i, text: tokens[i], logprob: 0, special: false },
                    generated_text: last ? tokens.join("") : null,
                    details: last ? { finish_reason: "eos_token", generated_tokens: tokens.length, seed: null } : null,
                };
                res.write(`data:${JSON.stringify(event)}\n\n`);
            });
            return void res.end();
        }
        if (url === "/v1/completions" && json.stream) {
            const tokens = this.answerFor(json.prompt ?? "", json.max_tokens ?? 100);
            res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
            await this.generate(tokens, (i) => res.write(`data: ${JSON.stringify({ object: "text_completion", choices: [{ index: 0, text: tokens[i], finish_reason: null }] })}\n\n`));
            const usage = { prompt_tokens: tokenize(json.prompt ?? "").length, completion_tokens: tokens.length, total_tokens: 0 };
            res.write(`data: ${JSON.stringify({ object: "text_completion", choices: [], usage })}\n\n`);
            return void res.end("data: [DONE]\n\n");
        }
        if (url === "/v1/completions") {
            const tokens = this.answerFor(json.prompt ?? "", json.max_tokens ?? 100);
            await this.generate(tokens);
            return void res
                .writeHead(200, { "content-type": "application/json" })
                .end(JSON.stringify({ object: "text_completion", choices: [{ index: 0, text: tokens.join(""), finish_reason: "stop" }], usage: { completion_tokens: tokens.length } }));
        }
        res.writeHead(404).end();
    }

    async stop(): Promise<void> {
        this.server?.closeAllConnections();
        await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
    }
}
