/**
 * The serving-runtime catalog (components/platform/addons/kserveRuntimes.ts):
 * what is read from the rendered ClusterServingRuntimes, and which runtime and
 * protocolVersion KServe will match for a model format and a serving protocol.
 * Hand-made runtime objects here; the committed catalog is the pinned chart's
 * (kserve-runtime-configs v0.20.0) and the facts checked against it are KServe's.
 */
import { describe, expect, it } from "vitest";
import { chooseProtocol, deriveRuntimeCatalog, modelFormats, RUNTIME_CATALOG, type RuntimeCatalog } from "../../components/platform/addons/kserveRuntimes";

const runtime = (name: string, spec: Record<string, unknown>, annotations?: Record<string, string>) => ({
    kind: "ClusterServingRuntime",
    metadata: { name, ...(annotations ? { annotations } : {}) },
    spec,
});
const formats = (...fs: Array<[string, number?]>) => fs.map(([name, priority]) => ({ name, autoSelect: true, ...(priority === undefined ? {} : { priority }) }));

describe("deriveRuntimeCatalog", () => {
    it("keeps enabled single-node ClusterServingRuntimes with an auto-selected format, sorted by name", () => {
        const catalog = deriveRuntimeCatalog(
            [
                null,
                { kind: "ServingRuntime", metadata: { name: "namespaced" }, spec: { supportedModelFormats: formats(["x", 1]) } },
                runtime("zeta", { protocolVersions: ["v1"], supportedModelFormats: formats(["z", 1]) }),
                runtime("off", { disabled: true, protocolVersions: ["v1"], supportedModelFormats: formats(["gone", 1]) }),
                runtime("multinode", { protocolVersions: ["v2"], supportedModelFormats: formats(["huggingface", 2]), workerSpec: { containers: [] } }),
                runtime("manual", { protocolVersions: ["v1"], supportedModelFormats: [{ name: "manualfmt", autoSelect: false, priority: 3 }] }),
                { kind: "ClusterServingRuntime", metadata: { name: "nospec" } },
                runtime("alpha", { disabled: false, protocolVersions: ["v2"], supportedModelFormats: formats(["a", 1]) }),
            ],
            "chart@v1",
        );
        expect(catalog).toEqual({
            chart: "chart@v1",
            runtimes: [
                { name: "alpha", protocolVersions: ["v2"], priority: { a: 1 } },
                { name: "zeta", protocolVersions: ["v1"], priority: { z: 1 } },
            ],
        });
    });

    it("priority per format is the highest of its auto-selected entries; a missing priority counts as 0; manual entries are left out", () => {
        const catalog = deriveRuntimeCatalog(
            [
                runtime("rt", {
                    protocolVersions: ["v2"],
                    supportedModelFormats: [
                        { name: "onnx", autoSelect: true, priority: 1 },
                        { name: "onnx", autoSelect: true, priority: 3 },
                        { name: "onnx", autoSelect: true, priority: 2 },
                        { name: "tf", autoSelect: true },
                        { name: "tf", autoSelect: false, priority: 9 },
                        { name: "pt", autoSelect: false, priority: 9 },
                    ],
                }),
            ],
            "c",
        );
        expect(catalog.runtimes).toEqual([{ name: "rt", protocolVersions: ["v2"], priority: { onnx: 3, tf: 0 } }]);
    });

    it("a runtime without a protocolVersions list serves any protocol to KServe, not just v1; one without a name is kept nameless", () => {
        const catalog = deriveRuntimeCatalog([{ kind: "ClusterServingRuntime", spec: { supportedModelFormats: formats(["f", 1]), containers: [{ image: "kserve/x:1" }] } }], "c");
        expect(catalog.runtimes).toEqual([{ name: "", protocolVersions: ["v1", "v2", "grpc-v1", "grpc-v2"], priority: { f: 1 } }]);
    });

    it("gRPC port from --grpc-port/--grpc_port in the command or args, else MLSERVER_GRPC_PORT, else 8081 for KServe's own Python servers", () => {
        const f = formats(["f", 1]);
        const catalog = deriveRuntimeCatalog(
            [
                runtime("args-dash", { protocolVersions: ["v2"], supportedModelFormats: f, containers: [{ image: "x/triton:1", args: ["--model-store=/mnt/models", "--grpc-port=9000"] }] }),
                runtime("cmd-underscore", { protocolVersions: ["v2"], supportedModelFormats: f, containers: [{ image: "x/tf:1", command: ["/usr/bin/serve", "--grpc_port=8500"], args: ["--grpc_port=1"] }] }),
                runtime("env", { protocolVersions: ["v2"], supportedModelFormats: f, containers: [{ image: "x/mlserver:1", env: [{ name: "OTHER", value: "7" }, { name: "MLSERVER_GRPC_PORT", value: "9100" }] }] }),
                runtime("env-empty", { protocolVersions: ["v2"], supportedModelFormats: f, containers: [{ image: "x/mlserver:1", env: [{ name: "MLSERVER_GRPC_PORT", value: "" }] }] }),
                runtime("kserve-py", { protocolVersions: ["v1", "v2"], supportedModelFormats: f, containers: [{ image: "kserve/sklearnserver:v0.20.0" }] }, { "serving.kserve.io/server-type": "sklearnserver" }),
                runtime("py-foreign-image", { protocolVersions: ["v1"], supportedModelFormats: f, containers: [{ image: "example/sklearnserver:1" }] }, { "serving.kserve.io/server-type": "sklearnserver" }),
                runtime("py-no-image", { protocolVersions: ["v1"], supportedModelFormats: f, containers: [{}] }, { "serving.kserve.io/server-type": "sklearnserver" }),
                runtime("kserve-not-server", { protocolVersions: ["v1"], supportedModelFormats: f, containers: [{ image: "kserve/serverless:1" }] }, { "serving.kserve.io/server-type": "serverless" }),
                runtime("kserve-no-annotation", { protocolVersions: ["v1"], supportedModelFormats: f, containers: [{ image: "kserve/thing:1" }] }),
                runtime("no-container", { protocolVersions: ["v1"], supportedModelFormats: f }, { "serving.kserve.io/server-type": "sklearnserver" }),
                runtime("partial-flag", { protocolVersions: ["v1"], supportedModelFormats: f, containers: [{ image: "x:1", args: ["--grpc-port=9000ms", "x--grpc-port=9001", "--grpc-port="] }] }),
            ],
            "c",
        );
        const ports = Object.fromEntries(catalog.runtimes.map((r) => [r.name, r.grpcPort]));
        expect(ports).toEqual({
            "args-dash": 9000,
            "cmd-underscore": 8500,
            env: 9100,
            "env-empty": undefined,
            "kserve-py": 8081,
            "py-foreign-image": undefined,
            "py-no-image": undefined,
            "kserve-not-server": undefined,
            "kserve-no-annotation": undefined,
            "no-container": undefined,
            "partial-flag": undefined,
        });
        // No port: no grpcPort key at all (the committed JSON has none for such runtimes).
        expect(Object.keys(catalog.runtimes.find((r) => r.name === "env-empty")!)).toEqual(["name", "protocolVersions", "priority"]);
    });
});

