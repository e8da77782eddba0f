/**
 * The Helm layer checked for real: every release the dev and prod plans declare
 * is rendered by the pinned helm from the pinned chart archive with exactly the
 * program's values, every key we set exists in the chart, and every rendered
 * object validates (kubernetes-models; custom resources strictly against CRDs).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { CHARTS } from "../../components/versions";
import {
    chartDir,
    ChartNotFoundError,
    declaredReleases,
    findHelm,
    parseManifests,
    planValues,
    renderCharts,
    UNKNOWN_PLACEHOLDER,
    type RenderedRelease,
} from "../../infra/plan/helm";
import { chartDefaultValues, chartIndex, chartKey, FREE_FORM_KEYS, templateValueRefs, unknownValueKeys } from "../../infra/plan/helmChart";
import { REPO_ROOT } from "../../infra/plan/render";
import { renderStackFile, type RecordedResource, type Rendering } from "../harness/render";
import { CrdValidator, crdDir, validateObject } from "../harness/schemas";

const stacks = ["dev", "prod"] as const;
const renderings: Record<string, Rendering> = {};
const charts: Record<string, RenderedRelease[]> = {};

beforeAll(async () => {
    for (const s of stacks) {
        renderings[s] = await renderStackFile(s);
        charts[s] = renderCharts(renderings[s], { kubeVersion: renderings[s].config.cluster.kubernetesVersion });
    }
}, 180_000);

describe("pinned chart archives", () => {
    const index = chartIndex(chartDir());

    it.each(Object.entries(CHARTS))("%s: components/versions.ts pins a version that has an archive in the reference charts", (_name, pinned) => {
        expect(index.has(chartKey(pinned.chart, pinned.version)), `${pinned.chart} ${pinned.version}; archives: ${[...index.keys()].join(", ")}`).toBe(true);
    });

    it("matches charts by name and version (a v prefix is not significant), not by file name", () => {
        expect(chartKey("oci://ghcr.io/kserve/charts/kserve-crd", "v0.20.0")).toBe("kserve-crd@0.20.0");
        expect(index.get(chartKey("knative-operator", "v1.23.0"))?.version).toBe("1.23.0");
        expect(index.has(chartKey("keda", "2.20.3"))).toBe(false);
    });

    it("an unknown chart version fails the render, naming the release", () => {
        const fake = { type: "kubernetes:helm.sh/v3:Release", name: "x", urn: "urn:x", inputs: { name: "keda", chart: "keda", version: "9.9.9", namespace: "keda", values: {} }, state: {} };
        expect(() => renderCharts({ resources: [fake as unknown as RecordedResource] }, { kubeVersion: "1.33", cacheDir: null })).toThrow(ChartNotFoundError);
        expect(() => renderCharts({ resources: [fake as unknown as RecordedResource] }, { kubeVersion: "1.33", cacheDir: null })).toThrow(/keda 9\.9\.9 \(release keda\)/);
    });
});

describe("the values-key rule", () => {
    const defaults = {
        replicas: 1,
        podAnnotations: {},
        nodeSelector: { "kubernetes.io/os": "linux" },
        extraArgs: { v: 2 },
        tolerations: [],
        persistence: { enabled: false, size: "10Gi" },
        image: "nginx",
        sidecar: null,
    };

    it("reports a key the chart does not have, with its path", () => {
        expect(unknownValueKeys({ persistence: { enabeld: true } }, defaults)).toEqual(["persistence.enabeld (no such key in the chart's values)"]);
        expect(unknownValueKeys({ replica: 2 }, defaults)).toEqual(["replica (no such key in the chart's values)"]);
    });

    it("accepts free-form maps: empty or null defaults, and labels/selectors/args/resources/affinity by name", () => {
        expect(unknownValueKeys({ podAnnotations: { a: "1" }, nodeSelector: { pool: "gpu" }, extraArgs: { "scale-down-delay": "10m" }, sidecar: { x: 1 } }, defaults)).toEqual([]);
        for (const k of ["nodeSelector", "podAnnotations", "extraArgs", "resources", "affinity"]) expect(FREE_FORM_KEYS.has(k)).toBe(true);
    });

    it("does not walk lists, and reports a map where the chart has a scalar", () => {
        expect(unknownValueKeys({ tolerations: [{ anything: true }] }, defaults)).toEqual([]);
        expect(unknownValueKeys({ image: { tag: "1" } }, defaults)).toEqual(["image (a map where the chart's default is a string)"]);
    });

    it("counts keys a chart's templates read without listing them in values.yaml", () => {
        const files = new Map([["c/templates/a.yaml", Buffer.from("name: {{ .Values.fullnameOverride | default .Chart.Name }} {{ .Values.a.b }}")]]);
        expect(templateValueRefs(files, "c")).toEqual({ fullnameOverride: null, a: { b: null } });
    });

    it("sees subchart defaults under the subchart's key (kube-prometheus-stack's grafana)", () => {
        const kps = chartIndex(chartDir()).get(chartKey(CHARTS.kubePrometheusStack.chart, CHARTS.kubePrometheusStack.version))!;
        const d = chartDefaultValues(kps.files) as { grafana: { sidecar: { dashboards: Record<string, unknown> } } };
        expect(Object.keys(d.grafana.sidecar.dashboards)).toEqual(expect.arrayContaining(["label", "labelValue", "searchNamespace"]));
        expect(unknownValueKeys({ grafana: { sidecar: { dashboards: { lable: "x" } } } }, d)).toEqual(["grafana.sidecar.dashboards.lable (no such key in the chart's values)"]);
    });
});

describe("plan placeholders in values", () => {
    it("turns unknown outputs into a placeholder string and reports where placeholders and secrets are", () => {
        const r = planValues({ a: pulumi.runtime.unknownValue, b: [{ c: "[secret]" }], d: "ok" });
        expect(r.values).toEqual({ a: UNKNOWN_PLACEHOLDER, b: [{ c: "[secret]" }], d: "ok" });
        expect(r.placeholders).toEqual(["a", "b[0].c"]);
    });
});

describe("finding helm", () => {
    it("fails with one message naming npm run tools:install when helm is nowhere", () => {
        const empty = fs.mkdtempSync(path.join(os.tmpdir(), "no-helm-"));
        expect(() => findHelm({ PATH: empty, GOPATH: empty }, empty)).toThrow(/npm run tools:install/);
        fs.rmSync(empty, { recursive: true });
    });
});

describe.each(stacks)("the Helm releases of stack %s", (stack) => {
    it("declares releases, and helm rendered each of them into objects", () => {
        const declared = declaredReleases(renderings[stack]!.resources);
        expect(declared.length).toBeGreaterThanOrEqual(8);
        expect(charts[stack]!.map((c) => c.release.name)).toEqual(declared.map((d) => d.name));
        for (const c of charts[stack]!) expect(c.objects.length, c.release.name).toBeGreaterThan(0);
    });

    it("passes exactly the program's values (kube-prometheus-stack renders the grafana dashboard label we set)", () => {
        const kps = charts[stack]!.find((c) => c.archive.name === "kube-prometheus-stack")!;
        const grafana = kps.objects.find((o) => o.kind === "Deployment" && o.metadata?.name === "grafana") as { spec: { template: { spec: { containers: Array<{ name: string; env?: Array<{ name: string; value?: string }> }> } } } };
        const sidecar = grafana.spec.template.spec.containers.find((c) => c.name === "grafana-sc-dashboard")!;
        expect(sidecar.env).toEqual(expect.arrayContaining([{ name: "LABEL", value: "grafana_dashboard" }]));
    });

    it("sets only values keys that exist in each chart", () => {
        const problems = charts[stack]!.flatMap((c) => unknownValueKeys(c.release.values, chartDefaultValues(c.archive.files)).map((p) => `${c.release.name}: ${p}`));
        expect(problems).toEqual([]);
    });

    it("renders objects that all validate (kubernetes-models; custom resources strictly against their CRDs)", async () => {
        const rendered = charts[stack]!.flatMap((c) => c.objects.map((o) => ({ release: c.release.name, o })));
        const crds = new CrdValidator(
            crdDir(),
            rendered.map((r) => r.o).filter((o) => o.kind === "CustomResourceDefinition"),
        );
        const failures: string[] = [];
        for (const { release, o } of rendered) {
            const error = await validateObject(o, crds);
            if (error) failures.push(`${release}: ${String(o.apiVersion)} ${String(o.kind)} ${String(o.metadata?.name)}: ${error.slice(0, 300)}`);
        }
        expect(failures).toEqual([]);
        // Custom resources the charts render are among the checked objects, strictly (e.g. cert-manager Certificate, Prometheus).
        const customKinds = new Set(rendered.filter((r) => crds.handles(r.o)).map((r) => String(r.o.kind)));
        expect([...customKinds]).toEqual(expect.arrayContaining(["Certificate", "Prometheus", "ServiceMonitor"]));
    }, 120_000);
});

describe("npm run plan -- --stack dev --include-charts", () => {
    it("appends every rendered release to manifests.yaml, CRDs included, one comment line per release", () => {
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "mlserve-charts-"));
        const r = spawnSync(process.execPath, [path.join(REPO_ROOT, "node_modules", "tsx", "dist", "cli.mjs"), path.join(REPO_ROOT, "infra/plan/cli.ts"), "--stack", "dev", "--out", out, "--include-charts"], {
            cwd: REPO_ROOT,
            encoding: "utf8",
            timeout: 120_000,
        });
        expect(r.status, r.stderr).toBe(0);
        const text = fs.readFileSync(path.join(out, "manifests.yaml"), "utf8");
        for (const c of charts.dev!) expect(text).toContain(`# Helm release ${c.release.name}: ${c.archive.name} ${c.archive.version} in ${c.release.namespace}`);
        const docs = parseManifests(text);
        const kinds = new Set(docs.map((d) => String(d.kind)));
        for (const k of ["CustomResourceDefinition", "ClusterServingRuntime", "DaemonSet", "InferenceService"]) expect(kinds).toContain(k);
        // Without the flag, only the program's own objects.
        const plain = spawnSync(process.execPath, [path.join(REPO_ROOT, "node_modules", "tsx", "dist", "cli.mjs"), path.join(REPO_ROOT, "infra/plan/cli.ts"), "--stack", "dev", "--out", out], { cwd: REPO_ROOT, encoding: "utf8", timeout: 120_000 });
        expect(plain.status, plain.stderr).toBe(0);
        expect(parseManifests(fs.readFileSync(path.join(out, "manifests.yaml"), "utf8")).length).toBeLessThan(docs.length);
        expect(fs.readFileSync(path.join(out, "manifests.yaml"), "utf8")).not.toContain("# Helm release");
        fs.rmSync(out, { recursive: true, force: true });
    }, 240_000);
});
