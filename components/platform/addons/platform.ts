import * as pulumi from "@pulumi/pulumi";
import type { Addon, ClusterRef } from "./addon";
import { describeMissing, installOrder, missingDependencies, requirementsOf } from "./catalog";
import { definitionOf, type AddonSettings, type InstalledAddons } from "./registry";

export interface PlatformAddonsArgs {
    /** `mlserve:addons`: every registered add-on's settings (with `enabled`). */
    settings: AddonSettings;
    cluster: ClusterRef;
    /** SQS queues KEDA may read (from the async inference area). */
    sqsQueueArns?: pulumi.Input<pulumi.Input<string>[]>;
    /** Resources every add-on waits for (the cluster's nodes and CoreDNS). */
    waitFor?: pulumi.Resource[];
}

export class AddonDependencyError extends Error {
    override name = "AddonDependencyError";
}

/**
 * Every enabled platform add-on of the registry, installed in dependency order;
 * each waits for the add-ons it requires. A set with a missing requirement is
 * refused here, at plan time, with the same message config validation gives.
 */
export class PlatformAddons extends pulumi.ComponentResource {
    /** The created add-ons by name; what workloads read outputs (Prometheus URL, KEDA authentication, ingress) from. */
    readonly installed: InstalledAddons = {};
    /** Pinned chart versions of every installed add-on. */
    readonly versions: Record<string, string[]> = {};

    constructor(name: string, args: PlatformAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:addons:PlatformAddons", name, {}, opts);
        const missing = missingDependencies(args.settings);
        if (missing.length > 0) throw new AddonDependencyError(missing.map(describeMissing).join("\n"));

        const created: Partial<Record<string, Addon>> = {};
        for (const addon of installOrder(args.settings)) {
            const waitFor = [...(args.waitFor ?? []), ...requirementsOf(addon, args.settings).flatMap((r) => created[r.addon]?.ready ?? [])];
            const instance = definitionOf(addon).create(
                `${name}-${addon}`,
                { settings: args.settings[addon], cluster: args.cluster, sqsQueueArns: args.sqsQueueArns, installed: this.installed, waitFor },
                { parent: this },
            );
            created[addon] = instance;
            Object.assign(this.installed, { [addon]: instance });
            this.versions[addon] = instance.charts;
        }
        this.registerOutputs({ versions: this.versions });
    }
}
