/**
 * `npm run build:services`: bundles the gateway and the worker into one file
 * each (dist/services/<name>.js), so their images need Node and nothing else:
 * no node_modules, no compiler, no Pulumi packages.
 */
import * as path from "node:path";
import { build } from "esbuild";

export const SERVICES = ["gateway", "worker"] as const;
const root = path.resolve(__dirname, "..");

export async function buildServices(outDir = path.join(root, "dist", "services")): Promise<string[]> {
    const outputs: string[] = [];
    for (const name of SERVICES) {
        const outfile = path.join(outDir, `${name}.js`);
        await build({
            entryPoints: [path.join(root, "services", name, "main.ts")],
            bundle: true,
            platform: "node",
            target: "node20",
            format: "cjs",
            outfile,
            sourcemap: true,
            legalComments: "linked",
            logLevel: "warning",
        });
        outputs.push(outfile);
    }
    return outputs;
}

if (require.main === module) {
    buildServices().then(
        (files) => console.log(files.map((f) => `built ${path.relative(process.cwd(), f)}`).join("\n")),
        (err) => {
            console.error(err);
            process.exit(1);
        },
    );
}