describe("the committed catalog (kserve-runtime-configs v0.20.0)", () => {
    it("offers these model formats, sorted", () => {
        expect(modelFormats()).toEqual(["autogluon", "huggingface", "lightgbm", "mlflow", "onnx", "paddle", "pmml", "pytorch", "sklearn", "tensorflow", "tensorrt", "triton", "vLLM", "xgboost"]);
        expect(RUNTIME_CATALOG.chart).toBe("kserve-runtime-configs@v0.20.0");
    });

    it.each([
        ["huggingface", "v1", { protocolVersion: "v1", runtime: "kserve-huggingfaceserver" }],
        ["huggingface", "v2", { protocolVersion: "v2", runtime: "kserve-huggingfaceserver" }],
        // huggingfaceserver declares only v1/v2 but serves OIP gRPC on the Python server's port.
        ["huggingface", "grpc-v2", { protocolVersion: "v2", runtime: "kserve-huggingfaceserver", grpcPort: 8081 }],
        // MLServer has the higher priority for sklearn but serves no v1.
        ["sklearn", "v2", { protocolVersion: "v2", runtime: "kserve-mlserver" }],
        ["sklearn", "v1", { protocolVersion: "v1", runtime: "kserve-sklearnserver" }],
        ["sklearn", "grpc-v2", { protocolVersion: "v2", runtime: "kserve-mlserver", grpcPort: 9000 }],
        ["triton", "grpc-v2", { protocolVersion: "grpc-v2", runtime: "kserve-tritonserver", grpcPort: 9000 }],
    ] as const)("%s over %s → %o", (format, protocol, expected) => {
        expect(chooseProtocol(format, protocol)).toEqual(expected);
    });

    it("an unknown format lists the formats there are", () => {
        expect(chooseProtocol("caffe", "v1")).toEqual({
            error: 'no serving runtime auto-selects model format "caffe" (formats: autogluon, huggingface, lightgbm, mlflow, onnx, paddle, pmml, pytorch, sklearn, tensorflow, tensorrt, triton, vLLM, xgboost)',
        });
    });

    it("TorchServe declares grpc-v2 without a port in the chart: refused, pointing to REST", () => {
        expect(chooseProtocol("pytorch", "grpc-v2")).toEqual({ error: 'kserve-torchserve declares grpc-v2 but the chart does not say its gRPC port; serve "pytorch" over REST (v1 or v2)' });
    });

    it("Triton serves no v1: refused, naming the runtime and what it serves", () => {
        expect(chooseProtocol("triton", "v1")).toEqual({ error: 'the runtimes for "triton" (kserve-tritonserver) serve v2, grpc-v2, not v1' });
    });
});

