/**
 * Runs the real load-test runner (loadtest/run.py: locust, vegeta, ghz) against
 * the stand-ins (loadtest/standins, a separate process) on 127.0.0.1.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "../../infra/plan/render";

export const PYTHON = path.join(REPO_ROOT, ".venv", "bin", "python");
export const RUNNER = path.join(REPO_ROOT, "loadtest", "run.py");

/** PATH with Go's bin directory (vegeta, ghz from `go install`) in front. */
export function toolPath(): string {
    let gopath = path.join(os.homedir(), "go");
    try {
        gopath = execFileSync("go", ["env", "GOPATH"], { encoding: "utf8" }).trim() || gopath;
    } catch {
        // no Go toolchain: the tools may still be on PATH
    }
    return [path.join(gopath, "bin"), process.env.PATH ?? ""].join(path.delimiter);
}

/** Fails with the fix when a pinned tool is missing (tests never skip for it). */
export function checkTools(): void {
    const env = { ...process.env, PATH: toolPath() };
    for (const [tool, args] of [
        ["vegeta", ["-version"]],
        ["ghz", ["--version"]],
    ] as const) {
        try {
            execFileSync(tool, [...args], { env, stdio: "ignore" });
        } catch {
            throw new Error(`${tool} not found: run \`npm run tools:install\` (.ci/install-tools.sh installs the pinned vegeta and ghz)`);
        }
    }
    if (!fs.existsSync(PYTHON)) throw new Error("no .venv: run `npm run tools:install`");
    execFileSync(PYTHON, ["-c", "import locust"], { stdio: "ignore" });
}

/** Higher CPU priority (root only; elsewhere left as is): timing stand-ins and load tools share two cores with other tests. */
function prioritise(pid: number | undefined): void {
    try {
        if (pid) os.setPriority(pid, -10);
    } catch {
        // not permitted: run at normal priority
    }
}

export interface Standins {
    outputs: Record<string, unknown>;
    outputsFile: string;
    stop(): Promise<void>;
}

export async function startStandins(asyncGateway: boolean): Promise<Standins> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlserve-standins-"));
    const outputsFile = path.join(dir, "outputs.json");
    // Node itself (tsx as a loader), so the priority set below applies to the server process.
    const node = [process.execPath, "--import", "tsx", path.join(REPO_ROOT, "loadtest", "standins", "main.ts"), outputsFile, ...(asyncGateway ? ["--async"] : [])];
    // As root, a real-time policy: the stand-ins sleep their injected delays and must wake on
    // time even when other processes load both cores (they use little CPU themselves). Their
    // children (fauxqs, moto) get the normal policy back (--reset-on-fork).
    const rt = process.getuid?.() === 0 && fs.existsSync("/usr/bin/chrt") ? ["/usr/bin/chrt", "--reset-on-fork", "-f", "10"] : [];
    const [cmd, ...args] = [...rt, ...node];
    const child: ChildProcess = spawn(cmd!, args, {
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, PATH: toolPath() },
    });
    prioritise(child.pid);
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    const deadline = Date.now() + 60_000;
    while (!fs.existsSync(outputsFile)) {
        if (child.exitCode !== null) throw new Error(`stand-ins exited with ${child.exitCode}: ${stderr}`);
        if (Date.now() > deadline) throw new Error(`stand-ins did not start within 60 s: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 200)); // the file is written in one call; let it land
    const outputs = JSON.parse(fs.readFileSync(outputsFile, "utf8")) as Record<string, unknown>;
    return {
        outputs,
        outputsFile,
        stop: async () => {
            if (child.exitCode !== null) return;
            const exited = new Promise((r) => child.once("exit", r));
            child.kill("SIGTERM");
            const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
            await exited;
            clearTimeout(t);
        },
    };
}

/** Runs loadtest/run.py to completion (bounded); resolves with its exit code and output. */
export function runLoadtest(args: string[], env: Record<string, string> = {}, timeoutMs = 180_000): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn(PYTHON, [RUNNER, ...args], { env: { ...process.env, PATH: toolPath(), ...env }, stdio: ["ignore", "pipe", "pipe"] });
        prioritise(child.pid);
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        const t = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.once("error", reject);
        child.once("exit", (code) => {
            clearTimeout(t);
            resolve({ code: code ?? -1, stdout, stderr });
        });
    });
}
