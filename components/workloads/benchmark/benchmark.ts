import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { BenchmarkConfig } from "../../../infra/config/benchmark";
import { podIdentityRole } from "../../platform/cluster/podIdentity";
import { BuiltImage } from "../image";
import { LLM_NAMESPACE } from "../llm/spec";
import { BENCHMARK_NAMESPACE, BENCHMARK_SERVICE_ACCOUNT, benchmarkJob, benchmarkPolicy, benchmarkPrefix, campaignRole } from "./spec";

export interface BenchmarkRunArgs {
    settings: BenchmarkConfig & { runId: string };
    /** The cluster name as an output of the cluster (the Pod Identity association waits for it). */
    clusterName: pulumi.Input<string>;
    bucket: { name: pulumi.Output<string>; arn: pulumi.Output<string> };
    /** The stack outputs the targets come from (variants, kserve, endpoints), as `pulumi stack output --json` has them. */
    targets: pulumi.Input<Record<string, unknown>>;
    /** Variants a campaign walks. */
    variants: string[];
    /** The LLM fleet (a campaign's Role lives in its namespace). */
    waitFor: pulumi.Resource[];
    /** Parked: the Job is suspended (a campaign would scale variants up and bring the GPU node back); un-parking resumes it. */
    parked?: boolean;
}

/**
 * One benchmark run: the load-test image (built from loadtest/ or pinned), the
 * stack's endpoints as its targets, a role that may write only
 * benchmarks/<run id>/, and the Job; a campaign also gets a Role that may scale
 * the LLM Deployments and nothing else.
 */
export class BenchmarkRun extends pulumi.ComponentResource {
    readonly output: pulumi.Output<string>;

    constructor(name: string, args: BenchmarkRunArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:benchmark:Run", name, {}, opts);
        const child = { parent: this };
        const b = args.settings;
        const ns = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: BENCHMARK_NAMESPACE } }, child);
        const after = { ...child, dependsOn: [ns] };
        const sa = new k8s.core.v1.ServiceAccount(`${name}-sa`, { metadata: { name: BENCHMARK_SERVICE_ACCOUNT, namespace: BENCHMARK_NAMESPACE } }, after);
        const writer = podIdentityRole(
            `${name}-writer`,
            { clusterName: args.clusterName, namespace: BENCHMARK_NAMESPACE, serviceAccount: BENCHMARK_SERVICE_ACCOUNT, policy: args.bucket.arn.apply((arn) => JSON.stringify(benchmarkPolicy(arn, b.runId))) },
            child,
        );
        const before: pulumi.Resource[] = [sa, ...writer.resources];
        if (b.campaign) {
            const r = campaignRole();
            const campaign = new k8s.rbac.v1.Role(`${name}-campaign`, r, { ...child, dependsOn: args.waitFor });
            before.push(
                new k8s.rbac.v1.RoleBinding(
                    `${name}-campaign`,
                    {
                        metadata: { name: r.metadata.name, namespace: LLM_NAMESPACE },
                        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: r.metadata.name },
                        subjects: [{ kind: "ServiceAccount", name: BENCHMARK_SERVICE_ACCOUNT, namespace: BENCHMARK_NAMESPACE }],
                    },
                    { ...child, dependsOn: [campaign] },
                ),
            );
        }
        const configMapName = `targets-${b.runId}`;
        before.push(
            new k8s.core.v1.ConfigMap(`${name}-targets`, { metadata: { name: configMapName, namespace: BENCHMARK_NAMESPACE }, data: { "outputs.json": pulumi.jsonStringify(args.targets) } }, after),
        );
        const image = new BuiltImage(
            `${name}-image`,
            { pinned: b.image, context: ".", dockerfile: "loadtest/Dockerfile", inputs: ["loadtest"], tagPrefix: "loadtest" },
            child,
        );
        this.output = pulumi.interpolate`s3://${args.bucket.name}/${benchmarkPrefix(b.runId).replace(/\/$/, "")}`;
        new k8s.batch.v1.Job(
            `${name}-job`,
            benchmarkJob(b, { runId: b.runId, image: image.ref, out: this.output, targetsConfigMap: configMapName, variants: args.variants, suspend: args.parked ?? false }),
            { ...child, dependsOn: before },
        );
        this.registerOutputs({ output: this.output });
    }
}
