/**
 * Every stand-in a local benchmark needs, on 127.0.0.1, and the stack-outputs
 * JSON (the shape of `pulumi stack output --json`) that points the load-test
 * runner at them. The async gateway is the real one (services/gateway) with the
 * real worker, on fauxqs (SQS) and moto (S3), started as tests/async do.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import pino from "pino";
import type { FastifyInstance } from "fastify";
import { buildGateway } from "../../services/gateway/app";
import { JobStore } from "../../services/shared/jobs";
import { Worker } from "../../services/worker/worker";
import { createJobResources } from "../../testing/local/resources";
import { startFauxqsProcess, startMotoServer, type LocalServer } from "../../testing/local/servers";
import { awsClients } from "../../services/shared/aws";
import { FakeKServe, startFakePrometheus, type StepDelays } from "./oip";
import { FakeTgiServer, type TgiDelays } from "./tgi";

export const DATA_DIR = path.join(__dirname, "..", "data");
export const SAMPLE_DATASET = path.join(DATA_DIR, "sample_text_to_sql.jsonl");

/** What the stand-ins inject; a test compares the report with these. */
export const INJECTED = {
    tgi: { validationMs: 80, queueMs: 150, prefillMs: 300, perTokenMs: 40 } satisfies TgiDelays,
    vllm: { validationMs: 40, queueMs: 100, prefillMs: 260, perTokenMs: 30 } satisfies TgiDelays,
    kserve: { preprocessMs: 100, predictMs: 300, postprocessMs: 100 } satisfies StepDelays,
    gpu: { utilPercent: 87.5, memoryUsedMiB: 20480 },
};

export interface StandinAnswer {
    id: number;
    sql_prompt: string;
    expect: "exact" | "equivalent" | "wrong";
    answer: string;
}

export function standinAnswers(): StandinAnswer[] {
    return fs
        .readFileSync(path.join(DATA_DIR, "standin_answers.jsonl"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as StandinAnswer);
}

export interface LocalStack {
    outputs: Record<string, unknown>;
    tgi: FakeTgiServer;
    vllm: FakeTgiServer;
    rest: FakeKServe;
    grpc: FakeKServe;
    stop(): Promise<void>;
}

export async function startLocalStack(o: { asyncGateway: boolean }): Promise<LocalStack> {
    const answers = new Map(standinAnswers().map((a) => [a.sql_prompt, a.answer]));
    const tgi = await new FakeTgiServer({ delays: INJECTED.tgi, answers }).start();
    const vllm = await new FakeTgiServer({ delays: INJECTED.vllm, answers }).start();
    // One server per protocol, as the stack deploys sst2-v2 (REST) and sst2-grpc separately.
    const rest = await new FakeKServe({ model: "sst2-v2", delays: INJECTED.kserve }).start();
    const grpc = await new FakeKServe({ model: "sst2-grpc", delays: INJECTED.kserve }).start();
    const prom = await startFakePrometheus((q) => (q.includes("FB_USED") ? INJECTED.gpu.memoryUsedMiB : INJECTED.gpu.utilPercent));
    const aws: LocalServer[] = [];
    let gateway: FastifyInstance | undefined;
    let worker: Worker | undefined;
    const endpoints: Record<string, string> = { prometheus: prom.url, modelApi: `${rest.url}/v1/models/sst2-v2:predict` };
    if (o.asyncGateway) {
        // As tests/async: fauxqs for SQS and moto for S3 (it honours conditional writes), as processes.
        const [sqsServer, s3Server] = await Promise.all([startFauxqsProcess(), startMotoServer()]);
        aws.push(sqsServer, s3Server);
        const { sqs, s3 } = awsClients({ region: "us-east-1", sqsEndpoint: sqsServer.endpoint, s3Endpoint: s3Server.endpoint });
        const r = await createJobResources(sqs, s3, { maxReceiveCount: 3, visibilityTimeoutSeconds: 30, suffix: `lt${process.pid}` });
        const store = new JobStore(s3, r.bucket);
        gateway = buildGateway({ sqs, store, queueUrl: r.queueUrl, variants: ["fp16"], logger: false });
        endpoints.asyncGateway = await gateway.listen({ port: 0, host: "127.0.0.1" });
        worker = new Worker({
            sqs,
            store,
            queueUrl: r.queueUrl,
            dlqUrl: r.dlqUrl,
            endpoints: { fp16: tgi.url },
            waitTimeSeconds: 1,
            visibilityTimeoutSeconds: 30,
            maxReceiveCount: 3,
            modelTimeoutMs: 10_000,
            attempts: 2,
            backoffMs: 50,
            dlqRecheckSeconds: 5,
            concurrency: 16,
            logger: pino({ level: "silent" }),
        });
        void worker.start();
    }
    const kserveModel = (name: string, url: string, protocol: string, extra: Record<string, unknown>) => ({
        protocol,
        inCluster: url,
        external: { url, hostHeader: "" },
        ...extra,
        name,
    });
    const outputs = {
        variants: {
            fp16: { baseUrl: tgi.url, engine: "tgi", model: "microsoft/Phi-3.5-mini-instruct", quantize: "none", replicas: 1, routes: { generate: "/generate", generateStream: "/generate_stream" } },
            vllm: { baseUrl: vllm.url, engine: "vllm", model: "microsoft/Phi-3.5-mini-instruct", quantize: "none", replicas: 1, routes: { completions: "/v1/completions" } },
        },
        kserve: {
            models: {
                "sst2-v2": kserveModel("sst2-v2", rest.url, "v2", { path: "/v2/models/sst2-v2/infer" }),
                "sst2-v1": kserveModel("sst2-v2", rest.url, "v1", { path: "/v1/models/sst2-v2:predict" }),
                // Knative exposes only the h2c port for a gRPC model: the stand-in's metrics are on its HTTP port.
                "sst2-grpc": kserveModel("sst2-grpc", grpc.grpcTarget, "grpc-v2", {
                    grpc: { service: "inference.GRPCInferenceService", method: "ModelInfer", modelName: "sst2-grpc" },
                    metricsUrl: `${grpc.url}/metrics`,
                }),
            },
            graphs: {},
        },
        endpoints,
    };
    return {
        outputs,
        tgi,
        vllm,
        rest,
        grpc,
        stop: async () => {
            await worker?.stop(5000);
            await gateway?.close();
            await Promise.all(aws.map((s) => s.stop()));
            await Promise.all([tgi.stop(), vllm.stop(), rest.stop(), grpc.stop(), prom.stop()]);
        },
    };
}
