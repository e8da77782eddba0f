/**
 * The mlserve policy pack: `pulumi preview --policy-pack policy` (the PR workflow
 * runs it). The rules themselves are pure functions in rules.ts.
 */
import { PolicyPack, type ResourceValidationPolicy, type StackValidationPolicy } from "@pulumi/policy";
import { environmentOf, RULES, type PolicyInput } from "./rules";

const toInput = (r: { type: string; name: string; urn: string; props: Record<string, unknown> }, providerProps?: Record<string, unknown>): PolicyInput => ({
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: r.props,
    providerProps,
});

const policies: Array<ResourceValidationPolicy | StackValidationPolicy> = RULES.map((rule) =>
    rule.resource
        ? {
              name: rule.name,
              description: rule.description,
              enforcementLevel: "mandatory",
              validateResource: (args, reportViolation) => {
                  for (const v of rule.resource!(toInput(args, args.provider?.props), environmentOf(args.urn))) reportViolation(v);
              },
          }
        : {
              name: rule.name,
              description: rule.description,
              enforcementLevel: "mandatory",
              validateStack: (args, reportViolation) => {
                  const inputs = args.resources.map((r) => toInput(r, r.provider?.props));
                  const env = inputs[0] ? environmentOf(inputs[0].urn) : "nonprod";
                  for (const v of rule.stack!(inputs, env)) reportViolation(v);
              },
          },
);

new PolicyPack("mlserve", { policies });
