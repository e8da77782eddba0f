/**
 * Cross-field rules on typed data. A rule names the schemas of the fields (or
 * config areas) it reads; it runs on their parsed values whenever those parse,
 * even if other fields are invalid, so one run reports every problem. Rules
 * never see unvalidated input, so they need no casts.
 */
import { z } from "zod";

/** A problem at a path relative to where the rule is mounted. */
export interface Issue {
    path: readonly PropertyKey[];
    /** The offending value (shown in the error), when there is one. */
    input?: unknown;
    message: string;
}

/** A rule bound to the raw value at its mount point: returns its issues, or none when its inputs do not parse. */
export type Check = (raw: unknown) => Issue[];

/** A rule over the fields in `shape`, parsed (defaults applied; unknown fields ignored). */
export function rule<Shape extends z.ZodRawShape>(shape: Shape, check: (v: z.output<z.ZodObject<Shape>>) => Issue[]): Check {
    const schema = z.object(shape);
    return (raw) => {
        const parsed = schema.safeParse(raw ?? {});
        return parsed.success ? check(parsed.data) : [];
    };
}

/** Mount checks under a key (an area such as `gpuNodes`): their paths get it as a prefix. */
export function at(key: PropertyKey, checks: readonly Check[]): Check {
    return (raw) => {
        const value: unknown = raw !== null && typeof raw === "object" ? Reflect.get(raw, key) : undefined;
        return checks.flatMap((c) => c(value).map((i) => ({ ...i, path: [key, ...i.path] })));
    };
}

/** Run checks on every item of an array (paths get the item's index). */
export function eachItem(checks: readonly Check[]): Check {
    return (raw) => (Array.isArray(raw) ? raw.flatMap((item, i) => checks.flatMap((c) => c(item).map((x) => ({ ...x, path: [i, ...x.path] })))) : []);
}

/**
 * The items of an array that parse on their own, with their index: a rule over
 * a list still checks the valid entries when one entry is broken.
 */
export function validItems<T extends z.ZodType>(item: T) {
    return z.array(z.unknown()).transform((items) =>
        items.flatMap((raw, index) => {
            const parsed = item.safeParse(raw);
            return parsed.success ? [{ index, value: parsed.data }] : [];
        }),
    );
}

/** `minReplicas` must not exceed `maxReplicas`; the issue sits on minReplicas. */
export function minNotAboveMax(v: { minReplicas: number; maxReplicas: number }): Issue[] {
    return v.minReplicas > v.maxReplicas ? [{ path: ["minReplicas"], input: v.minReplicas, message: `must be <= maxReplicas (${v.maxReplicas})` }] : [];
}
