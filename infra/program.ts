/**
 * The platform, wired from a validated StackConfig. Plain function of config so
 * the offline plan and the tests run exactly what `pulumi up` runs.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { PlatformAddons } from "../components/platform/addons/platform";
import { Cluster } from "../components/platform/cluster/cluster";
import { LlmFleet } from "../components/workloads/llm/fleet";
import type { VariantEndpoint } from "../components/workloads/llm/spec";
import { KServeModels } from "../components/workloads/kserveModels/models";
import type { ModelEndpoint } from "../components/workloads/kserveModels/spec";
import { ModelApi } from "../components/workloads/modelApi/modelApi";
import { AsyncServices } from "../components/workloads/async/services";
import { AsyncIdentities } from "../components/workloads/async/identities";
import { AsyncImages } from "../components/workloads/async/images";
import { AsyncStorage } from "../components/workloads/async/storage";
import { ArtifactStore } from "../components/workloads/artifacts";
import { OptimizationRun } from "../components/workloads/optimization/optimization";
import { BenchmarkRun } from "../components/workloads/benchmark/benchmark";
import { servedVariants } from "../components/workloads/optimization/spec";
import { Guardrails } from "../components/platform/guardrails/guardrails";
import type { StackConfig } from "./config/schema";
import { applyParking } from "./lifecycle/park";

/** Tags on every taggable AWS resource (through the provider's defaultTags). */
export function baseTags(cfg: StackConfig): Record<string, string> {
    return {
        "mlserve:project": cfg.project,
        "mlserve:stack": cfg.stack,
        "mlserve:managed-by": "pulumi",
        "mlserve:owner": cfg.lifecycle.owner,
        ...(cfg.lifecycle.expiresAt ? { "mlserve:expires-at": cfg.lifecycle.expiresAt } : {}),
        ...cfg.tags,
    };
}

/** EKS cluster name of a stack. */
export function clusterNameOf(cfg: Pick<StackConfig, "project" | "stack">): string {
    return `${cfg.project}-${cfg.stack}`;
}

export interface PlatformOutputs {
    region: string;
    /** Owner, expiry and park state (the reaper reads these), and the alert topic. */
    lifecycle: { owner: string; expiresAt: string | null; parked: boolean; alertTopicArn: pulumi.Output<string> };
    clusterName: string;
    kubeconfig: pulumi.Output<string>;
    vpcId: pulumi.Output<string>;
    nodeGroups: { system: pulumi.Output<string>; gpu: pulumi.Output<string> };
    /** Pinned chart versions of every installed add-on. */
    addons: Record<string, string[]>;
    /** Per LLM variant: base URL, engine, model, quantization, replicas and routes. */
    variants: Record<string, VariantEndpoint>;
    /** Per KServe model and graph: in-cluster and external (Kourier + Host header) URLs, protocol, path or gRPC method. */
    kserve: { models: Record<string, ModelEndpoint>; graphs: Record<string, ModelEndpoint> };
    /** The benchmark run: its id, where its results go, and whether it walks the variants. */
    benchmark: { runId: string | null; output: pulumi.Output<string>; campaign: boolean } | null;
    /** The optimization run: its id, S3 prefix and the InferenceServices serving its variants (also under kserve.models). */
    optimization: { runId: string | null; output: pulumi.Output<string>; models: string[] } | null;
    /** In-cluster endpoints (model servers, gateways, Prometheus) the load tests and report use. */
    endpoints: Record<string, pulumi.Input<string>>;
}

