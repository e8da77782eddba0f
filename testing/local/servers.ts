/**
 * Local SQS/S3 servers as real child processes on 127.0.0.1 (tests, benchmark):
 * fauxqs (SQS + S3, fast; ignores S3 conditional writes) and moto's server (S3
 * answering If-None-Match / If-Match with 412 as S3 does, served one request at a
 * time by testing/local/moto_s3.py so those writes stay atomic). Dev only.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");

export interface LocalServer {
    endpoint: string;
    child: ChildProcess;
    stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
    return (await freePorts(1))[0]!;
}

/** `n` distinct free ports (all held open until each is known, so none is handed out twice). */
export async function freePorts(n: number): Promise<number[]> {
    const servers = Array.from({ length: n }, () => net.createServer().listen(0, "127.0.0.1"));
    await Promise.all(servers.map((srv) => once(srv, "listening")));
    const ports = servers.map((srv) => (srv.address() as net.AddressInfo).port);
    await Promise.all(servers.map((srv) => new Promise((r) => srv.close(r))));
    return ports;
}

/** Poll `url` until it answers (any HTTP status), bounded. */
export async function waitForHttp(url: string, what: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} before answering`);
        try {
            await fetch(url, { signal: AbortSignal.timeout(1000) });
            return;
        } catch {
            await new Promise((r) => setTimeout(r, 100));
        }
    }
    throw new Error(`${what} did not answer at ${url} within ${timeoutMs} ms`);
}

const stopper = (child: ChildProcess) => async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(t);
};

export async function startFauxqsProcess(): Promise<LocalServer> {
    const port = await freePort();
    const cli = path.join(ROOT, "node_modules", "fauxqs", "dist", "cli.js");
    const child = spawn(process.execPath, [cli], { env: { ...process.env, FAUXQS_PORT: String(port), FAUXQS_HOST: "127.0.0.1", FAUXQS_LOGGER: "false" }, stdio: "ignore" });
    const endpoint = `http://127.0.0.1:${port}`;
    await waitForHttp(`${endpoint}/health`, "fauxqs", child);
    return { endpoint, child, stop: stopper(child) };
}

/** moto_server from the project venv (.venv, made by `npm run tools:install`) or PATH; a clear error naming the fix when absent. */
export function findMotoServer(): string {
    const venv = path.join(ROOT, ".venv", "bin", "moto_server");
    if (fs.existsSync(venv)) return venv;
    for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
        const candidate = path.join(dir, "moto_server");
        if (dir && fs.existsSync(candidate)) return candidate;
    }
    throw new Error("moto_server not found (looked in .venv/bin and PATH): run `npm run tools:install` (installs moto[server] from .ci/requirements.txt into .venv)");
}

/**
 * The Python that has moto: the venv's python3 beside moto_server, else the interpreter on
 * moto_server's `#!` line (not a shell or env wrapper, which pip writes for long or spaced paths).
 */
export function motoPython(motoServer = findMotoServer()): string {
    const beside = path.join(path.dirname(motoServer), "python3");
    if (fs.existsSync(beside)) return beside;
    const first = fs.readFileSync(motoServer, "utf8").split("\n", 1)[0]!;
    const python = first.startsWith("#!") ? first.slice(2).trim() : "";
    const fix = "reinstall moto into the project venv with `npm run tools:install`";
    if (!python || /\s/.test(python) || !/python[\d.]*$/.test(path.basename(python))) {
        throw new Error(`${motoServer}: no python3 beside it and its first line ${JSON.stringify(first)} names no Python interpreter; ${fix}`);
    }
    if (!fs.existsSync(python)) throw new Error(`${motoServer}: its interpreter ${python} does not exist; ${fix}`);
    return python;
}

export interface MotoOptions {
    /** Python's thread switch interval in the server (tests: tiny, to widen any race). Default Python's (5 ms). */
    switchIntervalSeconds?: number;
}

/**
 * moto's S3 on 127.0.0.1 through testing/local/moto_s3.py, not moto_server: moto checks a
 * conditional write and then writes with nothing held between on a threaded server, so two
 * concurrent If-None-Match PUTs could both succeed (tests/async/localS3.test.ts); S3's are atomic.
 */
export async function startMotoServer(o: MotoOptions = {}): Promise<LocalServer> {
    const python = motoPython();
    const port = await freePort();
    const args = [path.join(ROOT, "testing", "local", "moto_s3.py"), "--host", "127.0.0.1", "--port", String(port)];
    if (o.switchIntervalSeconds !== undefined) args.push("--switch-interval", String(o.switchIntervalSeconds));
    // stderr drained (werkzeug logs every request there), its tail kept for a failed start.
    const child = spawn(python, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + String(d)).slice(-2000)));
    // A spawn failure (ENOENT, EACCES) is an 'error' event: keep it for the message below.
    child.on("error", (e) => (stderr += `\n${e.message}`));
    const endpoint = `http://127.0.0.1:${port}`;
    try {
        await waitForHttp(`${endpoint}/moto-api/`, "moto's S3 server (testing/local/moto_s3.py)", child);
    } catch (e) {
        child.kill("SIGKILL");
        throw new Error(`${(e as Error).message}; its stderr ends: ${stderr.trim() || "(nothing)"}`);
    }
    return { endpoint, child, stop: stopper(child) };
}

export type ServiceProcess = ChildProcess & { output(): string };

/**
 * One of the services (gateway, worker, fake TGI) as its own process: `node --import tsx`, one
 * process, so a SIGKILL reaches the service itself. Its output is drained and the tail kept for
 * failure messages.
 */
export function spawnService(script: string, env: Record<string, string>): ServiceProcess {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, script)], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let tail = "";
    const keep = (d: Buffer) => (tail = (tail + String(d)).slice(-4000));
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    return Object.assign(child, { output: () => tail });
}

/** CPU seconds a process has used (Linux /proc; undefined elsewhere). */
export function processCpuSeconds(pid: number): number | undefined {
    try {
        const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
        return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
        return undefined;
    }
}
