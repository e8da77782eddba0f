/**
 * Schema validation of rendered Kubernetes objects:
 * - built-in kinds against the `kubernetes-models` schemas (required fields, types);
 * - custom resources strictly (unknown fields are errors) against the upstream
 *   CRDs (KServe, KEDA, Knative Serving) from the reference data: ../shared/reference/crds,
 *   or .cache/reference/crds after `npm run reference:fetch` (infra/plan/reference.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import { parseAllDocuments } from "yaml";
import { referenceDir } from "../../infra/plan/reference";

/** The upstream CRD folder; throws one ReferenceDataError naming `npm run reference:fetch` when there is none. */
export const crdDir = (): string => referenceDir("crds");

type K8sObject = { apiVersion?: unknown; kind?: unknown } & Record<string, unknown>;

/**
 * kubernetes-models packages for API groups that have no CRD in the reference data
 * (core Kubernetes, the Knative Operator, the Prometheus Operator). Versions that
 * run on Node 20; they check types and required fields, not unknown fields.
 */
function modelsModule(apiVersion: string): string {
    const group = apiVersion.includes("/") ? apiVersion.split("/")[0]! : "";
    if (group === "operator.knative.dev") return `@kubernetes-models/knative/${apiVersion}`;
    if (group === "monitoring.coreos.com") return `@kubernetes-models/prometheus-operator/${apiVersion}`;
    return `kubernetes-models/${apiVersion}`;
}

/** Validate a kind with kubernetes-models; returns error text, or undefined when valid. */
export async function validateBuiltin(obj: K8sObject): Promise<string | undefined> {
    const apiVersion = String(obj.apiVersion);
    const kind = String(obj.kind);
    let mod: Record<string, unknown>;
    try {
        mod = (await import(modelsModule(apiVersion))) as Record<string, unknown>;
    } catch {
        return `no kubernetes-models schema module for apiVersion ${apiVersion}`;
    }
    const Model = mod[kind] as (new (o: unknown) => { validate(): void }) | undefined;
    if (!Model) return `kubernetes-models has no kind ${kind} in ${apiVersion}`;
    try {
        new Model(obj).validate();
        return undefined;
    } catch (err) {
        return (err as Error).message;
    }
}

/** Make a CRD's structural schema strict: objects with declared properties reject undeclared ones. */
export function strictify(schema: unknown): unknown {
    if (Array.isArray(schema)) return schema.map(strictify);
    if (schema === null || typeof schema !== "object") return schema;
    const s = Object.fromEntries(Object.entries(schema as Record<string, unknown>).map(([k, v]) => [k, k === "enum" || k === "default" || k === "example" ? v : strictify(v)]));
    if (s.properties && s.additionalProperties === undefined && s["x-kubernetes-preserve-unknown-fields"] !== true) {
        s.additionalProperties = false;
    }
    return s;
}

/**
 * The API server evaluates CRD patterns with Go's regexp; some CRDs (the
 * Prometheus operator's) use its inline flag `(?i)`, which JavaScript spells as
 * a flag. Other patterns are the same in both.
 */
const goRegExp = Object.assign(
    (pattern: string, flags: string) => (pattern.includes("(?i)") ? new RegExp(pattern.replaceAll("(?i)", ""), `${flags}i`) : new RegExp(pattern, flags)),
    { code: "goRegExp" },
);

type CrdObject = { kind?: string; spec?: { group: string; names: { kind: string }; versions: Array<{ name: string; schema?: { openAPIV3Schema?: unknown } }> } } | null;

export class CrdValidator {
    private readonly ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, code: { regExp: goRegExp } });
    /** Schemas by `group/version/Kind`; compiled on first use (the Prometheus and KServe CRDs are large). */
    private readonly schemas = new Map<string, unknown>();
    private readonly validators = new Map<string, ValidateFunction>();
    /** Where the CRD files came from (for messages). */
    private readonly source: string;

    /** CRDs from a folder of YAML files (`dir`), plus CRD objects already parsed (e.g. rendered by Helm charts). */
    constructor(dir?: string, crds: readonly unknown[] = []) {
        this.source = dir ?? "the given CRD objects";
        if (dir) {
            const files = fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => /\.ya?ml$/.test(f));
            for (const file of files) {
                for (const doc of parseAllDocuments(fs.readFileSync(path.join(dir, file), "utf8"))) this.add(doc.toJS() as CrdObject);
            }
        }
        for (const crd of crds) this.add(crd as CrdObject);
    }

    /** Register a CustomResourceDefinition; anything else is ignored. A later CRD for the same kind wins. */
    add(crd: CrdObject): void {
        if (crd?.kind !== "CustomResourceDefinition" || !crd.spec) return;
        for (const v of crd.spec.versions) {
            if (!v.schema?.openAPIV3Schema) continue;
            const key = `${crd.spec.group}/${v.name}/${crd.spec.names.kind}`;
            this.schemas.set(key, v.schema.openAPIV3Schema);
            this.validators.delete(key);
        }
    }

    get kinds(): string[] {
        return [...this.schemas.keys()];
    }

    handles(obj: K8sObject): boolean {
        return this.schemas.has(`${String(obj.apiVersion)}/${String(obj.kind)}`);
    }

    private validatorFor(key: string): ValidateFunction | undefined {
        let v = this.validators.get(key);
        const schema = this.schemas.get(key);
        if (!v && schema) {
            v = this.ajv.compile(strictify(schema) as object);
            this.validators.set(key, v);
        }
        return v;
    }

    /** Error text, or undefined when valid. */
    validate(obj: K8sObject): string | undefined {
        const validate = this.validatorFor(`${String(obj.apiVersion)}/${String(obj.kind)}`);
        if (!validate) return `no CRD for ${String(obj.apiVersion)} ${String(obj.kind)} in ${this.source}`;
        if (validate(obj)) return undefined;
        return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""}${e.params && "additionalProperty" in e.params ? ` (${String(e.params.additionalProperty)})` : ""}`).join("; ");
    }
}

/** Validate one object: strictly against its CRD when `crds` has one, else with kubernetes-models. Error text or undefined. */
export async function validateObject(obj: K8sObject, crds: CrdValidator): Promise<string | undefined> {
    return crds.handles(obj) ? crds.validate(obj) : validateBuiltin(obj);
}
