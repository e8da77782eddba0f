import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, type ChartName } from "../versions";

/** One Helm release of an add-on: chart from the version table, fixed release name, values. */
export interface ReleaseSpec {
    /** Helm release name; fixed (not auto-named) because Service DNS names derive from it. */
    name: string;
    chart: ChartName;
    values: Record<string, unknown>;
    /** Seconds Helm waits for the release to become ready. Default 600. */
    timeoutSeconds?: number;
}

/**
 * The uniform shape of every platform add-on: a namespace, Helm releases
 * installed in order (charts and versions only from components/versions.ts),
 * what it waits for, and `ready`, what dependents wait for.
 * Subclasses add their own extra resources around `installReleases`.
 */
export abstract class Addon extends pulumi.ComponentResource {
    readonly namespace: string;
    /** Logical name of this add-on; children's names start with it. */
    protected readonly addonName: string;
    readonly releases: k8s.helm.v3.Release[] = [];
    /** Pinned charts of this add-on, as `chart@version` (shown by the plan, exported by the stack). */
    charts: string[] = [];
    /** Resources a dependent add-on or workload must wait for. */
    ready: pulumi.Resource[] = [];

    protected constructor(type: `mlserve:addons:${string}`, name: string, namespace: string, opts?: pulumi.ComponentResourceOptions) {
        super(type, name, {}, opts);
        this.namespace = namespace;
        this.addonName = name;
    }

    /**
     * Create the namespace (unless it is kube-system) and the releases, each
     * waiting for the previous one and the first for `waitFor`.
     */
    protected installReleases(specs: ReleaseSpec[], waitFor: pulumi.Resource[] = []): k8s.helm.v3.Release[] {
        const before: pulumi.Resource[] = [...waitFor];
        if (this.namespace !== "kube-system") {
            before.push(new k8s.core.v1.Namespace(`${this.addonName}-ns`, { metadata: { name: this.namespace } }, { parent: this }));
        }
        let previous: pulumi.Resource[] = before;
        for (const spec of specs) {
            const chart: { chart: string; version: string; repo?: string } = CHARTS[spec.chart];
            const release = new k8s.helm.v3.Release(
                `${this.addonName}-${spec.name}`,
                {
                    name: spec.name,
                    chart: chart.chart,
                    version: chart.version,
                    repositoryOpts: chart.repo ? { repo: chart.repo } : undefined,
                    namespace: this.namespace,
                    values: spec.values,
                    atomic: true,
                    cleanupOnFail: true,
                    timeout: spec.timeoutSeconds ?? 600,
                    maxHistory: 5,
                },
                { parent: this, dependsOn: previous },
            );
            this.releases.push(release);
            previous = [release];
        }
        this.ready = [...this.releases];
        this.charts = specs.map((s) => `${CHARTS[s.chart].chart}@${CHARTS[s.chart].version}`);
        return this.releases;
    }
}
