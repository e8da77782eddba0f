/**
 * InferenceServices against the serving runtimes KServe will really have: the
 * real helm renders the pinned kserve-runtime-configs chart with the values the
 * plan declares, and every model must match a rendered ClusterServingRuntime
 * exactly as KServe matches (format auto-selected, protocolVersion declared).
 */
import * as fs from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { chooseProtocol, deriveRuntimeCatalog, type RuntimeCatalog } from "../../components/platform/addons/kserveRuntimes";
import { renderCharts } from "../../infra/plan/helm";
import { CATALOG_FILE, currentCatalog } from "../../infra/plan/runtimeCatalogCli";
import { ofType, renderStackFile, type Rendering } from "../harness/render";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- deep reads of rendered objects
type Json = Record<string, any>;

let dev: Rendering;
let runtimes: Json[];

beforeAll(async () => {
    dev = await renderStackFile("dev");
    const releases = renderCharts(dev, { kubeVersion: dev.config.cluster.kubernetesVersion }).filter((r) => r.release.chart.endsWith("/kserve-runtime-configs"));
    expect(releases.map((r) => r.release.name), "the plan installs the KServe serving runtimes once").toHaveLength(1);
    runtimes = releases[0]!.objects.filter((o) => o.kind === "ClusterServingRuntime") as Json[];
});

describe("serving runtimes", () => {
    it("the runtime-configs release renders the runtimes (its defaults render none)", () => {
        const names = runtimes.map((r) => r.metadata.name);
        expect(names).toEqual(expect.arrayContaining(["kserve-huggingfaceserver", "kserve-sklearnserver", "kserve-tritonserver"]));
    });

    it("the KServe release waits for nothing it installs itself, and the runtimes come after it", () => {
        const release = (chart: string) => ofType(dev, "kubernetes:helm.sh/v3:Release").find((r) => String(r.inputs.chart).endsWith(chart))!;
        expect(release("/kserve-runtime-configs").dependencies).toContain(release("/kserve-resources").urn);
    });

    it("every image the runtimes run is pinned to a tag (no latest)", () => {
        const images = runtimes.flatMap((r) => [...(r.spec.containers ?? []), ...(r.spec.workerSpec?.containers ?? [])].map((c: Json) => String(c.image)));
        expect(images.length).toBeGreaterThan(10);
        const unpinned = images.filter((i) => !/:[\w][\w.-]*$/.test(i) || i.endsWith(":latest"));
        expect(unpinned).toEqual([]);
    });

    it("every InferenceService matches a runtime exactly as KServe matches: auto-selected format and a declared protocolVersion", () => {
        const isvcs = ofType(dev, "kubernetes:serving.kserve.io/v1beta1:InferenceService").map((r) => r.inputs as Json);
        expect(isvcs.length).toBeGreaterThanOrEqual(4);
        const unmatched = isvcs
            .filter((isvc) => {
                const model = isvc.spec.predictor.model;
                return !runtimes.some(
                    (rt) =>
                        !rt.spec.disabled &&
                        rt.spec.supportedModelFormats.some((f: Json) => f.name === model.modelFormat.name && f.autoSelect) &&
                        (rt.spec.protocolVersions ?? ["v1"]).includes(model.protocolVersion),
                );
            })
            .map((isvc) => `${isvc.metadata.name} (${isvc.spec.predictor.model.modelFormat.name}, ${isvc.spec.predictor.model.protocolVersion})`);
        expect(unmatched, "KServe would report 'No runtime found' for these").toEqual([]);
    });

    it("the gRPC model is protocolVersion v2 with the Python server's gRPC port as h2c (huggingfaceserver declares no grpc-v2)", () => {
        const hf = runtimes.find((r) => r.metadata.name === "kserve-huggingfaceserver")!;
        expect(hf.spec.protocolVersions).not.toContain("grpc-v2");
        const grpc = ofType(dev, "kubernetes:serving.kserve.io/v1beta1:InferenceService").find((r) => (r.inputs as Json).metadata.name === "sst2-grpc")!.inputs as Json;
        expect(grpc.spec.predictor.model.protocolVersion).toBe("v2");
        expect(grpc.spec.predictor.model.ports).toEqual([{ name: "h2c", containerPort: 8081, protocol: "TCP" }]);
    });
});

describe("runtime catalog", () => {
    it("components/platform/addons/kserveRuntimes.json is what the pinned chart renders (regenerate with npm run kserve:runtimes)", () => {
        const committed = JSON.parse(fs.readFileSync(CATALOG_FILE, "utf8")) as RuntimeCatalog;
        expect(committed).toEqual(currentCatalog());
    });

    const catalog = deriveRuntimeCatalog(
        [
            { kind: "ClusterServingRuntime", metadata: { name: "py", annotations: { "serving.kserve.io/server-type": "pyserver" } }, spec: { protocolVersions: ["v1", "v2"], supportedModelFormats: [{ name: "fmt", autoSelect: true, priority: 1 }], containers: [{ image: "kserve/pyserver:v1" }] } },
            { kind: "ClusterServingRuntime", metadata: { name: "native" }, spec: { protocolVersions: ["v2", "grpc-v2"], supportedModelFormats: [{ name: "onx", autoSelect: true, priority: 1 }], containers: [{ image: "x/triton:1", args: ["--grpc-port=9000"] }] } },
            { kind: "ClusterServingRuntime", metadata: { name: "off" }, spec: { disabled: true, protocolVersions: ["v1"], supportedModelFormats: [{ name: "gone", autoSelect: true }], containers: [{ image: "x:1" }] } },
            { kind: "ClusterServingRuntime", metadata: { name: "manual" }, spec: { protocolVersions: ["v1"], supportedModelFormats: [{ name: "manualfmt", autoSelect: false }], containers: [{ image: "x:1" }] } },
            { kind: "ClusterServingRuntime", metadata: { name: "hi" }, spec: { protocolVersions: ["v2"], supportedModelFormats: [{ name: "fmt", autoSelect: true, priority: 5 }], containers: [{ image: "y/hi:1", env: [{ name: "MLSERVER_GRPC_PORT", value: "9100" }] }] } },
        ],
        "test",
    );

    it.each([
        ["fmt", "v1", { protocolVersion: "v1", runtime: "py" }],
        ["fmt", "v2", { protocolVersion: "v2", runtime: "hi" }],
        ["fmt", "grpc-v2", { protocolVersion: "v2", runtime: "hi", grpcPort: 9100 }],
        ["onx", "grpc-v2", { protocolVersion: "grpc-v2", runtime: "native", grpcPort: 9000 }],
    ] as const)("%s over %s → %o", (format, protocol, expected) => {
        expect(chooseProtocol(format, protocol, catalog)).toEqual(expected);
    });

    it.each([
        ["onx", "v1", /serve v2, grpc-v2, not v1/],
        ["gone", "v1", /no serving runtime auto-selects model format "gone"/],
        ["manualfmt", "v1", /no serving runtime auto-selects/],
    ] as const)("%s over %s is refused", (format, protocol, message) => {
        const choice = chooseProtocol(format, protocol, catalog);
        expect("error" in choice && choice.error).toMatch(message);
    });
});
