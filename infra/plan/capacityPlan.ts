/**
 * The capacity check of a recorded plan: gathers every workload (our objects,
 * the rendered charts, what the Knative operator applies, EKS add-ons) and
 * checks each node pool. Reading the Knative operator's manifests from the
 * reference data (infra/plan/reference.ts) is the only I/O; the rest is capacity*.ts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { capacityFindings, capacityReport, type CapacityReport } from "./capacity";
import { addonWorkloads, applyKnativeServing, kserveDefaults, poolsFromPlan, queueProxyRequests, workloadsFromObjects, type SourcedObject } from "./capacityWorkloads";
import type { RenderedRelease } from "./helm";
import { referenceDir } from "./reference";
import type { RecordedResource } from "./render";
import { kubernetesObjects } from "./report";

/** The Knative operator's manifests; throws one ReferenceDataError naming `npm run reference:fetch` when there are none. */
export const operatorManifestDir = (): string => referenceDir("manifests");

type Obj = Record<string, unknown>;

function readYamlDir(dir: string): Obj[] {
    return fs
        .readdirSync(dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
        .flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(dir, f), "utf8")).map((d) => d.toJS() as Obj | null))
        .filter((o): o is Obj => o !== null && typeof o === "object");
}

/**
 * What the Knative operator applies for a KnativeServing: the Serving release
 * manifests of its `spec.version` and, with Kourier enabled, Kourier's.
 * Throws when the reference folder has no manifests for that version.
 */
export function knativeOperatorManifests(serving: Obj, root = operatorManifestDir()): Obj[] {
    const spec = (serving.spec ?? {}) as { version?: string; ingress?: { kourier?: { enabled?: boolean } } };
    const kodata = fs.readdirSync(root).find((d) => d.startsWith("knative-operator-"));
    if (!kodata) throw new Error(`no Knative operator manifests in ${root}`);
    const base = path.join(root, kodata);
    const version = String(spec.version ?? "");
    const servingDir = fs.readdirSync(path.join(base, "knative-serving")).find((v) => v === version || v.startsWith(`${version}.`));
    if (!servingDir) throw new Error(`no Knative Serving ${version} manifests in ${path.join(base, "knative-serving")}`);
    const objects = readYamlDir(path.join(base, "knative-serving", servingDir));
    if (spec.ingress?.kourier?.enabled) {
        const minor = servingDir.split(".").slice(0, 2).join(".");
        objects.push(...readYamlDir(path.join(base, "ingress", minor, "kourier")));
    }
    return objects;
}

export interface CapacityCheck {
    report: CapacityReport;
    errors: string[];
    warnings: string[];
}

export function planCapacity(resources: readonly RecordedResource[], charts: readonly RenderedRelease[], manifestRoot?: string): CapacityCheck {
    const items: SourcedObject[] = kubernetesObjects(resources).map((object) => ({ object, source: "program" }));
    for (const c of charts) items.push(...c.objects.map((object) => ({ object, source: `helm ${c.release.name}` })));
    const serving = items.find((i) => i.object.kind === "KnativeServing")?.object;
    if (serving) items.push(...applyKnativeServing(knativeOperatorManifests(serving, manifestRoot), serving).map((object) => ({ object, source: "Knative operator" })));
    const settings = {
        kserve: kserveDefaults(items.map((i) => i.object)),
        queueProxy: queueProxyRequests(serving),
        knativeAutoscaler: ((serving?.spec ?? {}) as { config?: { autoscaler?: Record<string, string> } }).config?.autoscaler,
    };
    const addons = addonWorkloads(resources);
    const report = capacityReport([...workloadsFromObjects(items, settings), ...addons.workloads], poolsFromPlan(resources));
    const { errors, warnings } = capacityFindings(report);
    for (const name of addons.unknown) warnings.push(`EKS add-on ${name}: its pods are not in infra/plan/capacityData.ts, so the capacity check does not count them`);
    return { report, errors, warnings };
}