describe("chooseProtocol on a hand-made catalog", () => {
    // Listed low priority first: the choice must come from the priority, not the order.
    const catalog: RuntimeCatalog = {
        chart: "test",
        runtimes: [
            { name: "low", protocolVersions: ["v1", "v2"], priority: { fmt: 1, solo: 1 }, grpcPort: 8081 },
            { name: "high", protocolVersions: ["v2", "grpc-v2"], priority: { fmt: 5 }, grpcPort: 9000 },
            { name: "mid", protocolVersions: ["v2"], priority: { fmt: 3 }, grpcPort: 7000 },
            { name: "restonly", protocolVersions: ["v1", "v2"], priority: { plain: 2 } },
            { name: "v1grpc", protocolVersions: ["v1"], priority: { plain: 1 }, grpcPort: 8081 },
        ],
    };

    it.each([
        ["fmt", "v1", { protocolVersion: "v1", runtime: "low" }],
        ["fmt", "v2", { protocolVersion: "v2", runtime: "high" }],
        ["fmt", "grpc-v2", { protocolVersion: "grpc-v2", runtime: "high", grpcPort: 9000 }],
        ["solo", "grpc-v2", { protocolVersion: "v2", runtime: "low", grpcPort: 8081 }],
    ] as const)("%s over %s → %o", (format, protocol, expected) => {
        expect(chooseProtocol(format, protocol, catalog)).toEqual(expected);
    });

    it("the highest-priority REST runtime with a gRPC port serves gRPC when none declares grpc-v2", () => {
        const rest: RuntimeCatalog = {
            chart: "t",
            runtimes: [
                { name: "a", protocolVersions: ["v2"], priority: { f: 1 }, grpcPort: 1001 },
                { name: "b", protocolVersions: ["v2"], priority: { f: 4 }, grpcPort: 1004 },
                { name: "c", protocolVersions: ["v2"], priority: { f: 2 }, grpcPort: 1002 },
            ],
        };
        expect(chooseProtocol("f", "grpc-v2", rest)).toEqual({ protocolVersion: "v2", runtime: "b", grpcPort: 1004 });
        expect(chooseProtocol("f", "v2", rest)).toEqual({ protocolVersion: "v2", runtime: "b" });
    });

    it("gRPC needs a v2 runtime with a port: a v2 runtime without one and a v1 runtime with one do not do", () => {
        expect(chooseProtocol("plain", "grpc-v2", catalog)).toEqual({ error: 'the runtimes for "plain" (restonly, v1grpc) serve v1, v2, not grpc-v2' });
    });

    it("an empty catalog has no formats to list", () => {
        expect(chooseProtocol("fmt", "v1", { chart: "none", runtimes: [] })).toEqual({ error: 'no serving runtime auto-selects model format "fmt" (formats: )' });
        expect(modelFormats({ chart: "none", runtimes: [] })).toEqual([]);
    });
});
