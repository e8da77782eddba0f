/**
 * What a job's `request` may hold: TGI's `POST /generate` body (the worker
 * sends it there unchanged), with TGI's own limits, checked at submit so a job
 * that can never run is a 400 now instead of a failure later. Pure.
 * Source: TGI router/src/validation.rs and the launcher's defaults
 * (max_best_of 2, max_stop_sequences 4, max_top_n_tokens 5).
 */
import { z } from "zod";

export interface VariantLimits {
    /** --max-input-tokens of the variant's server. */
    maxInputTokens: number;
    /** --max-total-tokens: prompt + generated tokens. */
    maxTotalTokens: number;
}

/** The fleet's defaults (mlserve:variants[].maxInputTokens / maxTotalTokens) when a variant's limits are not given. */
export const DEFAULT_LIMITS: VariantLimits = { maxInputTokens: 2048, maxTotalTokens: 4096 };

/** Deepest JSON a request may nest (a grammar's JSON schema); deeper is refused before anything recurses over it. */
export const MAX_JSON_DEPTH = 32;

/** Nesting depth of a parsed JSON value, iteratively (a recursive walk is what a deep document overflows). */
export function jsonDepth(value: unknown, stopAt = MAX_JSON_DEPTH + 1): number {
    let deepest = 0;
    const stack: Array<[unknown, number]> = [[value, 0]];
    while (stack.length > 0) {
        const [v, d] = stack.pop()!;
        if (v === null || typeof v !== "object") continue;
        deepest = Math.max(deepest, d + 1);
        if (deepest >= stopAt) return deepest;
        for (const child of Object.values(v as object)) stack.push([child, d + 1]);
    }
    return deepest;
}

/** A whole number: the message is the schema's, so also that of each check given none (zod 4). */
const int = (what: string) => z.number({ error: `must be ${what}` }).int();
const open01 = z.number().gt(0, "must be > 0 and < 1").lt(1, "must be > 0 and < 1");

export function generateRequestSchema(limits: VariantLimits) {
    const maxNew = limits.maxTotalTokens - 1;
    return z
        .strictObject({
            inputs: z.string({ error: 'is required: the prompt, e.g. {"inputs": "..."}' }).min(1, "must not be empty"),
            add_special_tokens: z.boolean().optional(),
            parameters: z
                .strictObject({
                    max_new_tokens: int(`a whole number from 1 to ${maxNew} (the variant's max total tokens ${limits.maxTotalTokens} minus at least one prompt token)`)
                        .min(1, `must be at least 1`)
                        .max(maxNew, `must be at most ${maxNew} (the variant's max total tokens ${limits.maxTotalTokens} minus at least one prompt token)`)
                        .nullable()
                        .optional(),
                    temperature: z.number().gt(0, "must be > 0").nullable().optional(),
                    repetition_penalty: z.number().gt(0, "must be > 0").nullable().optional(),
                    frequency_penalty: z.number().min(-2, "must be from -2 to 2").max(2, "must be from -2 to 2").nullable().optional(),
                    top_k: int("a whole number > 0").min(1, "must be > 0").nullable().optional(),
                    top_p: open01.nullable().optional(),
                    typical_p: open01.nullable().optional(),
                    do_sample: z.boolean().optional(),
                    best_of: int("1 or 2").min(1).max(2).nullable().optional(),
                    seed: int("a whole number >= 0").min(0, "must be >= 0").nullable().optional(),
                    stop: z.array(z.string()).max(4, "may hold at most 4 stop sequences").optional(),
                    truncate: int(`a whole number from 1 to ${limits.maxInputTokens}`).min(1, "must be at least 1").max(limits.maxInputTokens, `must be at most ${limits.maxInputTokens} (the variant's max input tokens)`).nullable().optional(),
                    watermark: z.boolean().optional(),
                    details: z.boolean().optional(),
                    decoder_input_details: z.boolean().optional(),
                    return_full_text: z.boolean().nullable().optional(),
                    top_n_tokens: int("a whole number from 0 to 5").min(0, "must be from 0 to 5").max(5, "must be from 0 to 5").nullable().optional(),
                    grammar: z
                        .strictObject({ type: z.enum(["json", "regex"]), value: z.unknown() })
                        .refine((g) => jsonDepth(g.value) <= MAX_JSON_DEPTH, `must not nest deeper than ${MAX_JSON_DEPTH} levels`)
                        .nullable()
                        .optional(),
                    adapter_id: z.string().nullable().optional(),
                })
                .superRefine((p, ctx) => {
                    const set = (v: unknown) => v !== undefined && v !== null;
                    const sampling = p.do_sample === true || [p.temperature, p.top_k, p.top_p, p.typical_p].some(set);
                    if ((p.best_of ?? 1) > 1 && !sampling) ctx.addIssue({ code: "custom", path: ["best_of"], message: "above 1 needs sampling (do_sample, temperature, top_k, top_p or typical_p)" });
                    if ((p.best_of ?? 1) > 1 && set(p.seed)) ctx.addIssue({ code: "custom", path: ["seed"], message: "cannot be set together with best_of above 1" });
                })
                .optional(),
        });
}

export type GenerateRequest = z.infer<ReturnType<typeof generateRequestSchema>>;
