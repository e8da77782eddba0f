/* global process, console */
// The README's quick start as a list of shell commands, so CI runs exactly what a
// newcomer is told to run. Plain Node (no packages): it runs before `npm ci`.
// `node .ci/quickstart.mjs` prints one command per line.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** Commands of the first ```bash block under "## Quick start", trailing comments removed. */
export function quickStartCommands(readme) {
    const section = readme.split(/^## Quick start$/m)[1];
    if (section === undefined) throw new Error('README.md has no "## Quick start" section');
    const block = section.split(/^## /m)[0].match(/^```bash\n([\s\S]*?)^```$/m);
    if (!block) throw new Error('README.md "## Quick start" has no ```bash block');
    const commands = block[1]
        .split("\n")
        .map((line) => line.replace(/\s+#.*$/, "").replace(/^#.*$/, "").trim())
        .filter((line) => line !== "");
    if (commands.length === 0) throw new Error('README.md "## Quick start" ```bash block has no command');
    return commands;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
    const readme = fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "README.md"), "utf8");
    for (const command of quickStartCommands(readme)) console.log(command);
}
