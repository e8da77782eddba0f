import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { serverArgs, type ServerArgsInput } from "../../components/workloads/llm/engines";
import { ConfigError, parseStackConfig } from "../../infra/config/load";
import { inventory, manifestsYaml } from "../../infra/plan/report";
import { REPO_ROOT } from "../../infra/plan/render";
import { OFFLINE_SECRET_PLACEHOLDER } from "../../infra/plan/stackFile";
import { childrenOf, dependsOn, one, ofType, renderConfig, renderStackFile, type Rendering } from "../harness/render";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- deep reads of rendered specs
type Json = Record<string, any>;

let dev: Rendering;
let prod: Rendering;
beforeAll(async () => {
    dev = await renderStackFile("dev");
    prod = await renderStackFile("prod");
});

const deployment = (r: Rendering, variant: string) => one(r, "kubernetes:apps/v1:Deployment", `llm-${variant}`).inputs as Json;
const container = (r: Rendering, variant: string) => deployment(r, variant).spec.template.spec.containers[0] as Json;

/** Parse a config the way the program does and return its problems and warnings. */
function check(config: Record<string, unknown>) {
    const raw: Record<string, string> = { "aws:region": "us-east-1", "mlserve:lifecycle": JSON.stringify({ owner: "test-owner" }) };
    for (const [k, v] of Object.entries(config)) raw[k] = JSON.stringify(v);
    try {
        const { warnings } = parseStackConfig(raw, { project: "mlserve", stack: "dev", source: "test" });
        return { problems: [] as { path: string; message: string }[], warnings };
    } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        return { problems: err.problems, warnings: [] as string[] };
    }
}
/** A fleet config; the async path (TGI-only) is turned off when no variant runs TGI, as a user would have to. */
const variants = (...vs: Record<string, unknown>[]) => ({
    "mlserve:variants": vs,
    ...(vs.some((v) => (v.engine ?? "tgi") === "tgi") ? {} : { "mlserve:async": { enabled: false } }),
});

