/**
 * What the gateway accepts as a job's `request`: TGI's `POST /generate` body with
 * TGI's own limits (router/src/validation.rs; launcher defaults max_best_of 2,
 * max_stop_sequences 4, max_top_n_tokens 5), each refusal naming the field and
 * the allowed range. Expected values are TGI's documented limits, written here.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, generateRequestSchema, jsonDepth, MAX_JSON_DEPTH } from "../../services/gateway/request";

/**
 * A variant with small, distinctive limits: max input 100, max total 200 (so max_new_tokens <= 199).
 * Built in beforeEach so the builder runs inside the tests (see vitest.mutation.config.mts on static coverage).
 */
let small: ReturnType<typeof generateRequestSchema>;
beforeEach(() => {
    small = generateRequestSchema({ maxInputTokens: 100, maxTotalTokens: 200 });
});

/** Each refusal as "path: message" (path "" is the request itself). */
function problems(request: unknown, schema = small): string[] {
    const r = schema.safeParse(request);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}
const params = (parameters: Record<string, unknown>, schema = small) => problems({ inputs: "x", parameters }, schema);

const MAX_NEW = "must be a whole number from 1 to 199 (the variant's max total tokens 200 minus at least one prompt token)";

describe("the request body", () => {
    it("needs a non-empty prompt, and nothing TGI does not know", () => {
        expect(problems({})).toEqual(['inputs: is required: the prompt, e.g. {"inputs": "..."}']);
        expect(problems({ inputs: 42 })).toEqual(['inputs: is required: the prompt, e.g. {"inputs": "..."}']);
        expect(problems({ inputs: "" })).toEqual(["inputs: must not be empty"]);
        expect(problems({ inputs: "a" })).toEqual([]);
        expect(problems({ inputs: "x", prompt: "y" })).toEqual([': Unrecognized key: "prompt"']);
        expect(problems({ inputs: "x", parameters: { maxNewTokens: 5 } })).toEqual(['parameters: Unrecognized key: "maxNewTokens"']);
    });

    it("takes every parameter TGI's /generate documents, at valid values", () => {
        const full = {
            inputs: "SELECT",
            add_special_tokens: false,
            parameters: {
                max_new_tokens: 199,
                temperature: 0.7,
                repetition_penalty: 1.1,
                frequency_penalty: -2,
                top_k: 1,
                top_p: 0.95,
                typical_p: 0.5,
                do_sample: true,
                best_of: 2,
                stop: ["a", "b", "c", "d"],
                truncate: 100,
                watermark: false,
                details: true,
                decoder_input_details: false,
                return_full_text: null,
                top_n_tokens: 5,
                grammar: { type: "regex", value: "[a-z]+" },
                adapter_id: "lora-1",
            },
        };
        const r = small.safeParse(full);
        expect(r.success).toBe(true);
        // Parsed unchanged: the worker forwards the request to TGI as given.
        expect(r.data).toEqual(full);
        // Null means "TGI's default" for the nullable ones.
        const nulls = { max_new_tokens: null, temperature: null, repetition_penalty: null, frequency_penalty: null, top_k: null, top_p: null, typical_p: null, best_of: null, seed: null, truncate: null, top_n_tokens: null, grammar: null, adapter_id: null };
        expect(params(nulls)).toEqual([]);
    });

    it("refuses wrong types with the field's own message", () => {
        expect(params({ max_new_tokens: "3" })).toEqual([`parameters.max_new_tokens: ${MAX_NEW}`]);
        expect(params({ top_k: "3" })).toEqual(["parameters.top_k: must be a whole number > 0"]);
        expect(params({ best_of: "2" })).toEqual(["parameters.best_of: must be 1 or 2"]);
        expect(params({ seed: "1" })).toEqual(["parameters.seed: must be a whole number >= 0"]);
        expect(params({ truncate: "1" })).toEqual(["parameters.truncate: must be a whole number from 1 to 100"]);
        expect(params({ top_n_tokens: "1" })).toEqual(["parameters.top_n_tokens: must be a whole number from 0 to 5"]);
        expect(problems({ inputs: "x", add_special_tokens: "yes" })).toEqual(["add_special_tokens: Invalid input: expected boolean, received string"]);
        for (const flag of ["do_sample", "watermark", "details", "decoder_input_details", "return_full_text"]) {
            expect(params({ [flag]: "true" })).toEqual([`parameters.${flag}: Invalid input: expected boolean, received string`]);
        }
        expect(params({ stop: "END" })).toEqual(["parameters.stop: Invalid input: expected array, received string"]);
        expect(params({ adapter_id: 7 })).toEqual(["parameters.adapter_id: Invalid input: expected string, received number"]);
    });

    it("refuses fractions where TGI takes whole numbers", () => {
        expect(params({ max_new_tokens: 1.5, top_k: 2.5, best_of: 1.5, seed: 0.5, truncate: 10.5, top_n_tokens: 1.5 })).toEqual([
            `parameters.max_new_tokens: ${MAX_NEW}`,
            "parameters.top_k: must be a whole number > 0",
            "parameters.best_of: must be 1 or 2",
            "parameters.seed: must be a whole number >= 0",
            "parameters.truncate: must be a whole number from 1 to 100",
            "parameters.top_n_tokens: must be a whole number from 0 to 5",
        ]);
    });
});

