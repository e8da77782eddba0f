/**
 * `npm run reaper -- [--dry-run]`: park or destroy stacks past their expiry
 * (see reaper.ts for the rules). Needs the Pulumi CLI and backend credentials;
 * the scheduled GitHub workflow runs it. Exit 1 if any action failed.
 */
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { REPO_ROOT } from "../plan/render";
import { runReaper, type ReaperBackend } from "./reaper";

async function main(): Promise<number> {
    const dryRun = process.argv.includes("--dry-run");
    const ws = await LocalWorkspace.create({ workDir: REPO_ROOT });
    const select = (name: string) => LocalWorkspace.selectStack({ stackName: name, workDir: REPO_ROOT });
    const log = (out: string) => process.stdout.write(out);
    const backend: ReaperBackend = {
        listStacks: () => ws.listStacks(),
        getConfig: (name) => ws.getAllConfig(name),
        park: async (name) => {
            const stack = await select(name);
            await stack.setConfig("mlserve:lifecycle.parked", { value: "true" }, true);
            await stack.up({ onOutput: log });
        },
        destroy: async (name) => (await select(name)).destroy({ onOutput: log }).then(() => undefined),
    };
    const run = await runReaper(backend, new Date(), { dryRun });
    for (const d of run.decisions) console.log(`${d.action.padEnd(8)} ${d.stack.padEnd(24)} ${d.owner ?? "(no owner)"}  ${d.reason}`);
    if (dryRun) console.log("dry run: nothing was changed");
    for (const e of run.executed) console.log(`${e.ok ? "done" : "FAILED"} ${e.action} ${e.stack}${e.error ? `: ${e.error}` : ""}`);
    return run.executed.some((e) => !e.ok) ? 1 : 0;
}

main().then(
    (code) => process.exit(code),
    (err) => {
        console.error(`reaper failed: ${(err as Error).message}`);
        process.exit(1);
    },
);
