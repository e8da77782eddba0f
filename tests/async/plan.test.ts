/** What the stack renders for the async path: AWS resources, IAM, Kubernetes objects, scaling. */
import { beforeAll, describe, expect, it } from "vitest";
import { ASYNC_BUILD_INPUTS } from "../../components/workloads/async/images";
import { buildContextFiles, contentTag } from "../../components/workloads/image";
import { REPO_ROOT } from "../../infra/plan/render";
import { buildServices } from "../../services/build";
import { isWildcardResource } from "../../policy/rules";
import { dependsOn, one, ofType, renderConfig, renderStackFile, type Rendering } from "../harness/render";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- deep reads of rendered specs
type Json = Record<string, any>;

let dev: Rendering;
beforeAll(async () => {
    dev = await renderStackFile("dev");
});

/** The async services' images (other workloads build their own). */
const asyncImages = (r: Rendering) => ofType(r, "docker-build:index:Image").filter((i) => i.name.startsWith(`mlserve-${r.stack}-async-`));
const queue = (r: Rendering, n: string) => one(r, "aws:sqs/queue:Queue", `mlserve-${r.stack}-async-${n}`);
const env = (d: Json) => Object.fromEntries((d.spec.template.spec.containers[0].env as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]));

describe("queues and bucket", () => {
    it("the job queue is encrypted, redrives to the DLQ after maxReceiveCount, and its visibility covers the slowest job", () => {
        const q = queue(dev, "jobs").inputs as Json;
        expect(q.sqsManagedSseEnabled).toBe(true);
        expect(JSON.parse(q.redrivePolicy)).toEqual({ deadLetterTargetArn: queue(dev, "dlq").state.arn, maxReceiveCount: 5 });
        // 3 attempts × 120 s + 60 s of backoff.
        expect(q.visibilityTimeoutSeconds).toBe(420);
        expect((queue(dev, "dlq").inputs as Json).sqsManagedSseEnabled).toBe(true);
    });

    it("the bucket is KMS-encrypted, blocks public access, enforces ownership and expires jobs, payloads and results", () => {
        const bucket = one(dev, "aws:s3/bucket:Bucket", "mlserve-dev-async-jobs");
        const sse = one(dev, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "mlserve-dev-async-jobs-sse").inputs as Json;
        expect(sse).toMatchObject({ bucket: bucket.state.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }] });
        expect(one(dev, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "mlserve-dev-async-jobs-public-access").inputs).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
        const rules = (one(dev, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs as Json).rules;
        expect(rules.map((r: Json) => [r.filter.prefix, r.expiration.days])).toEqual([["jobs/", 7], ["requests/", 7], ["results/", 7]]);
    });
});