describe("variant validation (engine knowledge)", () => {
    it("dtype together with quantize is an error", () => {
        const { problems } = check(variants({ name: "a", quantize: "eetq", dtype: "float16" }));
        expect(problems).toEqual([expect.objectContaining({ path: "mlserve:variants[0].dtype", message: expect.stringMatching(/cannot be combined with quantize "eetq"/) })]);
    });

    it("dtype alone is fine", () => {
        expect(check(variants({ name: "a", dtype: "bfloat16" })).problems).toEqual([]);
    });

    it("an unknown quantize value lists the allowed ones", () => {
        const { problems } = check(variants({ name: "a", quantize: "int4" }));
        expect(problems[0]!.path).toBe("mlserve:variants[0].quantize");
        expect(problems[0]!.message).toMatch(/"none".*"awq".*"eetq".*"bitsandbytes-nf4".*"fp8"/);
    });

    it("awq with a model that is not an AWQ checkpoint is a warning, not an error", () => {
        const plain = check(variants({ name: "a", quantize: "awq" }));
        expect(plain.problems).toEqual([]);
        expect(plain.warnings.join("\n")).toMatch(/variants\[0\]\.modelId .*pre-quantized checkpoint/);
        const awq = check(variants({ name: "a", quantize: "awq", modelId: "someorg/Phi-3.5-mini-instruct-AWQ" }));
        expect(awq.warnings.join("\n")).not.toMatch(/pre-quantized/);
    });

    it("fp8 on an A10G warns that it is FP8 weights with FP16 compute; on an L4 it does not; on a T4 it cannot run", () => {
        expect(check(variants({ name: "a", quantize: "fp8" })).warnings.join("\n")).toMatch(/fp8 on A10G \(Ampere\) runs FP8 weights with FP16 compute/);
        expect(check({ ...variants({ name: "a", quantize: "fp8" }), "mlserve:gpuNodes": { instanceType: "g6.xlarge" } }).warnings.join("\n")).not.toMatch(/fp8/);
        const t4 = check({ ...variants({ name: "a", quantize: "fp8" }), "mlserve:gpuNodes": { instanceType: "g4dn.xlarge" } });
        expect(t4.problems).toEqual([expect.objectContaining({ path: "mlserve:variants[0].quantize", message: expect.stringMatching(/compute capability 8\.0\+\); T4 is 7\.5/) })]);
    });

    it("bitsandbytes 8-bit warns about CUDA graphs and deprecation", () => {
        expect(check(variants({ name: "a", quantize: "bitsandbytes" })).warnings.join("\n")).toMatch(/disables CUDA graphs and is deprecated upstream in favour of eetq/);
    });

    it("vLLM refuses TGI-only modes and names what it can run", () => {
        const { problems } = check(variants({ name: "a", engine: "vllm", quantize: "eetq" }));
        expect(problems[0]).toMatchObject({ path: "mlserve:variants[0].quantize" });
        expect(problems[0]!.message).toMatch(/TGI mode vLLM cannot run; with engine vllm use one of: none, awq, gptq/);
        expect(check(variants({ name: "a", engine: "vllm", quantize: "bitsandbytes-nf4" })).problems).toEqual([]);
    });

    it("token limits must be consistent", () => {
        const { problems } = check(variants({ name: "a", maxInputTokens: 4096, maxTotalTokens: 4096, maxBatchPrefillTokens: 2048 }));
        expect(problems.map((p) => p.path).sort()).toEqual(["mlserve:variants[0].maxBatchPrefillTokens", "mlserve:variants[0].maxInputTokens"]);
    });

    it("variant names are unique DNS labels", () => {
        const { problems } = check(variants({ name: "a" }, { name: "a" }, { name: "Bad_Name" }));
        expect(problems.map((p) => p.path).sort()).toEqual(["mlserve:variants[1].name", "mlserve:variants[2].name"]);
    });

    it("running variants must fit the GPU node group (single-GPU budget)", () => {
        const { problems } = check({ ...variants({ name: "a", replicas: 1 }, { name: "b", replicas: 1 }), "mlserve:gpuNodes": { maxSize: 1 } });
        expect(problems).toEqual([expect.objectContaining({ path: "mlserve:variants", message: expect.stringMatching(/need 2 GPU\(s\) but mlserve:gpuNodes allows at most 1/) })]);
        // The same six variants fit when only one runs.
        expect(check({ ...variants({ name: "a", replicas: 1 }, { name: "b", replicas: 0 }), "mlserve:gpuNodes": { maxSize: 1 } }).problems).toEqual([]);
    });

    it("autoscaling needs KEDA and Prometheus, and a max at least the minimum", () => {
        const { problems } = check({
            ...variants({ name: "a", replicas: 2, autoscaling: { enabled: true, maxReplicas: 1 } }),
            "mlserve:addons": { keda: { enabled: false } },
            "mlserve:async": { enabled: false },
            "mlserve:gpuNodes": { maxSize: 4 },
        });
        expect(problems.map((p) => p.path).sort()).toEqual(["mlserve:variants[0].autoscaling.enabled", "mlserve:variants[0].autoscaling.maxReplicas"]);
    });
});

describe("container arguments", () => {
    const base: ServerArgsInput = {
        engine: "tgi",
        modelId: "microsoft/Phi-3.5-mini-instruct",
        quantize: "none",
        servedModelName: "phi",
        gracefulTerminationSeconds: 100,
        options: { maxInputTokens: 2048, maxTotalTokens: 4096, maxConcurrentRequests: 128, maxBatchPrefillTokens: 4096, gpuMemoryUtilization: 0.9 },
    };
    const flag = (args: string[], name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);

    it.each(["eetq", "fp8", "bitsandbytes", "bitsandbytes-nf4", "bitsandbytes-fp4", "awq", "gptq", "marlin"] as const)("TGI %s passes --quantize %s", (mode) => {
        expect(flag(serverArgs({ ...base, quantize: mode }), "--quantize")).toBe(mode);
    });

    it("TGI unquantized passes no --quantize; usage stats are off; limits are passed", () => {
        const args = serverArgs(base);
        expect(args).not.toContain("--quantize");
        expect(flag(args, "--usage-stats")).toBe("off");
        expect(flag(args, "--max-total-tokens")).toBe("4096");
        expect(flag(args, "--max-batch-prefill-tokens")).toBe("4096");
        expect(flag(args, "--port")).toBe("80");
    });

    it("vLLM gets its own flags: --quantization, --max-model-len, --max-num-seqs", () => {
        const args = serverArgs({ ...base, engine: "vllm", quantize: "bitsandbytes-nf4" });
        expect(flag(args, "--quantization")).toBe("bitsandbytes");
        expect(flag(args, "--max-model-len")).toBe("4096");
        expect(flag(args, "--max-num-seqs")).toBe("128");
        expect(flag(args, "--port")).toBe("8000");
        expect(() => serverArgs({ ...base, engine: "vllm", quantize: "eetq" })).toThrow(/vLLM cannot run/);
    });

    it("vLLM gets no deprecated flag (--disable-log-requests is deprecated in 0.11 and removed later)", () => {
        const args = serverArgs({ ...base, engine: "vllm" });
        expect(args.filter((a) => ["--disable-log-requests", "--disable-log-stats"].includes(a))).toEqual([]);
    });

    it("the rendered dev fleet has one server per variant with the right mode", () => {
        const expected: Record<string, string | undefined> = { fp16: undefined, eetq: "eetq", fp8: "fp8", int8: "bitsandbytes", nf4: "bitsandbytes-nf4", fp4: "bitsandbytes-fp4" };
        for (const [variant, mode] of Object.entries(expected)) {
            expect(flag(container(dev, variant).args, "--quantize"), variant).toBe(mode);
            expect(container(dev, variant).image).toBe("ghcr.io/huggingface/text-generation-inference:3.3.7");
        }
        expect(container(dev, "vllm-fp16").image).toBe("vllm/vllm-openai:v0.11.0");
    });
});

