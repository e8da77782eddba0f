/**
 * The tests' way into the program: render a stack config (an object shaped like
 * the `config:` map of a Pulumi.<stack>.yaml) under Pulumi mocks and query what
 * was registered. Uses the same engine as `npm run plan`.
 */
import { parseValue } from "../../infra/config/load";
import { renderStack, REPO_ROOT, type RecordedResource, type Rendering } from "../../infra/plan/render";
import type { StackConfig } from "../../infra/config/schema";
import { flattenStackConfig, readStackFile, withParked } from "../../infra/plan/stackFile";

export type { RecordedResource, Rendering };

/** The least config a stack needs: a region and an owner. */
export const BASE_CONFIG: Record<string, unknown> = { "aws:region": "us-east-1", "mlserve:lifecycle": { owner: "test-owner" } };

/** Render a config map on top of BASE_CONFIG. */
export function renderConfig(config: Record<string, unknown> = {}, stack = "test"): Promise<Rendering> {
    return renderStack({
        stack,
        stackFile: flattenStackConfig({ ...BASE_CONFIG, ...config }, `Pulumi.${stack}.yaml (test)`),
    });
}

/**
 * Render a single component (or any program fragment) under the same mocks,
 * with the default config. `build` runs after the mocks are installed; import
 * the component inside it (or above: components register nothing at import).
 */
export function renderComponent(build: (config: StackConfig) => unknown, stack = "test"): Promise<Rendering> {
    return renderStack({ stack, stackFile: flattenStackConfig(BASE_CONFIG, "(component test)"), build });
}

/** A committed stack file's config as values (what `renderConfig` takes), to render it with changes. */
export function stackFileConfig(stack: string): Record<string, unknown> {
    return Object.fromEntries(Object.entries(readStackFile(REPO_ROOT, stack).config).map(([k, v]) => [k, parseValue(v)]));
}

/** Render a committed stack file (Pulumi.<stack>.yaml). */
/** A stack file of the repository as `npm run plan` renders it; `parked` flips its park switch as the plan's second render does. */
export function renderStackFile(stack: string, opts: { parked?: boolean } = {}): Promise<Rendering> {
    if (opts.parked === undefined) return renderStack({ stack });
    return renderStack({ stack, stackFile: withParked(readStackFile(REPO_ROOT, stack), opts.parked) });
}

export function ofType(r: Rendering, type: string): RecordedResource[] {
    return r.resources.filter((x) => x.type === type);
}

/** The one resource of `type` whose logical name is `name`; fails loudly when absent or ambiguous. */
export function one(r: Rendering, type: string, name?: string): RecordedResource {
    const found = ofType(r, type).filter((x) => name === undefined || x.name === name);
    if (found.length !== 1) {
        const names = ofType(r, type).map((x) => x.name);
        throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length} (registered: ${names.join(", ") || "none"})`);
    }
    return found[0]!;
}

export function childrenOf(r: Rendering, parent: RecordedResource): RecordedResource[] {
    return r.resources.filter((x) => x.parent === parent.urn);
}

/** All resources below `parent`, at any depth. */
export function descendantsOf(r: Rendering, parent: RecordedResource): RecordedResource[] {
    const kids = childrenOf(r, parent);
    return kids.flatMap((k) => [k, ...descendantsOf(r, k)]);
}

/** Does `r` (transitively) wait for `on`? Follows recorded dependencies and provider references. */
export function dependsOn(rendering: Rendering, r: RecordedResource, on: RecordedResource): boolean {
    const byUrn = new Map(rendering.resources.map((x) => [x.urn, x]));
    const seen = new Set<string>();
    const stack = [r.urn];
    while (stack.length) {
        const urn = stack.pop()!;
        if (seen.has(urn)) continue;
        seen.add(urn);
        const cur = byUrn.get(urn);
        if (!cur) continue;
        const edges = cur.provider ? [...cur.dependencies, cur.provider] : cur.dependencies;
        if (edges.includes(on.urn)) return true;
        stack.push(...edges);
    }
    return false;
}
