import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { CHARTS, type ChartName } from "../../versions";
import type { InstalledAddons } from "./registry";

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

/** What an add-on needs of another, and why (the config error quotes it). */
export interface Requirement {
    addon: string;
    why: string;
}

/** The cluster an add-on runs in. */
export interface ClusterRef {
    /** Cluster name as an output of the cluster: AWS resources naming it wait for it. */
    name: pulumi.Input<string>;
    /** The same name as plain text (tag keys, chart values). */
    plainName: string;
    region: string;
    /** The stack's managed node groups. */
    nodeGroupArns: pulumi.Input<string>[];
}

/** Everything an add-on's `create` may use. */
export interface AddonContext<Settings> {
    settings: Settings;
    cluster: ClusterRef;
    /** SQS queues the stack has (KEDA may read them). */
    sqsQueueArns?: pulumi.Input<pulumi.Input<string>[]>;
    /** The add-ons created before this one: its requirements, and every add-on earlier in the registry. */
    installed: InstalledAddons;
    /** Nodes and CoreDNS, plus the `ready` of every add-on this one requires. */
    waitFor: pulumi.Resource[];
}

/**
 * An add-on as the registry (components/platform/addons/registry.ts) knows it: its
 * config (a zod schema of `mlserve:addons.<name>`, with `enabled`), what it
 * provides, what it requires, and how to create it. Config validation and the
 * PlatformAddons component both read these.
 */
export interface AddonDefinition<S extends z.ZodType<{ enabled: boolean }>, A extends Addon> {
    title: string;
    /** What dependents get from it, in a phrase ("resource metrics for HorizontalPodAutoscalers"). */
    provides: string;
    settings: S;
    /** Add-ons that must be installed first; may depend on its own settings. */
    requires?: (settings: z.output<S>) => Requirement[];
    create(resourceName: string, ctx: AddonContext<z.output<S>>, opts: pulumi.ComponentResourceOptions): A;
}

/** Identity helper that keeps a definition's settings and instance types. */
export function defineAddon<S extends z.ZodType<{ enabled: boolean }>, A extends Addon>(def: AddonDefinition<S, A>): AddonDefinition<S, A> {
    return def;
}

/** The `enabled` switch every add-on's settings start with (on by default). */
export const enabledByDefault = { enabled: z.boolean().default(true) };