describe("TGI's limits, at each boundary and one past it", () => {
    it("max_new_tokens: 1 to the variant's max total tokens minus one prompt token", () => {
        expect(params({ max_new_tokens: 1 })).toEqual([]);
        expect(params({ max_new_tokens: 0 })).toEqual(["parameters.max_new_tokens: must be at least 1"]);
        expect(params({ max_new_tokens: 199 })).toEqual([]);
        expect(params({ max_new_tokens: 200 })).toEqual(["parameters.max_new_tokens: must be at most 199 (the variant's max total tokens 200 minus at least one prompt token)"]);
    });

    it("truncate: 1 to the variant's max input tokens", () => {
        expect(params({ truncate: 1 })).toEqual([]);
        expect(params({ truncate: 0 })).toEqual(["parameters.truncate: must be at least 1"]);
        expect(params({ truncate: 100 })).toEqual([]);
        expect(params({ truncate: 101 })).toEqual(["parameters.truncate: must be at most 100 (the variant's max input tokens)"]);
    });

    it("without a variant's own limits: the fleet's defaults, max input 2048 and max total 4096", () => {
        expect(DEFAULT_LIMITS).toEqual({ maxInputTokens: 2048, maxTotalTokens: 4096 });
        const d = generateRequestSchema(DEFAULT_LIMITS);
        expect(params({ max_new_tokens: 4095, truncate: 2048 }, d)).toEqual([]);
        expect(params({ max_new_tokens: 4096, truncate: 2049 }, d)).toEqual([
            "parameters.max_new_tokens: must be at most 4095 (the variant's max total tokens 4096 minus at least one prompt token)",
            "parameters.truncate: must be at most 2048 (the variant's max input tokens)",
        ]);
    });

    it("temperature and repetition_penalty strictly positive; frequency_penalty from -2 to 2", () => {
        expect(params({ temperature: 0.01, repetition_penalty: 0.01 })).toEqual([]);
        expect(params({ temperature: 0, repetition_penalty: 0 })).toEqual(["parameters.temperature: must be > 0", "parameters.repetition_penalty: must be > 0"]);
        expect(params({ temperature: -1, repetition_penalty: -1 })).toEqual(["parameters.temperature: must be > 0", "parameters.repetition_penalty: must be > 0"]);
        expect(params({ frequency_penalty: -2 })).toEqual([]);
        expect(params({ frequency_penalty: 2 })).toEqual([]);
        expect(params({ frequency_penalty: -2.01 })).toEqual(["parameters.frequency_penalty: must be from -2 to 2"]);
        expect(params({ frequency_penalty: 2.01 })).toEqual(["parameters.frequency_penalty: must be from -2 to 2"]);
    });

    it("top_k above 0; top_p and typical_p strictly between 0 and 1", () => {
        expect(params({ top_k: 1 })).toEqual([]);
        expect(params({ top_k: 0 })).toEqual(["parameters.top_k: must be > 0"]);
        expect(params({ top_p: 0.001, typical_p: 0.999 })).toEqual([]);
        expect(params({ top_p: 0, typical_p: 0 })).toEqual(["parameters.top_p: must be > 0 and < 1", "parameters.typical_p: must be > 0 and < 1"]);
        expect(params({ top_p: 1, typical_p: 1 })).toEqual(["parameters.top_p: must be > 0 and < 1", "parameters.typical_p: must be > 0 and < 1"]);
    });

    it("best_of 1 or 2 (max_best_of 2); seed from 0; at most 4 stop sequences; top_n_tokens 0 to 5", () => {
        expect(params({ best_of: 1, seed: 0, stop: [], top_n_tokens: 0 })).toEqual([]);
        expect(params({ best_of: 0 })).toEqual(["parameters.best_of: must be 1 or 2"]);
        expect(params({ best_of: 3, do_sample: true })).toEqual(["parameters.best_of: must be 1 or 2"]);
        expect(params({ seed: -1 })).toEqual(["parameters.seed: must be >= 0"]);
        expect(params({ stop: ["1", "2", "3", "4"] })).toEqual([]);
        expect(params({ stop: ["1", "2", "3", "4", "5"] })).toEqual(["parameters.stop: may hold at most 4 stop sequences"]);
        expect(params({ stop: [1] })).toEqual(["parameters.stop.0: Invalid input: expected string, received number"]);
        expect(params({ top_n_tokens: 5 })).toEqual([]);
        expect(params({ top_n_tokens: -1 })).toEqual(["parameters.top_n_tokens: must be from 0 to 5"]);
        expect(params({ top_n_tokens: 6 })).toEqual(["parameters.top_n_tokens: must be from 0 to 5"]);
    });

    it("a grammar is json or regex, with nothing else in it", () => {
        expect(params({ grammar: { type: "json", value: { type: "object" } } })).toEqual([]);
        expect(params({ grammar: { type: "regex", value: "\\d+" } })).toEqual([]);
        expect(params({ grammar: { type: "xml", value: "x" } })).toEqual(['parameters.grammar.type: Invalid option: expected one of "json"|"regex"']);
        expect(params({ grammar: { type: "json", value: {}, strict: true } })).toEqual(['parameters.grammar: Unrecognized key: "strict"']);
    });
});

