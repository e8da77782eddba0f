/**
 * Field validators every config area (and every add-on's settings) uses, defined
 * once: Kubernetes quantities and names, durations, pinned images.
 */
import { z } from "zod";

/** A Kubernetes resource quantity: 500m, 4, 32Gi. */
export const quantity = z.string().regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti)?$/, "must be a Kubernetes quantity such as 500m, 4, 32Gi");

const UNIT_SECONDS = { s: 1, m: 60, h: 3600 } as const;

/** Seconds in a duration such as 30s, 5m or 1h; NaN when it is not one. */
export function durationSeconds(s: string): number {
    const m = /^(\d+)(s|m|h)$/.exec(s) as [string, string, keyof typeof UNIT_SECONDS] | null;
    return m ? Number(m[1]) * UNIT_SECONDS[m[2]] : NaN;
}

/** A duration such as 30s, 2m or 1h (Go and Knative read these), optionally bounded. */
export function duration(bounds?: { min: number; max: number; what: string }) {
    if (!bounds) return z.string().regex(/^\d+(s|m|h)$/, "must be a duration such as 30s, 5m or 1h");
    return z.string().refine((s) => durationSeconds(s) >= bounds.min && durationSeconds(s) <= bounds.max, {
        message: `must be a duration such as 30s, 2m or 1h, between ${bounds.min}s and ${bounds.max}s (${bounds.what})`,
    });
}

/** A DNS label starting with a letter, at most `max` characters. */
export function dnsLabel(max: number) {
    return z.string().regex(new RegExp(`^[a-z]([-a-z0-9]{0,${max - 2}}[a-z0-9])?$`), `must be a DNS label of 1-${max} characters starting with a letter`);
}

/**
 * Whether an image reference names a tag or a digest. A tag follows the last `/` (a
 * registry port is not one: `[\w.-]` stops at a `/`); a reference with `@` must end in a
 * whole digest (OCI image spec: sha256 or sha512, lowercase hex of the full length).
 * `latest` counts as a tag here; `isPinnedImage` and `pinnedImage` refuse it.
 */
export function hasTagOrDigest(image: string): boolean {
    if (image.includes("@")) return /@(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/.test(image);
    return /:\w[\w.-]{0,127}$/.test(image);
}

/** The floating tag `latest` (a tag that merely starts with it, `latest-1.27`, is another tag). */
const isLatestTag = (image: string) => /:latest$/.test(image);

/** A tag other than `latest`, or a digest: what the config and the policy pack accept. */
export function isPinnedImage(image: string): boolean {
    return hasTagOrDigest(image) && !isLatestTag(image);
}

/** A container image reference with an explicit tag or digest, never `latest`. */
export const pinnedImage = z
    .string()
    .refine(hasTagOrDigest, { message: "must pin a tag or digest, e.g. <registry>/<image>:<version>" })
    .refine((s) => !isLatestTag(s), { message: "must not use the floating tag latest; pin a version" });

/** Kubernetes label rules (qualified name, optional DNS prefix), as EKS node groups enforce them. */
export const labelKey = z
    .string()
    .regex(
        /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
        "must be a Kubernetes label key: [prefix/]name, name up to 63 alphanumerics, '-', '_' or '.'",
    )
    .refine((k) => !/(^|\.)(kubernetes\.io|k8s\.io)\//.test(k), {
        message: "kubernetes.io/ and k8s.io/ label prefixes are reserved; use your own prefix such as mlserve.io/",
    });
export const labelValue = z
    .string()
    .regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, "must be a Kubernetes label value: up to 63 alphanumerics, '-', '_' or '.'");

/** Stacks named prod, production, prod-eu, production.us, ... are production: never parked or reaped, stricter policy. */
export function isProductionStack(stack: string): boolean {
    return /^prod(uction)?([-_.]|$)/.test(stack);
}
