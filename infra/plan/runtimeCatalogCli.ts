/**
 * `npm run kserve:runtimes`: render the pinned kserve-runtime-configs chart with
 * exactly the values the KServe add-on passes, derive the runtime catalog from
 * the ClusterServingRuntimes it renders, and write components/platform/addons/kserveRuntimes.json.
 * Run it after changing the chart version or its values; a test fails until you do.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { kserveReleases } from "../../components/platform/addons/kserve";
import { deriveRuntimeCatalog, type RuntimeCatalog } from "../../components/platform/addons/kserveRuntimes";
import { CHARTS, DEFAULT_KUBERNETES_VERSION } from "../../components/versions";
import { HELM_RELEASE_TYPE, renderCharts, type K8sObject } from "./helm";
import { REPO_ROOT, type RecordedResource } from "./render";

export const CATALOG_FILE = path.join(REPO_ROOT, "components", "platform", "addons", "kserveRuntimes.json");

/** Render the runtime-configs release exactly as the KServe add-on declares it (same helm path as the plan). */
export function renderRuntimeConfigs(): { chart: string; objects: K8sObject[] } {
    const spec = kserveReleases("Standard", undefined).find((r) => r.chart === "kserveRuntimeConfigs");
    if (!spec) throw new Error("the KServe add-on declares no kserve-runtime-configs release");
    const pinned = CHARTS[spec.chart];
    const inputs = { name: spec.name, chart: pinned.chart, version: pinned.version, namespace: "kserve", values: spec.values };
    const release: RecordedResource = { urn: `urn:offline:${spec.name}`, type: HELM_RELEASE_TYPE, name: spec.name, custom: true, remote: false, dependencies: [], ignoreChanges: [], inputs, state: inputs };
    const [rendered] = renderCharts({ resources: [release] }, { kubeVersion: DEFAULT_KUBERNETES_VERSION });
    return { chart: `${rendered!.archive.name}@${pinned.version}`, objects: rendered!.objects };
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
