/** components/validators.ts: the field validators every config area uses. */
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { dnsLabel, duration, durationSeconds, isProductionStack, labelKey, labelValue, pinnedImage, quantity } from "../../components/validators";

/** The messages a schema gives a value ([] when it is accepted). */
const messages = (schema: z.ZodType, value: unknown) => schema.safeParse(value).error?.issues.map((i) => i.message) ?? [];
const accepted = (schema: z.ZodType, values: string[]) => values.filter((v) => schema.safeParse(v).success);

describe("quantity", () => {
    it("accepts plain numbers, decimals, millicores and binary suffixes", () => {
        const good = ["500m", "4", "10", "0.5", "1.25", "32Gi", "1.5Gi", "1Ki", "512Mi", "2Ti"];
        expect(accepted(quantity, good)).toEqual(good);
    });
    it("refuses anything else, saying what a quantity looks like", () => {
        expect(accepted(quantity, ["1.", ".5", "4G", "x4", "4Gix", "Gi", "", "1.5.5", " 4", "4 ", "4gi", "-1"])).toEqual([]);
        expect(messages(quantity, "4G")).toEqual(["must be a Kubernetes quantity such as 500m, 4, 32Gi"]);
    });
});

describe("durations", () => {
    it("durationSeconds converts s, m and h and is NaN for anything else", () => {
        expect(["30s", "5m", "1h", "90m", "0s", "120s"].map(durationSeconds)).toEqual([30, 300, 3600, 5400, 0, 120]);
        for (const bad of ["1d", "s", "1.5h", "x30s", "30sx", "", "30", "-5m"]) expect(durationSeconds(bad)).toBeNaN();
    });
    it("an unbounded duration takes a whole number and s, m or h", () => {
        const d = duration();
        expect(accepted(d, ["30s", "5m", "1h", "120s"])).toEqual(["30s", "5m", "1h", "120s"]);
        expect(accepted(d, ["30", "30d", "x30s", "30sx", "1.5h", "h"])).toEqual([]);
        expect(messages(d, "30d")).toEqual(["must be a duration such as 30s, 5m or 1h"]);
    });
    it("a bounded duration accepts its bounds exactly and refuses one second past each, naming them", () => {
        const d = duration({ min: 10, max: 3600, what: "Knative's limit" });
        expect(accepted(d, ["10s", "11s", "60m", "1h", "3600s"])).toEqual(["10s", "11s", "60m", "1h", "3600s"]);
        const msg = "must be a duration such as 30s, 2m or 1h, between 10s and 3600s (Knative's limit)";
        for (const bad of ["9s", "3601s", "61m", "2h", "abc"]) expect(messages(d, bad)).toEqual([msg]);
    });
});

describe("dnsLabel", () => {
    it("takes 1 to max lowercase letters, digits and '-', starting with a letter and not ending with '-'", () => {
        const d = dnsLabel(5);
        expect(accepted(d, ["a", "ab", "a-b", "abcde", "a1", "a--1z"])).toEqual(["a", "ab", "a-b", "abcde", "a1", "a--1z"]);
        expect(accepted(d, ["abcdef", "1ab", "ab-", "Ab", "a_b", "", "-a", "a.b"])).toEqual([]);
        expect(messages(d, "abcdef")).toEqual(["must be a DNS label of 1-5 characters starting with a letter"]);
        expect(accepted(dnsLabel(24), ["a".repeat(24), "a".repeat(25)])).toEqual(["a".repeat(24)]);
    });
});

describe("pinnedImage", () => {
    const digest = "0123456789abcdef".repeat(4);
    it("accepts a tag or a sha256 digest, with registry ports and paths", () => {
        const good = ["nginx:1.27", "registry.example.com:5000/team/app:v1.2.3", `repo/app@sha256:${digest}`, `app:${"v".repeat(128)}`, "app:1_x-y.z", `app:v1@sha256:${digest}`, `app@sha512:${digest}${digest}`];
        expect(accepted(pinnedImage, good)).toEqual(good);
    });
    it("refuses an image without a tag (a registry port is not one), a bad tag or a malformed digest", () => {
        const bad = ["nginx", "registry.example.com:5000/app", "nginx:-x", `app:${"v".repeat(129)}`, `app@sha256:${digest.slice(1)}`, `app@sha256:${digest.toUpperCase()}`, "app:", "app:v1@sha256:abc", `app@sha256:${digest}0`, `app@sha512:${digest}`, "app@foo:v1"];
        expect(accepted(pinnedImage, bad)).toEqual([]);
        expect(messages(pinnedImage, "nginx")).toEqual(["must pin a tag or digest, e.g. <registry>/<image>:<version>"]);
    });
    it("refuses the floating tag latest, and only that tag", () => {
        expect(messages(pinnedImage, "nginx:latest")).toEqual(["must not use the floating tag latest; pin a version"]);
        expect(accepted(pinnedImage, ["nginx:latest-1", "nginx:mylatest"])).toEqual(["nginx:latest-1", "nginx:mylatest"]);
    });
});

describe("labels", () => {
    it("a label key is an optional DNS prefix and a name of up to 63 characters", () => {
        const good = ["team", "A", "mlserve.io/team", "a.b-c.d/x_y.z", "x".repeat(63), "my-kubernetes.io/x", "mykubernetes.io/x", "a/B"];
        expect(accepted(labelKey, good)).toEqual(good);
        expect(accepted(labelKey, ["x".repeat(64), "-a", "a-", "Team.IO/x", "/x", "a/b/c", "", "a b", "a./x", ".a/x"])).toEqual([]);
        expect(messages(labelKey, "-a")).toEqual(["must be a Kubernetes label key: [prefix/]name, name up to 63 alphanumerics, '-', '_' or '.'"]);
    });
    it("kubernetes.io/ and k8s.io/ prefixes, and their subdomains, are reserved", () => {
        const msg = ["kubernetes.io/ and k8s.io/ label prefixes are reserved; use your own prefix such as mlserve.io/"];
        for (const k of ["kubernetes.io/role", "node.kubernetes.io/x", "k8s.io/x", "sub.k8s.io/x"]) expect(messages(labelKey, k)).toEqual(msg);
    });
    it("a label value is empty or up to 63 alphanumerics, '-', '_' or '.'", () => {
        const good = ["", "v1", "a-b_c.d", "Z", "y".repeat(63)];
        expect(accepted(labelValue, good)).toEqual(good);
        expect(accepted(labelValue, ["y".repeat(64), "-a", "a-", "a b", "a/b"])).toEqual([]);
        expect(messages(labelValue, "a b")).toEqual(["must be a Kubernetes label value: up to 63 alphanumerics, '-', '_' or '.'"]);
    });
});

describe("isProductionStack", () => {
    it("prod and production, alone or before a separator, are production", () => {
        const names = ["prod", "production", "prod-eu", "production.us", "prod_x", "dev", "products", "preprod", "myprod", "producti", "staging"];
        expect(names.filter(isProductionStack)).toEqual(["prod", "production", "prod-eu", "production.us", "prod_x"]);
    });
});
