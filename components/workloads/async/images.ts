import * as pulumi from "@pulumi/pulumi";
import { BuiltImage } from "../image";

/** What services/Dockerfile copies into the build (keep in step with its COPY lines). */
export const ASYNC_BUILD_INPUTS = ["package.json", "package-lock.json", "tsconfig.json", "services/Dockerfile", "services"] as const;

export interface AsyncImagesArgs {
    /** Pinned refs from config; a missing one is built from services/Dockerfile into ECR (needs Docker where `pulumi up` runs). */
    pinned: { gateway?: string; worker?: string };
    /** Prefix of the child names (kept from when these lived in the storage component). */
    namePrefix: string;
}

/** The gateway and worker images: one Dockerfile, `--build-arg SERVICE=<name>`. */
export class AsyncImages extends pulumi.ComponentResource {
    readonly gateway: pulumi.Output<string>;
    readonly worker: pulumi.Output<string>;

    constructor(name: string, args: AsyncImagesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:async:Images", name, {}, opts);
        const image = (svc: "gateway" | "worker") =>
            new BuiltImage(
                `${args.namePrefix}-${svc}`,
                { pinned: args.pinned[svc], context: ".", dockerfile: "services/Dockerfile", buildArgs: { SERVICE: svc }, inputs: ASYNC_BUILD_INPUTS, tagPrefix: svc },
                { parent: this },
            ).ref;
        this.gateway = image("gateway");
        this.worker = image("worker");
        this.registerOutputs({ gateway: this.gateway, worker: this.worker });
    }
}
