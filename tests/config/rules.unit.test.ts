/** infra/config/rules.ts (cross-field rule helpers) and suggest.ts ("did you mean"). */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { at, eachItem, minNotAboveMax, rule, validItems } from "../../infra/config/rules";
import { didYouMean, editDistance } from "../../infra/config/suggest";

/** Built per call so rule() runs inside the tests (see vitest.mutation.config.mts on static coverage). */
const positive = (input: unknown) => rule({ n: z.int().default(1) }, (v) => (v.n < 0 ? [{ path: ["n"], input: v.n, message: "negative" }] : []))(input);

describe("rule helpers", () => {
    it("a rule runs on its parsed fields, with defaults, and says nothing when they do not parse", () => {
        expect(positive({ n: -2, other: "ignored" })).toEqual([{ path: ["n"], input: -2, message: "negative" }]);
        expect(positive({ n: "x" })).toEqual([]);
        expect(positive(undefined)).toEqual([]);
        expect(positive(null)).toEqual([]);
        const seen: unknown[] = [];
        rule({ n: z.int().default(7) }, (v) => (seen.push(v), []))(null);
        expect(seen).toEqual([{ n: 7 }]);
    });

    it("at prefixes the paths with its key, and passes undefined for a non-object", () => {
        expect(at("area", [positive])({ area: { n: -1 } })).toEqual([{ path: ["area", "n"], input: -1, message: "negative" }]);
        expect(at("area", [positive, positive])({ area: { n: -1 } })).toHaveLength(2);
        expect(at("area", [positive])({ other: { n: -1 } })).toEqual([]);
        expect(at("area", [positive])("area")).toEqual([]);
        expect(at("area", [positive])(null)).toEqual([]);
        const seen: unknown[] = [];
        at("k", [(raw) => (seen.push(raw), [])])("text");
        at("k", [(raw) => (seen.push(raw), [])])(null);
        expect(seen).toEqual([undefined, undefined]);
    });

    it("eachItem runs on every item of an array, with the index in the path, and on nothing else", () => {
        expect(eachItem([positive])([{ n: 1 }, { n: -3 }, { n: -4 }])).toEqual([
            { path: [1, "n"], input: -3, message: "negative" },
            { path: [2, "n"], input: -4, message: "negative" },
        ]);
        expect(eachItem([positive])({ 0: { n: -1 } })).toEqual([]);
    });

    it("validItems keeps the items that parse, with their original index", () => {
        expect(validItems(z.object({ name: z.string() })).parse([{ name: "a" }, { name: 3 }, { name: "c" }])).toEqual([
            { index: 0, value: { name: "a" } },
            { index: 2, value: { name: "c" } },
        ]);
    });

    it("minNotAboveMax: equal is fine, one above is refused on minReplicas", () => {
        expect(minNotAboveMax({ minReplicas: 3, maxReplicas: 3 })).toEqual([]);
        expect(minNotAboveMax({ minReplicas: 4, maxReplicas: 3 })).toEqual([{ path: ["minReplicas"], input: 4, message: "must be <= maxReplicas (3)" }]);
    });
});

describe("did you mean", () => {
    it("edit distance counts insertions, deletions and substitutions, ignoring case", () => {
        expect(editDistance("kitten", "sitting")).toBe(3);
        expect(editDistance("", "abc")).toBe(3);
        expect(editDistance("abc", "")).toBe(3);
        expect(editDistance("MaxSize", "maxsize")).toBe(0);
        expect(editDistance("flaw", "lawn")).toBe(2);
        expect(editDistance("ab", "ba")).toBe(2);
        expect(editDistance("abcd", "abd")).toBe(1);
        expect(editDistance("abd", "abcd")).toBe(1);
    });

    it("suggests the closest key within max(2, a third of the given length)", () => {
        expect(didYouMean("desiredsize", ["minSize", "desiredSize"])).toBe('; did you mean "desiredSize"?');
        expect(didYouMean("maxSise", ["minSize", "maxSize"])).toBe('; did you mean "maxSize"?');
        // The first of equally close keys wins.
        expect(didYouMean("ab", ["ax", "ay"])).toBe('; did you mean "ax"?');
        // Short keys: up to 2 edits.
        expect(didYouMean("abc", ["xyc"])).toBe('; did you mean "xyc"?');
        expect(didYouMean("abc", ["xyz"])).toBe("");
        // 9 characters: 3 edits, not 4.
        expect(didYouMean("abcdefghi", ["abcdefxyz"])).toBe('; did you mean "abcdefxyz"?');
        expect(didYouMean("abcdefghi", ["abcdewxyz"])).toBe("");
        expect(didYouMean("anything", [])).toBe("");
    });
});