export function buildPlatform(config: StackConfig): PlatformOutputs {
    // Parking changes sizes only here: config keeps the running sizes for un-parking.
    const cfg = applyParking(config);
    const awsProvider = new aws.Provider("aws", { region: cfg.region as aws.Region, defaultTags: { tags: baseTags(cfg) } });
    const clusterName = clusterNameOf(cfg);

    const cluster = new Cluster(
        clusterName,
        {
            clusterName,
            kubernetesVersion: cfg.cluster.kubernetesVersion,
            network: {
                cidr: cfg.cluster.vpcCidr,
                availabilityZones: cfg.cluster.availabilityZones,
                natGateways: cfg.cluster.natGateways,
            },
            endpointPublicAccess: cfg.cluster.endpointPublicAccess,
            endpointPrivateAccess: cfg.cluster.endpointPrivateAccess,
            publicAccessCidrs: cfg.cluster.publicAccessCidrs,
            logTypes: cfg.cluster.logTypes,
            logRetentionDays: cfg.cluster.logRetentionDays,
            kmsDeletionWindowDays: cfg.cluster.kmsDeletionWindowDays,
            deletionProtection: cfg.cluster.deletionProtection,
            adminRoleArns: cfg.cluster.adminRoleArns,
            systemNodes: cfg.systemNodes,
            gpuNodes: cfg.gpuNodes,
            nodeAutoscaler: cfg.addons.clusterAutoscaler.enabled,
        },
        { providers: { aws: awsProvider } },
    );

    const providers = { aws: awsProvider, kubernetes: cluster.provider };
    // The queues exist before KEDA so its role can be scoped to them.
    const asyncStorage = cfg.async.enabled ? new AsyncStorage(`${clusterName}-async`, { settings: cfg.async }, { providers }) : undefined;
    if (asyncStorage) {
        new AsyncIdentities(
            `${clusterName}-async-identities`,
            { clusterName: cluster.name, queueArn: asyncStorage.queueArn, dlqArn: asyncStorage.dlqArn, bucketArn: asyncStorage.bucketArn, namePrefix: `${clusterName}-async` },
            { providers },
        );
    }
    const asyncImages = asyncStorage ? new AsyncImages(`${clusterName}-async-images`, { pinned: cfg.async.images, namePrefix: `${clusterName}-async` }, { providers }) : undefined;
    const addons = new PlatformAddons(
        `${clusterName}-addons`,
        {
            settings: cfg.addons,
            cluster: { name: cluster.name, plainName: clusterName, region: cfg.region, nodeGroupArns: [cluster.systemNodeGroup.arn, cluster.gpuNodeGroup.arn] },
            sqsQueueArns: asyncStorage ? [asyncStorage.queueArn] : undefined,
        },
        { providers },
    );

    // Workloads read what they use from the add-ons' outputs (URLs, authentication, ingress, readiness).
    const { metricsServer, keda, knative, kserve, observability } = addons.installed;
    const modelApi = cfg.modelApi.enabled
        ? new ModelApi(`${clusterName}-model-api`, { settings: cfg.modelApi, parked: cfg.lifecycle.parked, waitFor: metricsServer?.ready }, { providers })
        : undefined;

    const fleet = new LlmFleet(
        `${clusterName}-llm`,
        {
            variants: cfg.variants,
            fleet: cfg.fleet,
            hfToken: cfg.secrets.hfToken,
            autoscalingReady: [...(keda?.ready ?? []), ...(observability?.ready ?? [])],
            observability,
        },
        { providers },
    );

    const optimizedServed = cfg.optimization.enabled ? servedVariants(cfg.optimization) : [];
    const kserveModels =
        kserve && (cfg.kserveModels.length > 0 || cfg.kserveGraphs.length > 0 || optimizedServed.length > 0)
            ? new KServeModels(
                  `${clusterName}-kserve`,
                  {
                      models: cfg.kserveModels,
                      graphs: cfg.kserveGraphs,
                      kserve,
                      ingress: knative ? { service: knative.ingress.external, domain: knative.domain } : undefined,
                      observability,
                  },
                  { providers },
              )
            : undefined;

    // The worker calls TGI's /generate: by default jobs target the TGI variants.
    const asyncTargets = cfg.variants.filter((v) => (cfg.async.variants ? cfg.async.variants.includes(v.name) : v.engine === "tgi"));
    // Config validation refuses the async path without KEDA; the builder refuses too.
    if (asyncStorage && !keda) throw new Error("the async path needs the KEDA add-on (mlserve:addons.keda.enabled)");
    const asyncServices =
        asyncStorage && asyncImages && keda
        ? new AsyncServices(
              `${clusterName}-async`,
              {
                  settings: cfg.async,
                  region: cfg.region,
                  queueUrl: asyncStorage.queueUrl,
                  dlqUrl: asyncStorage.dlqUrl,
                  bucket: asyncStorage.bucketName,
                  images: { gateway: asyncImages.gateway, worker: asyncImages.worker },
                  endpoints: Object.fromEntries(asyncTargets.map((v) => [v.name, fleet.endpoints[v.name]!.baseUrl])),
                  // The gateway checks each request against its variant's own token limits.
                  limits: Object.fromEntries(asyncTargets.map((v) => [v.name, { maxInputTokens: v.maxInputTokens, maxTotalTokens: v.maxTotalTokens }])),
                  keda: { authentication: keda.awsAuthentication, ready: keda.ready },
              },
              { providers },
          )
        : undefined;

    // Optimization: artifacts bucket, the Job, and the variants it makes as InferenceServices.
    const { runId } = cfg.optimization;
    const artifacts = cfg.optimization.enabled || cfg.benchmark.enabled ? new ArtifactStore(`${clusterName}-artifacts`, {}, { providers }) : undefined;
    const optimizationRun =
        artifacts && cfg.optimization.enabled && runId
            ? new OptimizationRun(
                  `${clusterName}-optimize`,
                  {
                      settings: { ...cfg.optimization, runId },
                      parked: cfg.lifecycle.parked,
                      clusterName: cluster.name,
                      bucket: { name: artifacts.bucketName, arn: artifacts.bucketArn },
                      serving:
                          kserve && kserveModels && optimizedServed.length > 0
                              ? { kserve, modelsNamespace: kserveModels.namespace, ingress: knative ? { service: knative.ingress.external, domain: knative.domain } : undefined }
                              : undefined,
                  },
                  { providers },
              )
            : undefined;

    const guardrails = new Guardrails(
        `${clusterName}-guardrails`,
        {
            stack: cfg.stack,
            region: cfg.region,
            clusterName,
            clusterNameOutput: cluster.name,
            kubernetesVersion: cfg.cluster.kubernetesVersion,
            monthlyBudgetUsd: cfg.lifecycle.monthlyBudgetUsd,
            alertEmails: cfg.lifecycle.alertEmails,
            idleGpuAlarmMinutes: cfg.lifecycle.idleGpuAlarmMinutes,
            waitFor: [cluster.systemNodeGroup],
        },
        { providers },
    );

    const endpoints: Record<string, pulumi.Input<string>> = {};
    if (observability) {
        endpoints.prometheus = observability.prometheusUrl;
        if (observability.grafanaUrl) endpoints.grafana = observability.grafanaUrl;
    }
    if (modelApi) endpoints.modelApi = modelApi.endpoints.predictV1;
    if (asyncServices) endpoints.asyncGateway = asyncServices.gatewayUrl;

    const kserveOutputs = { models: { ...(kserveModels?.models ?? {}), ...(optimizationRun?.models ?? {}) }, graphs: kserveModels?.graphs ?? {} };
    // Benchmark: the load-test Job(s) against this stack's own endpoints.
    const benchmarkRunId = cfg.benchmark.runId;
    const benchmarkRun =
        artifacts && cfg.benchmark.enabled && benchmarkRunId
            ? new BenchmarkRun(
                  `${clusterName}-benchmark`,
                  {
                      settings: { ...cfg.benchmark, runId: benchmarkRunId },
                      clusterName: cluster.name,
                      bucket: { name: artifacts.bucketName, arn: artifacts.bucketArn },
                      targets: { variants: fleet.endpoints, kserve: kserveOutputs, endpoints },
                      variants: cfg.benchmark.variants ?? cfg.variants.map((v) => v.name),
                      waitFor: [fleet],
                      parked: cfg.lifecycle.parked,
                  },
                  { providers },
              )
            : undefined;

    return {
        region: cfg.region,
        lifecycle: { owner: cfg.lifecycle.owner, expiresAt: cfg.lifecycle.expiresAt ?? null, parked: cfg.lifecycle.parked, alertTopicArn: guardrails.alertTopicArn },
        clusterName,
        kubeconfig: cluster.kubeconfig,
        vpcId: cluster.vpcId,
        nodeGroups: { system: cluster.systemNodeGroup.nodeGroupName, gpu: cluster.gpuNodeGroup.nodeGroupName },
        addons: addons.versions,
        variants: fleet.endpoints,
        kserve: kserveOutputs,
        benchmark: benchmarkRun ? { runId: benchmarkRunId ?? null, output: benchmarkRun.output, campaign: cfg.benchmark.campaign } : null,
        optimization: optimizationRun ? { runId: runId ?? null, output: optimizationRun.output, models: Object.keys(optimizationRun.models) } : null,
        endpoints,
    };
}