describe("IAM: least privilege, bound by Pod Identity", () => {
    const policyOf = (svc: string) => JSON.parse(String(one(dev, "aws:iam/rolePolicy:RolePolicy", `mlserve-dev-async-async-${svc}`).inputs.policy));

    it("the gateway may send to the queue and write (or withdraw) jobs/requests, read results; nothing else", () => {
        const p = policyOf("gateway");
        const q = queue(dev, "jobs").state.arn as string;
        const b = one(dev, "aws:s3/bucket:Bucket", "mlserve-dev-async-jobs").state.arn as string;
        expect(p.Statement).toEqual([
            { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: q },
            { Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"], Resource: [`${b}/jobs/*`, `${b}/requests/*`] },
            { Effect: "Allow", Action: ["s3:GetObject"], Resource: `${b}/results/*` },
            { Effect: "Allow", Action: ["s3:ListBucket"], Resource: b, Condition: { StringLikeIfExists: { "s3:prefix": ["jobs/*", "results/*"] } } },
        ]);
    });

    it("the worker may consume the queue, dead-letter to and read the DLQ (to end those jobs as failed), read payloads and write results", () => {
        const on = (arn: unknown) => policyOf("worker").Statement.filter((s: Json) => s.Resource === arn).flatMap((s: Json) => s.Action).sort();
        expect(on(queue(dev, "jobs").state.arn)).toEqual(["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]);
        expect(on(queue(dev, "dlq").state.arn)).toEqual(["sqs:ChangeMessageVisibility", "sqs:ReceiveMessage", "sqs:SendMessage"]);
        const actions = policyOf("worker").Statement.flatMap((s: Json) => s.Action);
        expect(actions.filter((a: string) => a.startsWith("s3:")).sort()).toEqual(["s3:GetObject", "s3:GetObject", "s3:ListBucket", "s3:PutObject"]);
    });

    it("no async policy has a wildcard resource (object keys under a fixed prefix are scoped)", () => {
        for (const svc of ["gateway", "worker"]) {
            for (const st of policyOf(svc).Statement) expect([st.Resource].flat().filter(isWildcardResource)).toEqual([]);
        }
    });

    it("each role is bound to its service account in the async namespace", () => {
        for (const svc of ["gateway", "worker"]) {
            const a = one(dev, "aws:eks/podIdentityAssociation:PodIdentityAssociation", `mlserve-dev-async-async-${svc}`).inputs;
            expect(a).toMatchObject({ clusterName: "mlserve-dev", namespace: "async", serviceAccount: `async-${svc}`, roleArn: one(dev, "aws:iam/role:Role", `mlserve-dev-async-async-${svc}`).state.arn });
        }
        const inAsync = ofType(dev, "kubernetes:core/v1:ServiceAccount").filter((s) => (s.inputs.metadata as Json).namespace === "async");
        expect(inAsync.map((s) => (s.inputs.metadata as Json).name).sort()).toEqual(["async-gateway", "async-worker"]);
    });
});

describe("Kubernetes", () => {
    it("the gateway: Deployment (replicas owned by its CPU HPA), Service, env pointing at the queue and bucket", () => {
        const d = one(dev, "kubernetes:apps/v1:Deployment", "mlserve-dev-async-gateway").inputs as Json;
        expect(d.spec.replicas).toBeUndefined();
        expect(env(d)).toMatchObject({ QUEUE_URL: queue(dev, "jobs").state.url, BUCKET: one(dev, "aws:s3/bucket:Bucket", "mlserve-dev-async-jobs").state.bucket, VARIANTS: "fp16,eetq,fp8,int8,nf4,fp4" });
        // Each variant's own token limits, for the gateway's check at submit.
        expect(JSON.parse(String(env(d).VARIANT_LIMITS))).toMatchObject({ fp16: { maxInputTokens: 2048, maxTotalTokens: 4096 } });
        expect((one(dev, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "mlserve-dev-async-gateway").inputs as Json).spec).toMatchObject({ minReplicas: 2, maxReplicas: 5, scaleTargetRef: { name: "async-gateway" } });
        expect(dev.outputs.endpoints!.value).toMatchObject({ asyncGateway: "http://async-gateway.async.svc.cluster.local" });
    });

    it("the worker: no replicas (KEDA owns them), model endpoints of the fleet, a grace period longer than a model call", () => {
        const d = one(dev, "kubernetes:apps/v1:Deployment", "mlserve-dev-async-worker").inputs as Json;
        expect(d.spec.replicas).toBeUndefined();
        const e = env(d);
        expect(JSON.parse(e.MODEL_ENDPOINTS!)).toMatchObject({ fp16: "http://llm-fp16.llm.svc.cluster.local", eetq: "http://llm-eetq.llm.svc.cluster.local" });
        expect(e).toMatchObject({ DLQ_URL: queue(dev, "dlq").state.url, MAX_RECEIVE_COUNT: "5", MODEL_TIMEOUT_MS: "120000" });
        const grace = d.spec.template.spec.terminationGracePeriodSeconds;
        expect(grace).toBeGreaterThan(120);
        expect(Number(e.SHUTDOWN_GRACE_MS)).toBeLessThan(grace * 1000);
    });

    it("KEDA scales the worker from zero on queue depth, with the operator's AWS identity", () => {
        const so = one(dev, "kubernetes:keda.sh/v1alpha1:ScaledObject", "mlserve-dev-async-worker-scaler");
        expect((so.inputs as Json).spec).toEqual({
            scaleTargetRef: { name: "async-worker" },
            minReplicaCount: 0,
            maxReplicaCount: 4,
            pollingInterval: 10,
            cooldownPeriod: 120,
            triggers: [
                {
                    type: "aws-sqs-queue",
                    metadata: { queueURL: queue(dev, "jobs").state.url, awsRegion: "us-east-1", queueLength: "5", activationQueueLength: "0", scaleOnInFlight: "true" },
                    authenticationRef: { name: "aws-pod-identity", kind: "ClusterTriggerAuthentication" },
                },
            ],
        });
        const auth = one(dev, "kubernetes:keda.sh/v1alpha1:ClusterTriggerAuthentication");
        expect(dependsOn(dev, so, auth)).toBe(true);
    });

    it("queue length and activation come from config", async () => {
        const r = await renderConfig({ "mlserve:async": { worker: { messagesPerReplica: 20, activationMessages: 3, maxReplicas: 10 } } });
        const meta = ((one(r, "kubernetes:keda.sh/v1alpha1:ScaledObject", "mlserve-test-async-worker-scaler").inputs as Json).spec);
        expect(meta).toMatchObject({ maxReplicaCount: 10, triggers: [{ metadata: { queueLength: "20", activationQueueLength: "3" } }] });
    });
});

describe("images", () => {
    it("without image refs, the stack builds both services into ECR and deploys them by digest", () => {
        const images = asyncImages(dev);
        expect(images.map((i) => [(i.inputs.dockerfile as Json).location.replace(/.*services\//, "services/"), (i.inputs.buildArgs as Json).SERVICE])).toEqual([
            ["services/Dockerfile", "gateway"],
            ["services/Dockerfile", "worker"],
        ]);
        for (const i of images) expect(i.inputs).toMatchObject({ push: true, platforms: ["linux/amd64"] });
        const gatewayImage = (one(dev, "kubernetes:apps/v1:Deployment", "mlserve-dev-async-gateway").inputs as Json).spec.template.spec.containers[0].image;
        expect(gatewayImage).toMatch(/\.dkr\.ecr\.us-east-1\.amazonaws\.com\/.+@sha256:[0-9a-f]{64}$/);
        // The registry password is a secret; it never reaches the plan files.
        for (const i of images) expect(JSON.stringify(i.inputs)).not.toContain("offline-placeholder-token");
    });

    it("tags are content-addressed: immutable repositories accept every rebuild, and an unchanged service keeps its tag", () => {
        const repos = ofType(dev, "aws:ecr/repository:Repository").filter((x) => x.name.startsWith("mlserve-dev-async-"));
        expect(repos).toHaveLength(2);
        for (const r of repos) expect(r.inputs.imageTagMutability).toBe("IMMUTABLE");
        const tags = asyncImages(dev).map((i) => String((i.inputs.tags as string[])[0]).split(":").pop());
        const files = buildContextFiles(REPO_ROOT, ASYNC_BUILD_INPUTS);
        expect(tags).toEqual([contentTag("gateway", files), contentTag("worker", files)]);
        for (const t of tags) expect(t).toMatch(/^(gateway|worker)-[0-9a-f]{16}$/);
    });

    it("the content tag is sha256 over the service name and each file's path, length and bytes, in path order", () => {
        // Computed independently: python3 -c "import hashlib; h=hashlib.sha256(b'service=gateway\x00'); ..."
        // over b'a.txt\x001\x00' b'x' (and b'b.txt\x002\x00' b'yy' before it is sorted), first 16 hex digits.
        expect(contentTag("gateway", [{ path: "a.txt", content: "x" }])).toBe("gateway-db427a75f46aae92");
        expect(contentTag("gateway", [{ path: "b.txt", content: "yy" }, { path: "a.txt", content: "x" }])).toBe("gateway-b8f35184de47cc3a");
    });

    it("contentTag changes with any byte of any build input, and not with file order", () => {
        const files = [
            { path: "services/worker/worker.ts", content: "export const a = 1;" },
            { path: "package-lock.json", content: "{}" },
        ];
        const tag = contentTag("worker", files);
        expect(contentTag("worker", [...files].reverse())).toBe(tag);
        expect(contentTag("worker", [files[0]!, { ...files[1]!, content: "{ }" }])).not.toBe(tag);
        expect(contentTag("worker", [{ ...files[0]!, path: "services/worker/other.ts" }, files[1]!])).not.toBe(tag);
        expect(contentTag("gateway", files)).not.toBe(tag);
        // The walk covers what the Dockerfile copies: the lockfile and every service source.
        const paths = buildContextFiles(REPO_ROOT, ASYNC_BUILD_INPUTS).map((f) => f.path);
        expect(paths).toEqual(expect.arrayContaining(["package-lock.json", "services/Dockerfile", "services/worker/worker.ts", "services/gateway/app.ts"]));
    });

    it("given pinned refs, nothing is built", async () => {
        const r = await renderConfig({ "mlserve:async": { images: { gateway: "registry.example.com/gw:1.0.0", worker: "registry.example.com/wk:1.0.0" } } });
        expect(asyncImages(r)).toEqual([]);
        expect(ofType(r, "aws:ecr/repository:Repository")).toEqual([]);
        expect((one(r, "kubernetes:apps/v1:Deployment", "mlserve-test-async-worker").inputs as Json).spec.template.spec.containers[0].image).toBe("registry.example.com/wk:1.0.0");
    });

    it("the bundle each image runs starts with Node alone and rejects a bad environment with a clear message", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlserve-bundle-"));
        const [gateway, worker] = await buildServices(dir);
        for (const file of [gateway!, worker!]) {
            const r = spawnSync(process.execPath, [file], { env: { PATH: process.env.PATH ?? "" }, encoding: "utf8", timeout: 30_000, cwd: dir });
            expect(r.status).toBe(2);
            expect(r.stderr).toMatch(/invalid environment\n {2}- QUEUE_URL/);
        }
        fs.rmSync(dir, { recursive: true });
    });
});

describe("config", () => {
    it("jobs target TGI variants: vLLM ones are left out by default and refused when named", async () => {
        const e = (await renderConfig({ "mlserve:async": { variants: ["fp16", "vllm-fp16"] }, "mlserve:variants": [{ name: "fp16", replicas: 1 }, { name: "vllm-fp16", engine: "vllm" }] }).catch((x: unknown) => x)) as {
            problems: Array<{ path: string; message: string }>;
        };
        expect(e.problems).toEqual([expect.objectContaining({ path: "mlserve:async.variants[1]", message: expect.stringMatching(/runs vLLM; the async worker calls TGI's \/generate/) })]);
        const onlyVllm = (await renderConfig({ "mlserve:variants": [{ name: "v", engine: "vllm" }] }).catch((x: unknown) => x)) as { problems: Array<{ path: string }> };
        expect(onlyVllm.problems.map((p) => p.path)).toEqual(["mlserve:async.enabled"]);
    });

    it("async targets must be existing variants; the worker needs KEDA", async () => {
        const e = (await renderConfig({ "mlserve:async": { variants: ["fp16", "gptq"] }, "mlserve:addons": { keda: { enabled: false } } }).catch((x: unknown) => x)) as { problems: Array<{ path: string; message: string }> };
        expect(e.problems.map((p) => p.path).sort()).toEqual(["mlserve:async.enabled", "mlserve:async.variants[1]"]);
        expect(e.problems.find((p) => p.path === "mlserve:async.variants[1]")!.message).toMatch(/no variant named "gptq"/);
    });
});
