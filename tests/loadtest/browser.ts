/**
 * Opens a page in Debian's headless Chromium and reports console errors, uncaught
 * exceptions and what each chart drew, over the DevTools protocol on a pipe
 * (`--remote-debugging-pipe`: fds 3 and 4, NUL-delimited JSON), so no extra
 * package and no network port are needed. Bounded by a timeout.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Readable, Writable } from "node:stream";

export function findChromium(): string {
    for (const c of [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"]) if (c && fs.existsSync(c)) return c;
    throw new Error("chromium not found: run `npm run tools:install` (apt-get install chromium) or set CHROMIUM");
}

export interface ChartCheck {
    id: string;
    /** Marks drawn (paths and shapes inside the chart's mark groups). */
    marks: number;
    width: number;
    height: number;
}

export interface PageCheck {
    consoleErrors: string[];
    charts: ChartCheck[];
    title: string;
}

/** The few fields of DevTools protocol messages read here. */
interface CdpMessage {
    id?: number;
    method?: string;
    result?: unknown;
    error?: { message: string };
    params?: {
        type?: string;
        args?: Array<{ value?: unknown; description?: string }>;
        exceptionDetails?: { text?: string; exception?: { description?: string } };
        entry?: { level?: string; text?: string; url?: string };
    };
}

export async function checkPage(file: string, timeoutMs = 30_000): Promise<PageCheck> {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), "mlserve-chromium-"));
    const child = spawn(
        findChromium(),
        ["--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", `--user-data-dir=${profile}`, "--no-first-run", "--disable-extensions", "about:blank"],
        { stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"] },
    );
    const toBrowser = child.stdio[3] as Writable;
    const fromBrowser = child.stdio[4] as Readable;
    let nextId = 1;
    const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
    const consoleErrors: string[] = [];
    let loaded: (() => void) | undefined;
    let buf = "";
    fromBrowser.on("data", (chunk: Buffer) => {
        buf += chunk.toString("utf8");
        let i: number;
        while ((i = buf.indexOf("\0")) >= 0) {
            const msg = JSON.parse(buf.slice(0, i)) as CdpMessage;
            buf = buf.slice(i + 1);
            if (msg.id !== undefined) {
                const p = pending.get(msg.id);
                pending.delete(msg.id);
                if (msg.error) p?.reject(new Error(msg.error.message));
                else p?.resolve(msg.result);
            } else if (msg.method === "Runtime.consoleAPICalled" && (msg.params?.type === "error" || msg.params?.type === "assert")) {
                consoleErrors.push(`console.${msg.params.type}: ${JSON.stringify(msg.params.args?.map((a) => a.value ?? a.description))}`);
            } else if (msg.method === "Runtime.exceptionThrown") {
                consoleErrors.push(`exception: ${msg.params?.exceptionDetails?.exception?.description ?? msg.params?.exceptionDetails?.text}`);
            } else if (msg.method === "Log.entryAdded" && msg.params?.entry?.level === "error") {
                consoleErrors.push(`log: ${msg.params.entry.text ?? ""} ${msg.params.entry.url ?? ""}`);
            } else if (msg.method === "Page.loadEventFired") {
                loaded?.();
            }
        }
    });
    const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string) =>
        new Promise<Record<string, unknown>>((resolve, reject) => {
            const id = nextId++;
            pending.set(id, { resolve: (v) => resolve(v as Record<string, unknown>), reject });
            toBrowser.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + "\0");
        });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    try {
        const { targetId } = (await send("Target.createTarget", { url: "about:blank" })) as { targetId: string };
        const { sessionId } = (await send("Target.attachToTarget", { targetId, flatten: true })) as { sessionId: string };
        // Every message of the page's session is handled by the same listener (flattened sessions).
        await send("Runtime.enable", {}, sessionId);
        await send("Log.enable", {}, sessionId);
        await send("Page.enable", {}, sessionId);
        const load = new Promise<void>((r) => (loaded = r));
        await send("Page.navigate", { url: `file://${path.resolve(file)}` }, sessionId);
        await load;
        const { result } = (await send(
            "Runtime.evaluate",
            {
                returnByValue: true,
                expression: `({
                    title: document.title,
                    charts: [...document.querySelectorAll("figure.chart")].map((f) => {
                        const svg = f.querySelector("svg");
                        const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
                        const marks = svg ? svg.querySelectorAll("g.role-mark > path, g.role-mark > rect, g.role-mark > line").length : 0;
                        return { id: f.dataset.chart, marks, width: box.width, height: box.height };
                    }),
                })`,
            },
            sessionId,
        )) as { result: { value: { title: string; charts: ChartCheck[] } } };
        const v = result.value;
        await send("Browser.close").catch(() => undefined);
        return { consoleErrors, charts: v.charts, title: v.title };
    } finally {
        clearTimeout(timer);
        if (child.exitCode === null) child.kill("SIGKILL");
        await exited;
        // Chromium may still be flushing its profile as it dies: retry, and never fail the check for it.
        try {
            fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
        } catch {
            // left in the temp directory
        }
    }
}
