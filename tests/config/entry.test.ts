/**
 * The real program entry (infra/index.ts, what `pulumi up` runs) with bad
 * config: it must stop with one RunError (printed without a stack trace by the
 * Pulumi CLI) before registering anything.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";

describe("infra/index.ts with invalid config", () => {
    it("throws one RunError naming every bad key and registers no resource", async () => {
        const registered: string[] = [];
        // Mocks first, then the program import.
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => {
                    registered.push(`${args.type}::${args.name}`);
                    return { id: `${args.name}-id`, state: args.inputs };
                },
                call: () => ({}),
            },
            "mlserve",
            "dev",
            false,
        );
        pulumi.runtime.setAllConfig({
            "aws:region": "us-east-1",
            "mlserve:gpuNodes": JSON.stringify({ instanceType: "m5.large", minSize: 3, maxSize: 1, desiredSize: 1 }),
            "mlserve:clutser": JSON.stringify({}),
        });

        const error = await import("../../infra/index").then(
            () => undefined,
            (err: unknown) => err,
        );
        expect(pulumi.RunError.isInstance(error)).toBe(true);
        const message = (error as Error).message;
        expect(message).toContain("mlserve:gpuNodes.instanceType");
        expect(message).toContain("mlserve:gpuNodes.minSize");
        expect(message).toMatch(/mlserve:clutser: .*did you mean "cluster"/);
        expect(message).toContain("Pulumi.dev.yaml");

        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(registered).toEqual([]);
    });
});