describe("per-variant server", () => {
    it("requests a GPU and lands only on tainted GPU nodes", () => {
        const spec = deployment(dev, "eetq").spec.template.spec;
        expect(spec.nodeSelector).toEqual({ "mlserve.io/node-pool": "gpu" });
        expect(spec.tolerations).toEqual([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
        const c = container(dev, "eetq");
        expect(c.resources.requests["nvidia.com/gpu"]).toBe("1");
        expect(c.resources.limits["nvidia.com/gpu"]).toBe("1");
        expect(c.resources.limits.memory).toBe("48Gi");
    });

    it("mounts a RAM-backed /dev/shm and a model cache shared on the node", () => {
        const spec = deployment(dev, "fp16").spec.template.spec;
        expect(spec.volumes).toEqual(
            expect.arrayContaining([
                { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "1Gi" } },
                { name: "model-cache", hostPath: { path: "/var/lib/mlserve/hf-cache", type: "DirectoryOrCreate" } },
            ]),
        );
        expect(container(dev, "fp16").volumeMounts).toEqual(expect.arrayContaining([{ name: "shm", mountPath: "/dev/shm" }, { name: "model-cache", mountPath: "/data" }]));
        expect(container(dev, "fp16").env).toEqual(expect.arrayContaining([{ name: "HF_HOME", value: "/data" }]));
    });

    it("a PVC cache gives each variant its own gp3 claim", async () => {
        const r = await renderConfig({ "mlserve:fleet": { modelCache: "pvc", cacheSizeGiB: 50 }, ...variants({ name: "a", replicas: 1 }) });
        const claim = one(r, "kubernetes:core/v1:PersistentVolumeClaim").inputs as Json;
        expect(claim.spec).toMatchObject({ storageClassName: "gp3", resources: { requests: { storage: "50Gi" } } });
        expect(deployment(r, "a").spec.template.spec.volumes[1]).toEqual({ name: "model-cache", persistentVolumeClaim: { claimName: "llm-a-cache" } });
    });

    it("probes are sized for model loading; termination is graceful", () => {
        const c = container(dev, "fp16");
        expect(c.startupProbe.httpGet).toEqual({ path: "/health", port: "http" });
        // 20 minutes for a cold download and load of the weights (README, "How long `pulumi up` waits").
        expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBe(20 * 60);
        expect(c.readinessProbe.httpGet.path).toBe("/health");
        expect(c.livenessProbe.failureThreshold * c.livenessProbe.periodSeconds).toBeGreaterThanOrEqual(60);
        expect(c.lifecycle.preStop.exec.command).toEqual(["sleep", "10"]);
        const grace = deployment(dev, "fp16").spec.template.spec.terminationGracePeriodSeconds;
        const tgiGrace = Number(c.args[c.args.indexOf("--graceful-termination-timeout") + 1]);
        expect(tgiGrace).toBeLessThan(grace);
    });

    it("pods carry the scrape labels and a port named http (Prometheus scraping)", () => {
        const labels = deployment(dev, "eetq").spec.template.metadata.labels;
        expect(labels).toMatchObject({ "mlserve.io/engine": "tgi", "mlserve.io/variant": "eetq" });
        expect(container(dev, "eetq").ports).toEqual([{ name: "http", containerPort: 80, protocol: "TCP" }]);
        expect(container(dev, "vllm-fp16").ports[0].containerPort).toBe(8000);
    });

    it("parked variants keep their Deployment at 0 replicas; single-replica variants get no PDB", () => {
        expect(deployment(dev, "eetq").spec.replicas).toBe(0);
        expect(deployment(dev, "fp16").spec.replicas).toBe(1);
        expect(ofType(dev, "kubernetes:policy/v1:PodDisruptionBudget").filter((p) => String(p.name).startsWith("llm-"))).toEqual([]);
        expect(ofType(prod, "kubernetes:policy/v1:PodDisruptionBudget").map((p) => p.name).filter((n) => n.startsWith("llm-")).sort()).toEqual(["llm-eetq", "llm-fp16"]);
    });
});

describe("Hugging Face token", () => {
    const secure = { "mlserve:hfToken": { secure: "v1:ZW5jcnlwdGVkLXRva2Vu" } };

    it("comes from a Pulumi config secret into a Kubernetes Secret, referenced by env, never in plan files", async () => {
        const r = await renderConfig({ ...secure, ...variants({ name: "a", replicas: 1 }) });
        const secret = one(r, "kubernetes:core/v1:Secret");
        expect((secret.inputs as Json).stringData).toBe("[secret]");
        expect(container(r, "a").env).toEqual(expect.arrayContaining([{ name: "HF_TOKEN", valueFrom: { secretKeyRef: { name: "hf-token", key: "token" } } }]));
        const files = JSON.stringify(inventory(r)) + manifestsYaml(r.resources);
        expect(files).not.toContain(OFFLINE_SECRET_PLACEHOLDER);
        expect(dependsOn(r, one(r, "kubernetes:apps/v1:Deployment", "llm-a"), secret)).toBe(true);
    });

    it("a token stored in plain text is refused without echoing it", async () => {
        const error = (await renderConfig({ "mlserve:hfToken": "hf_plaintexttoken" }).catch((e: unknown) => e)) as ConfigError;
        expect(error).toBeInstanceOf(ConfigError);
        expect(error.problems).toEqual([{ path: "mlserve:hfToken", message: expect.stringMatching(/pulumi config set --secret mlserve:hfToken/) }]);
        expect(error.message).not.toContain("hf_plaintexttoken");
    });

    it("without a token there is no Secret and no HF_TOKEN env", () => {
        expect(ofType(dev, "kubernetes:core/v1:Secret")).toEqual([]);
        expect(container(dev, "fp16").env.map((e: { name: string }) => e.name)).not.toContain("HF_TOKEN");
    });

    it("the plan files and output of a stack with a token hold no token (CLI end to end)", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlserve-secret-"));
        const dev = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.dev.yaml"), "utf8");
        fs.writeFileSync(path.join(dir, "Pulumi.tok.yaml"), `${dev.trimEnd()}\n  mlserve:hfToken:\n    secure: ${secure["mlserve:hfToken"].secure}\n`);
        const run = spawnSync(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "infra", "plan", "cli.ts"), "--stack", "tok", "--dir", dir, "--out", path.join(dir, "out")], {
            cwd: REPO_ROOT,
            encoding: "utf8",
        });
        expect(run.status, run.stderr).toBe(0);
        const files = fs.readdirSync(path.join(dir, "out")).map((f) => path.join(dir, "out", f));
        expect(files.map((f) => path.basename(f)).sort()).toEqual(["cost.json", "inventory.json", "manifests.yaml"]);
        // The Secret and the env reference are there; the token (the offline placeholder) is not, anywhere.
        const manifests = fs.readFileSync(path.join(dir, "out", "manifests.yaml"), "utf8");
        expect(manifests).toContain("name: hf-token");
        // Nor the ciphertext from the stack file, nor what it decodes to.
        for (const text of [run.stdout, run.stderr, ...files.map((f) => fs.readFileSync(f, "utf8"))]) {
            expect(text).not.toContain(OFFLINE_SECRET_PLACEHOLDER);
            expect(text).not.toContain("ZW5jcnlwdGVkLXRva2Vu");
            expect(text).not.toContain("encrypted-token");
        }
        fs.rmSync(dir, { recursive: true });
    });
});

