/**
 * Content-addressed tags for the images the stack builds itself. The ECR
 * repositories are IMMUTABLE, so a fixed tag (`:gateway`) can be pushed once
 * and every later rebuild is refused; a tag derived from exactly what goes
 * into the image changes when (and only when) the image would.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** What services/Dockerfile copies into the build (keep in step with its COPY lines). */
export const BUILD_INPUTS = ["package.json", "package-lock.json", "tsconfig.json", "services/Dockerfile", "services"] as const;

export interface BuildFile {
    /** Path relative to the build context, with forward slashes. */
    path: string;
    content: Buffer | string;
}

/** Every file under the build inputs, sorted by path (so the hash is order-independent). */
export function buildContextFiles(root: string, inputs: readonly string[] = BUILD_INPUTS): BuildFile[] {
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