describe("best_of above 1 (TGI: it needs sampling, and no seed)", () => {
    it("is refused without sampling, naming the ways to turn sampling on", () => {
        const needsSampling = "parameters.best_of: above 1 needs sampling (do_sample, temperature, top_k, top_p or typical_p)";
        expect(params({ best_of: 2 })).toEqual([needsSampling]);
        expect(params({ best_of: 2, do_sample: false })).toEqual([needsSampling]);
        // Null is TGI's "unset": it turns nothing on.
        expect(params({ best_of: 2, temperature: null, top_k: null, top_p: null, typical_p: null })).toEqual([needsSampling]);
    });

    it("is accepted with any one of them", () => {
        for (const sampling of [{ do_sample: true }, { temperature: 0.5 }, { top_k: 10 }, { top_p: 0.9 }, { typical_p: 0.9 }]) {
            expect(params({ best_of: 2, ...sampling }), JSON.stringify(sampling)).toEqual([]);
        }
    });

    it("is refused together with a seed (0 included); best_of 1 or unset allows both", () => {
        expect(params({ best_of: 2, do_sample: true, seed: 0 })).toEqual(["parameters.seed: cannot be set together with best_of above 1"]);
        expect(params({ best_of: 2, seed: 7 })).toEqual([
            "parameters.best_of: above 1 needs sampling (do_sample, temperature, top_k, top_p or typical_p)",
            "parameters.seed: cannot be set together with best_of above 1",
        ]);
        expect(params({ best_of: 2, do_sample: true, seed: null })).toEqual([]);
        // Whole issues: custom ones, on the field to change.
        expect(small.safeParse({ inputs: "x", parameters: { best_of: 2, seed: 7 } }).error?.issues).toEqual([
            { code: "custom", path: ["parameters", "best_of"], message: "above 1 needs sampling (do_sample, temperature, top_k, top_p or typical_p)" },
            { code: "custom", path: ["parameters", "seed"], message: "cannot be set together with best_of above 1" },
        ]);
        expect(params({ best_of: 1, seed: 7 })).toEqual([]);
        expect(params({ seed: 7 })).toEqual([]);
        expect(params({ best_of: null, seed: 7 })).toEqual([]);
    });
});

describe("JSON depth (a grammar's schema is the deepest thing a request carries)", () => {
    /** n nested arrays: depth n. */
    const nested = (n: number): unknown => {
        let v: unknown = "leaf";
        for (let i = 0; i < n; i++) v = [v];
        return v;
    };

    it("counts objects and arrays, not scalars or null", () => {
        expect(MAX_JSON_DEPTH).toBe(32);
        expect(jsonDepth(null)).toBe(0);
        expect(jsonDepth(7)).toBe(0);
        expect(jsonDepth({})).toBe(1);
        expect(jsonDepth([])).toBe(1);
        expect(jsonDepth({ a: null, b: "s", c: 1 })).toBe(1);
        expect(jsonDepth({ a: [null] })).toBe(2);
        // The deepest branch counts, whichever side it is on.
        expect(jsonDepth({ a: { b: { c: {} } }, z: 1 })).toBe(4);
        expect(jsonDepth([[[[]]], {}])).toBe(4);
        expect(jsonDepth([{}, [[[]]]])).toBe(4);
    });

    it("stops counting at 33 by default, or where told", () => {
        expect(jsonDepth(nested(32))).toBe(32);
        expect(jsonDepth(nested(33))).toBe(33);
        expect(jsonDepth(nested(40))).toBe(33);
        expect(jsonDepth(nested(10), 5)).toBe(5);
        expect(jsonDepth(nested(4), 5)).toBe(4);
        expect(jsonDepth(nested(5), 5)).toBe(5);
    });

    it("a grammar value may nest 32 levels, not 33", () => {
        expect(params({ grammar: { type: "json", value: nested(32) } })).toEqual([]);
        expect(params({ grammar: { type: "json", value: nested(33) } })).toEqual(["parameters.grammar: must not nest deeper than 32 levels"]);
    });
});
