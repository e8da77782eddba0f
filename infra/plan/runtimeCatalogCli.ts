/**
 * `npm run kserve:runtimes`: render the pinned kserve-runtime-configs chart with
 * exactly the values the KServe add-on passes, derive the runtime catalog from
 * the ClusterServingRuntimes it renders, and write components/kserve/runtimes.json.
 * Run it after changing the chart version or its values; a test fails until you do.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { kserveReleases } from "../../components/addons/kserve";
import { deriveRuntimeCatalog, type RuntimeCatalog } from "../../components/kserve/runtimes";
import { CHARTS, DEFAULT_KUBERNETES_VERSION } from "../../components/versions";
import { REPO_ROOT } from "./render";

export const CATALOG_FILE = path.join(REPO_ROOT, "components", "kserve", "runtimes.json");
const CHART_DIR = process.env.MLSERVE_CHART_DIR ?? path.resolve(REPO_ROOT, "..", "shared", "reference", "charts");

/** The helm CLI: on PATH or where `go install` puts it. */
export function helmBinary(): string {
    const candidates = [path.join(process.env.GOPATH ?? path.join(os.homedir(), "go"), "bin", "helm"), ...(process.env.PATH ?? "").split(path.delimiter).map((d) => path.join(d, "helm"))];
    const found = candidates.find((c) => fs.existsSync(c));
    if (!found) throw new Error("helm CLI not found (PATH or $GOPATH/bin): install the pinned tools with `npm run tools:install`");
    return found;
}

/** Render the runtime-configs release as the KServe add-on declares it; returns the parsed objects. */
export function renderRuntimeConfigs(): { chart: string; objects: unknown[] } {
    const spec = kserveReleases("Knative").find((r) => r.chart === "kserveRuntimeConfigs");
    if (!spec) throw new Error("the KServe add-on declares no kserve-runtime-configs release");
    const pinned = CHARTS.kserveRuntimeConfigs;
    const chartName = pinned.chart.split("/").pop()!;
    const tgz = path.join(CHART_DIR, `${chartName}-${pinned.version}.tgz`);
    if (!fs.existsSync(tgz)) throw new Error(`chart ${chartName} ${pinned.version} not found at ${tgz}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlserve-runtimes-"));
    try {
        const values = path.join(dir, "values.json");
        fs.writeFileSync(values, JSON.stringify(spec.values));
        const out = execFileSync(helmBinary(), ["template", spec.name, tgz, "--namespace", "kserve", "--kube-version", DEFAULT_KUBERNETES_VERSION, "-f", values], {
            encoding: "utf8",
            maxBuffer: 64 * 1024 * 1024,
        });
        return { chart: `${chartName}@${pinned.version}`, objects: parseAllDocuments(out).map((d) => d.toJS()).filter(Boolean) };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

export function currentCatalog(): RuntimeCatalog {
    const { chart, objects } = renderRuntimeConfigs();
    return deriveRuntimeCatalog(objects, chart);
}

if (require.main === module) {
    const catalog = currentCatalog();
    fs.writeFileSync(CATALOG_FILE, `${JSON.stringify(catalog, null, 2)}\n`);
    console.log(`wrote ${path.relative(process.cwd(), CATALOG_FILE)}: ${catalog.runtimes.length} runtimes from ${catalog.chart}`);
}