describe("autoscaling", () => {
    it("prod scales fp16 and eetq on queue depth through KEDA's Prometheus scaler", () => {
        const scalers = ofType(prod, "kubernetes:keda.sh/v1alpha1:ScaledObject").map((s) => s.inputs as Json).filter((s) => s.metadata.name.startsWith("llm-"));
        expect(scalers.map((s) => s.metadata.name).sort()).toEqual(["llm-eetq", "llm-fp16"]);
        const fp16 = scalers.find((s) => s.metadata.name === "llm-fp16")!;
        expect(fp16.spec).toMatchObject({
            scaleTargetRef: { name: "llm-fp16" },
            minReplicaCount: 1,
            maxReplicaCount: 3,
            triggers: [
                {
                    type: "prometheus",
                    metadata: { serverAddress: "http://kps-prometheus.monitoring.svc.cluster.local:9090", query: 'sum(tgi_queue_size{mlserve_io_variant="fp16"})', threshold: "8" },
                },
            ],
        });
    });

    it("the queue-depth label exists: the engine PodMonitor copies mlserve.io/variant onto metrics", () => {
        const monitor = ofType(prod, "kubernetes:monitoring.coreos.com/v1:PodMonitor").find((m) => (m.inputs.metadata as Json).name === "llm-engines")!;
        expect((monitor.inputs.spec as Json).podTargetLabels).toEqual(["mlserve.io/variant"]);
    });

    it("vLLM variants scale on waiting requests", async () => {
        const r = await renderConfig({ ...variants({ name: "v", engine: "vllm", replicas: 1, autoscaling: { enabled: true } }), "mlserve:gpuNodes": { maxSize: 2 } });
        expect((one(r, "kubernetes:keda.sh/v1alpha1:ScaledObject", "llm-v-scaler").inputs as Json).spec.triggers[0].metadata.query).toBe('sum(vllm:num_requests_waiting{mlserve_io_variant="v"})');
    });

    it("scalers wait for KEDA and Prometheus; KEDA owns the replica count", () => {
        const scaler = one(prod, "kubernetes:keda.sh/v1alpha1:ScaledObject", "llm-fp16-scaler");
        const kedaRelease = ofType(prod, "kubernetes:helm.sh/v3:Release").find((r) => r.inputs.name === "keda")!;
        const promRelease = ofType(prod, "kubernetes:helm.sh/v3:Release").find((r) => r.inputs.name === "kube-prometheus-stack")!;
        expect(dependsOn(prod, scaler, kedaRelease)).toBe(true);
        expect(dependsOn(prod, scaler, promRelease)).toBe(true);
    });

    it("parked variants get no scaler", () => {
        expect(ofType(dev, "kubernetes:keda.sh/v1alpha1:ScaledObject").filter((s) => s.name.startsWith("llm-"))).toEqual([]);
    });
});

