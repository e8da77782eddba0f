/** Shared by the config unit tests: the issues a schema reports, and a check of an integer field's bounds. */
import { expect } from "vitest";
import type { z } from "zod";

export interface Problem {
    path: string;
    message: string;
}

/** The issues of `input` as "a.b.0" paths and messages ([] when it parses). */
export function problemsOf(schema: z.ZodType, input: unknown): Problem[] {
    return schema.safeParse(input).error?.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message })) ?? [];
}

/**
 * `min` and `max` are accepted, one past each is refused with zod's message at `path`
 * (`build` puts a value at the field: `(n) => ({ worker: { concurrency: n } })`).
 */
export function expectBounds(schema: z.ZodType, path: string, build: (n: number) => unknown, min: number, max: number | undefined, step = 1): void {
    expect(problemsOf(schema, build(min)), `${path} = ${min}`).toEqual([]);
    expect(problemsOf(schema, build(min - step)), `${path} = ${min - step}`).toEqual([{ path, message: `Too small: expected number to be >=${min}` }]);
    if (max === undefined) return;
    expect(problemsOf(schema, build(max)), `${path} = ${max}`).toEqual([]);
    expect(problemsOf(schema, build(max + step)), `${path} = ${max + step}`).toEqual([{ path, message: `Too big: expected number to be <=${max}` }]);
}
