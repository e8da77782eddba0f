/** Hand-made policy inputs shared by the policy tests. */
import type { PolicyInput } from "../../policy/rules";

export const urn = (stack: string, type: string, name: string) => `urn:pulumi:${stack}::mlserve::${type}::${name}`;

export const res = (type: string, props: Record<string, unknown>, extra: Partial<PolicyInput> = {}, stack = "dev"): PolicyInput => ({
    type,
    name: extra.name ?? "r",
    urn: urn(stack, type, extra.name ?? "r"),
    props,
    ...extra,
});

export const deployment = (container: Record<string, unknown>) => res("kubernetes:apps/v1:Deployment", { spec: { template: { spec: { containers: [{ name: "c", ...container }] } } } });
