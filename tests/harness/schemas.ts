/**
 * Schema validation of rendered Kubernetes objects:
 * - built-in kinds against the `kubernetes-models` schemas (required fields, types);
 * - custom resources strictly (unknown fields are errors) against the upstream
 *   CRDs in ../shared/reference/crds (KServe, KEDA, Knative Serving).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import { parseAllDocuments } from "yaml";
import { REPO_ROOT } from "../../infra/plan/render";

export const CRD_DIR = process.env.MLSERVE_CRD_DIR ?? path.resolve(REPO_ROOT, "..", "shared", "reference", "crds");

type K8sObject = { apiVersion?: unknown; kind?: unknown } & Record<string, unknown>;

/**
 * kubernetes-models packages for API groups that have no CRD in shared/reference
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

export class CrdValidator {
    private readonly validators = new Map<string, ValidateFunction>();

    constructor(dir: string) {
        const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
        const files = fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => /\.ya?ml$/.test(f));
        for (const file of files) {
            for (const doc of parseAllDocuments(fs.readFileSync(path.join(dir, file), "utf8"))) {
                const crd = doc.toJS() as { kind?: string; spec?: { group: string; names: { kind: string }; versions: Array<{ name: string; schema?: { openAPIV3Schema?: unknown } }> } } | null;
                if (crd?.kind !== "CustomResourceDefinition" || !crd.spec) continue;
                for (const v of crd.spec.versions) {
                    if (!v.schema?.openAPIV3Schema) continue;
                    this.validators.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, ajv.compile(strictify(v.schema.openAPIV3Schema) as object));
                }
            }
        }
    }

    get kinds(): string[] {
        return [...this.validators.keys()];
    }

    handles(obj: K8sObject): boolean {
        return this.validators.has(`${String(obj.apiVersion)}/${String(obj.kind)}`);
    }

    /** Error text, or undefined when valid. */
    validate(obj: K8sObject): string | undefined {
        const validate = this.validators.get(`${String(obj.apiVersion)}/${String(obj.kind)}`);
        if (!validate) return `no CRD for ${String(obj.apiVersion)} ${String(obj.kind)} in ${CRD_DIR}`;
        if (validate(obj)) return undefined;
        return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""}${e.params && "additionalProperty" in e.params ? ` (${String(e.params.additionalProperty)})` : ""}`).join("; ");
    }
}
