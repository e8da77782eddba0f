import * as pulumi from "@pulumi/pulumi";
import { podIdentityRole } from "../../platform/cluster/podIdentity";
import { ASYNC_NAMESPACE, gatewayPolicy, GATEWAY, WORKER, workerPolicy } from "./spec";

export interface AsyncIdentitiesArgs {
    /** The cluster name as an output of the cluster (the associations wait for it). */
    clusterName: pulumi.Input<string>;
    queueArn: pulumi.Input<string>;
    dlqArn: pulumi.Input<string>;
    bucketArn: pulumi.Input<string>;
    /** Prefix of the child names (kept from when these lived in the storage component). */
    namePrefix: string;
}

/**
 * Least-privilege roles for the gateway and the worker, bound to their service
 * accounts in the async namespace by EKS Pod Identity.
 */
export class AsyncIdentities extends pulumi.ComponentResource {
    constructor(name: string, args: AsyncIdentitiesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:async:Identities", name, {}, opts);
        const child = { parent: this };
        const role = (svc: string, policy: pulumi.Output<string>) =>
            podIdentityRole(`${args.namePrefix}-${svc}`, { clusterName: args.clusterName, namespace: ASYNC_NAMESPACE, serviceAccount: svc, policy }, child);
        role(GATEWAY, pulumi.all([args.queueArn, args.bucketArn]).apply(([queueArn, bucketArn]) => JSON.stringify(gatewayPolicy({ queueArn, bucketArn }))));
        role(WORKER, pulumi.all([args.queueArn, args.dlqArn, args.bucketArn]).apply(([queueArn, dlqArn, bucketArn]) => JSON.stringify(workerPolicy({ queueArn, dlqArn, bucketArn }))));
        this.registerOutputs({});
    }
}
