/**
 * The stand-ins as a process, for a local benchmark by hand:
 *   npx tsx loadtest/standins/main.ts out/local-stack.json [--async]
 * writes the stack-outputs JSON to the file, then serves until SIGTERM/SIGINT.
 */
import * as fs from "node:fs";
import { startLocalStack } from "./stack";

async function main() {
    const file = process.argv[2];
    if (!file) throw new Error("usage: main.ts <outputs.json> [--async]");
    const stack = await startLocalStack({ asyncGateway: process.argv.includes("--async") });
    fs.writeFileSync(file, JSON.stringify(stack.outputs, null, 2));
    console.log(`stand-ins up; stack outputs in ${file}`);
    const stop = () => void stack.stop().then(() => process.exit(0));
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
}
void main().catch((e) => {
    console.error(e);
    process.exit(1);
});