describe("endpoints", () => {
    it("exports base URL, engine, model, quantization, replicas and routes per variant", () => {
        const endpoints = dev.outputs.variants!.value as Record<string, Json>;
        expect(Object.keys(endpoints)).toEqual(["fp16", "eetq", "fp8", "int8", "nf4", "fp4", "vllm-fp16"]);
        expect(endpoints.eetq).toEqual({
            baseUrl: "http://llm-eetq.llm.svc.cluster.local",
            engine: "tgi",
            model: "microsoft/Phi-3.5-mini-instruct",
            quantize: "eetq",
            replicas: 0,
            routes: { generate: "/generate", generateStream: "/generate_stream", chatCompletions: "/v1/chat/completions", completions: "/v1/completions", health: "/health", info: "/info", metrics: "/metrics" },
        });
        expect(endpoints["vllm-fp16"]!.routes).not.toHaveProperty("generate");
    });

    it("each variant's Service selects only its own pods", () => {
        for (const v of ["fp16", "eetq"]) {
            const svc = one(dev, "kubernetes:core/v1:Service", `llm-${v}`).inputs as Json;
            const labels = deployment(dev, v).spec.template.metadata.labels;
            for (const [k, val] of Object.entries(svc.spec.selector)) expect(labels[k]).toBe(val);
            expect(svc.spec.selector["mlserve.io/variant"]).toBe(v);
        }
        const fleet = one(dev, "mlserve:llm:Fleet");
        expect(childrenOf(dev, fleet).filter((c) => c.type === "mlserve:llm:Variant")).toHaveLength(7);
    });
});
