/**
 * Images the stack builds itself (async services, load tests, model
 * optimization): built from a Dockerfile in the repository, pushed to an
 * IMMUTABLE ECR repository under a content-addressed tag, and referenced by
 * digest; or a pinned ref from config, and nothing is built. A fixed tag
 * (`:gateway`) could be pushed once and every rebuild refused; a tag derived
 * from exactly what goes into the image changes when (and only when) it would.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";

/** The repository root: build contexts are folders of it. */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

export interface BuildFile {
    /** Path relative to the build context, with forward slashes. */
    path: string;
    content: Buffer | string;
}

/** Every file under the build inputs, sorted by path (so the hash is order-independent). */
export function buildContextFiles(root: string, inputs: readonly string[]): BuildFile[] {
    const files: BuildFile[] = [];
    const walk = (rel: string) => {
        const abs = path.join(root, rel);
        const stat = fs.statSync(abs);
        if (stat.isDirectory()) {
            for (const entry of fs.readdirSync(abs).sort()) walk(path.posix.join(rel, entry));
        } else if (!files.some((f) => f.path === rel)) {
            files.push({ path: rel, content: fs.readFileSync(abs) });
        }
    };
    for (const input of inputs) walk(input);
    return files.sort((a, b) => a.path.localeCompare(b.path));
}

/** `<service>-<first 16 hex of sha256 over service, paths and contents>`. */
export function contentTag(service: string, files: readonly BuildFile[]): string {
    const h = createHash("sha256").update(`service=${service}\0`);
    for (const f of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
        h.update(`${f.path}\0${Buffer.byteLength(f.content)}\0`).update(f.content);
    }
    return `${service}-${h.digest("hex").slice(0, 16)}`;
}

export interface BuiltImageArgs {
    /** A pinned ref (tag or digest) from config: used as is, nothing is built. */
    pinned?: string;
    /** Build context, relative to the repository root ("." for the root). */
    context: string;
    /** Dockerfile, relative to the repository root. */
    dockerfile: string;
    buildArgs?: Record<string, string>;
    /** What the Dockerfile copies from the context (files or folders, relative to the root): the tag hashes exactly these. */
    inputs: readonly string[];
    /** Tag prefix, e.g. the service name (`gateway-<hash>`). */
    tagPrefix: string;
}

/**
 * One image: a pinned ref, or an ECR repository (IMMUTABLE, scanned on push)
 * and a linux/amd64 build pushed under a content tag. `ref` is the digest-
 * pinned reference pods use, so a rebuild rolls them.
 */
export class BuiltImage extends pulumi.ComponentResource {
    readonly ref: pulumi.Output<string>;

    constructor(name: string, args: BuiltImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:workloads:Image", name, {}, opts);
        const child = { parent: this };
        if (args.pinned) {
            this.ref = pulumi.output(args.pinned);
        } else {
            const tag = contentTag(args.tagPrefix, buildContextFiles(REPO_ROOT, args.inputs));
            const repo = new aws.ecr.Repository(name, { imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true }, forceDelete: true }, child);
            const auth = aws.ecr.getAuthorizationTokenOutput({ registryId: repo.registryId }, child);
            const built = new dockerBuild.Image(
                name,
                {
                    context: { location: path.join(REPO_ROOT, args.context) },
                    dockerfile: { location: path.join(REPO_ROOT, args.dockerfile) },
                    buildArgs: args.buildArgs,
                    platforms: ["linux/amd64"],
                    push: true,
                    tags: [pulumi.interpolate`${repo.repositoryUrl}:${tag}`],
                    registries: [{ address: repo.repositoryUrl, username: auth.userName, password: auth.password }],
                },
                child,
            );
            this.ref = built.ref;
        }
        this.registerOutputs({ ref: this.ref });
    }
}
