/**
 * The stack configuration: one zod schema, the single source of truth. Every
 * `mlserve:<key>` in Pulumi.<stack>.yaml is a top-level key of `stackConfigSchema`;
 * the TypeScript types are inferred from it and defaults live in the area
 * schemas only. Each area's cross-field rules sit beside its schema; STACK_RULES
 * lists them all, and load.ts runs them after the schema.
 */
import { z } from "zod";
import { addons, addonsRules } from "./addons";
import { asyncRules, asyncSchema } from "./async";
import { clusterAreaRules, clusterAreas } from "./cluster";
import { fleetRules, fleetSchema, variantsSchema } from "./fleet";
import { kserveGraphsSchema, kserveModelItemRules, kserveModelsSchema, kserveRules } from "./kserve";
import { lifecycleSchema } from "./lifecycle";
import { modelApi, modelApiRules } from "./modelApi";
import { optimization, optimizationRules } from "./optimization";
import { benchmark, benchmarkRules } from "./benchmark";
import { at, type Check } from "./rules";

/** AWS region, e.g. us-east-1, eu-west-2, ap-southeast-1. */
export const awsRegion = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "must be an AWS region such as us-east-1");

/** Every `mlserve:*` key. Add a new area's config here and its type follows. */
export const stackConfigSchema = z.strictObject({
    ...clusterAreas,
    addons,
    modelApi,
    variants: variantsSchema,
    fleet: fleetSchema.prefault({}),
    kserveModels: kserveModelsSchema,
    kserveGraphs: kserveGraphsSchema,
    async: asyncSchema.prefault({}),
    optimization,
    benchmark,
    // Prefault with no owner: a missing section reports the missing owner, by its key path.
    lifecycle: lifecycleSchema.prefault({} as z.input<typeof lifecycleSchema>),
    /** Extra AWS tags on every taggable resource. */
    tags: z.record(z.string().min(1).max(128), z.string().max(256)).default({}),
});

/** Every cross-field rule of every area, mounted at the top of the `mlserve:` config. */
export const STACK_RULES: readonly Check[] = [
    ...clusterAreaRules,
    ...addonsRules,
    ...modelApiRules,
    ...fleetRules,
    ...kserveRules,
    at("kserveModels", kserveModelItemRules),
    ...asyncRules,
    ...optimizationRules,
    ...benchmarkRules,
];

/** Validated, defaulted `mlserve:*` config. */
export type MlserveConfig = z.infer<typeof stackConfigSchema>;

/** The whole validated stack configuration the program is built from. */
export interface StackConfig extends MlserveConfig {
    /** Pulumi project and stack names (`mlserve`, `dev`). */
    project: string;
    stack: string;
    /** `aws:region`. */
    region: string;
    /** Values held only as Pulumi secrets (never in the plain config). */
    secrets: { hfToken?: import("@pulumi/pulumi").Output<string> };
}

/** The `mlserve:` keys the schema knows, for the unknown-key check. */
export const MLSERVE_KEYS = Object.keys(stackConfigSchema.shape);
