/**
 * Monitoring against what really runs: the PodMonitors' selectors and ports
 * checked against the pods the pinned charts render (helm), and one DCGM
 * exporter per GPU node.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { renderCharts, type RenderedRelease } from "../../infra/plan/helm";
import { one, ofType, renderStackFile, type Rendering } from "../harness/render";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- deep reads of rendered objects
type Json = Record<string, any>;

let dev: Rendering;
let charts: RenderedRelease[];
beforeAll(async () => {
    dev = await renderStackFile("dev");
    charts = renderCharts(dev, { kubeVersion: dev.config.cluster.kubernetesVersion });
});

const podTemplatesOf = (release: string) =>
    charts
        .filter((c) => c.release.name === release)
        .flatMap((c) => c.objects)
        .filter((o) => ["Deployment", "DaemonSet", "StatefulSet"].includes(String(o.kind)))
        .map((o) => ({ name: String(o.metadata?.name), namespace: o.metadata?.namespace as string | undefined, template: (o as Json).spec.template as Json }));

function selects(selector: Json, labels: Record<string, string>): boolean {
    const exprOk = ((selector.matchExpressions ?? []) as Json[]).every((e) =>
        e.operator === "In" ? e.values.includes(labels[e.key]) : e.operator === "Exists" ? e.key in labels : e.operator === "NotIn" ? !e.values.includes(labels[e.key]) : !(e.key in labels),
    );
    const labelsOk = Object.entries((selector.matchLabels ?? {}) as Record<string, string>).every(([k, v]) => labels[k] === v);
    return exprOk && labelsOk;
}

describe("KEDA metrics (the chart renders no monitor of its own)", () => {
    it("the keda PodMonitor selects the operator and metrics server pods the chart renders, on a port they declare", () => {
        const monitor = ofType(dev, "kubernetes:monitoring.coreos.com/v1:PodMonitor").find((m) => (m.inputs.metadata as Json).name === "keda")!.inputs as Json;
        const pods = podTemplatesOf("keda");
        expect(pods.length).toBeGreaterThanOrEqual(2);
        expect(charts.filter((c) => c.release.name === "keda").flatMap((c) => c.objects).filter((o) => /Monitor$/.test(String(o.kind)))).toEqual([]);
        const scraped = pods.filter((p) => selects(monitor.spec.selector, p.template.metadata.labels) && monitor.spec.namespaceSelector.matchNames.includes("keda"));
        expect(scraped.map((p) => p.name).sort()).toEqual(["keda-operator", "keda-operator-metrics-apiserver"]);
        for (const p of scraped) {
            const ports = (p.template.spec.containers as Json[]).flatMap((c) => (c.ports ?? []).map((x: Json) => x.name));
            for (const ep of monitor.spec.podMetricsEndpoints as Json[]) expect(ports, `${p.name} has port ${ep.port}`).toContain(ep.port);
        }
    });
});

describe("GPU metrics", () => {
    it("one DCGM exporter per GPU node: NVIDIA's chart for Prometheus; the Container Insights add-on's own is turned off", () => {
        const dcgm = podTemplatesOf("dcgm-exporter");
        expect(dcgm.map((p) => p.name)).toEqual(["dcgm-exporter"]);
        const insights = one(dev, "aws:eks/addon:Addon", "mlserve-dev-guardrails-container-insights");
        // Add-on v4.3.0+ renders its DCGM DaemonSet unless this is false. The idle-GPU alarm's metrics
        // (node_gpu_limit, node_gpu_reserved_capacity) come from node capacity and pod requests, not DCGM.
        expect(JSON.parse(String(insights.inputs.configurationValues))).toMatchObject({ dcgmExporter: { enabled: false } });
    });
});
