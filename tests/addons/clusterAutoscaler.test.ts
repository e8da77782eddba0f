/**
 * Node autoscaling: Cluster Autoscaler with an identity limited to this
 * cluster's groups, node groups whose desired size it owns, and GPU node
 * templates that every GPU workload fits (so a pending GPU pod brings a node
 * from zero) while nothing but GPU workloads holds a GPU node (so parking frees it).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CLUSTER_AUTOSCALER_SERVICE_ACCOUNT } from "../../components/platform/addons/clusterAutoscaler";
import { childrenOf, dependsOn, one, ofType, renderConfig, renderStackFile, type Rendering } from "../harness/render";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- deep reads of rendered specs
type Json = Record<string, any>;

let dev: Rendering;
beforeAll(async () => {
    dev = await renderStackFile("dev");
});

const release = (r: Rendering) => ofType(r, "kubernetes:helm.sh/v3:Release").find((x) => x.inputs.name === "cluster-autoscaler");
const nodeGroups = (r: Rendering) => ofType(r, "aws:eks/nodeGroup:NodeGroup");
/** Tags Cluster Autoscaler reads from an ASG, by the node group whose ASG they tag. */
function asgTags(r: Rendering, nodeGroupName: string): Record<string, string> {
    const tags = ofType(r, "aws:autoscaling/tag:Tag").filter((t) => t.name.startsWith(`${nodeGroupName}-asg-`));
    return Object.fromEntries(tags.map((t) => [(t.inputs.tag as Json).key, (t.inputs.tag as Json).value]));
}

describe("Cluster Autoscaler", () => {
    it("is installed in kube-system, discovers this cluster's groups, and runs with its Pod Identity", () => {
        const ca = release(dev)!;
        expect(ca.inputs).toMatchObject({ chart: "cluster-autoscaler", version: "9.51.0", namespace: "kube-system" });
        expect(ca.inputs.values).toMatchObject({ cloudProvider: "aws", awsRegion: "us-east-1", autoDiscovery: { clusterName: "mlserve-dev" }, rbac: { serviceAccount: { name: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT } } });
        const association = ofType(dev, "aws:eks/podIdentityAssociation:PodIdentityAssociation").find((a) => a.inputs.namespace === "kube-system")!;
        expect(association.inputs.serviceAccount).toBe(CLUSTER_AUTOSCALER_SERVICE_ACCOUNT);
        expect(dependsOn(dev, ca, association)).toBe(true);
    });

    it("may resize or terminate only groups tagged as this cluster's, which are exactly the stack's node groups", () => {
        const component = one(dev, "mlserve:addons:ClusterAutoscaler");
        const policy = JSON.parse(String(childrenOf(dev, component).find((r) => r.type === "aws:iam/rolePolicy:RolePolicy")!.inputs.policy));
        const writes = policy.Statement.filter((s: Json) => [s.Action].flat().some((a: string) => /SetDesiredCapacity|TerminateInstance/.test(a)));
        expect(writes).toHaveLength(1);
        const [key, value] = Object.entries(writes[0].Condition.StringEquals as Record<string, string>)[0]!;
        expect(key).toBe("aws:ResourceTag/k8s.io/cluster-autoscaler/mlserve-dev");
        // The condition matches the tag the stack's own groups carry, and nothing else carries it.
        const tagKey = key!.slice("aws:ResourceTag/".length);
        expect(nodeGroups(dev).map((n) => n.name).sort()).toEqual(["mlserve-dev-gpu", "mlserve-dev-system"]);
        for (const ng of nodeGroups(dev)) expect(asgTags(dev, ng.name)[tagKey], ng.name).toBe(value);
        const describeNg = policy.Statement.find((s: Json) => [s.Action].flat().includes("eks:DescribeNodegroup"));
        expect([describeNg.Resource].flat().sort()).toEqual(nodeGroups(dev).map((n) => String(n.state.arn)).sort());
        const allActions = policy.Statement.flatMap((s: Json) => [s.Action].flat());
        expect(allActions.filter((a: string) => !/^(autoscaling|ec2):(Describe|Get)|^eks:DescribeNodegroup$/.test(a)).sort()).toEqual(["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"]);
    });

    it("owns the node groups' desired size: pulumi up leaves it alone, unless the autoscaler is off", async () => {
        for (const ng of nodeGroups(dev)) expect(ng.ignoreChanges, ng.name).toEqual(["scalingConfig.desiredSize"]);
        const off = await renderConfig({ "mlserve:addons": { clusterAutoscaler: { enabled: false } } });
        expect(release(off)).toBeUndefined();
        expect(nodeGroups(off)).toHaveLength(2);
        for (const ng of nodeGroups(off)) expect(ng.ignoreChanges, ng.name).toEqual([]);
    });

    it("removes an idle GPU node after the configured delay (per-group ASG option)", async () => {
        const gpu = nodeGroups(dev).find((n) => n.name.endsWith("-gpu"))!;
        const key = "k8s.io/cluster-autoscaler/node-template/autoscaling-options/scaledownunneededtime";
        expect(asgTags(dev, gpu.name)[key]).toBe("10m");
        const r = await renderConfig({ "mlserve:gpuNodes": { scaleDownIdleAfter: "30m" } });
        expect(asgTags(r, nodeGroups(r).find((n) => n.name.endsWith("-gpu"))!.name)[key]).toBe("30m");
        const bad = await renderConfig({ "mlserve:gpuNodes": { scaleDownIdleAfter: "30" } }).catch((e: unknown) => e);
        expect((bad as { problems: Json[] }).problems[0]).toMatchObject({ path: "mlserve:gpuNodes.scaleDownIdleAfter" });
    });
});

/** Pod templates of every workload the plan declares (Deployments, StatefulSets, DaemonSets, Jobs). */
function podTemplates(r: Rendering): Array<{ name: string; kind: string; spec: Json }> {
    return r.resources
        .filter((x) => /^kubernetes:(apps\/v1:(Deployment|StatefulSet|DaemonSet)|batch\/v1:Job)$/.test(x.type))
        .map((x) => ({ name: x.name, kind: x.type.split(":").pop()!, spec: (x.inputs.spec as Json).template.spec as Json }));
}
const requestsGpu = (spec: Json) => (spec.containers as Json[]).some((c) => Number(c.resources?.limits?.["nvidia.com/gpu"] ?? c.resources?.requests?.["nvidia.com/gpu"] ?? 0) > 0);

describe("GPU node template (what Cluster Autoscaler simulates when the group is at zero)", () => {
    let template: { labels: Record<string, string>; taints: Array<{ key: string; value: string; effect: string }>; gpus: number };
    beforeAll(() => {
        const tags = asgTags(dev, nodeGroups(dev).find((n) => n.name.endsWith("-gpu"))!.name);
        const prefix = "k8s.io/cluster-autoscaler/node-template/";
        template = {
            labels: Object.fromEntries(Object.entries(tags).filter(([k]) => k.startsWith(`${prefix}label/`)).map(([k, v]) => [k.slice(`${prefix}label/`.length), v])),
            taints: Object.entries(tags)
                .filter(([k]) => k.startsWith(`${prefix}taint/`))
                .map(([k, v]) => ({ key: k.slice(`${prefix}taint/`.length), value: v.split(":")[0]!, effect: v.split(":")[1]! })),
            gpus: Number(tags[`${prefix}resources/nvidia.com/gpu`] ?? 0),
        };
    });

    const tolerates = (spec: Json, taint: { key: string; value: string; effect: string }) =>
        ((spec.tolerations ?? []) as Json[]).some((t) => (t.operator === "Exists" && (!t.key || t.key === taint.key)) || (t.key === taint.key && t.value === taint.value && (!t.effect || t.effect === taint.effect)));

    it("every GPU workload fits a template node: its node selector, the taint, and its GPU count", () => {
        // Run the variants so their pod templates ask for the GPU as they will when scaled to 1.
        const gpuPods = podTemplates(dev).filter((p) => requestsGpu(p.spec));
        expect(gpuPods.length).toBeGreaterThanOrEqual(7);
        expect(template.gpus).toBe(1);
        // The AWS provider counts a node as a GPU node (unready until the device plugin registers it) only with this label.
        expect(template.labels["k8s.amazonaws.com/accelerator"]).toBe("nvidia-a10g");
        expect(template.taints).toEqual([{ key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" }]);
        for (const p of gpuPods) {
            for (const [k, v] of Object.entries((p.spec.nodeSelector ?? {}) as Record<string, string>)) expect(template.labels[k], `${p.name} selects ${k}=${v}`).toBe(v);
            for (const taint of template.taints) expect(tolerates(p.spec, taint), `${p.name} tolerates ${taint.key}`).toBe(true);
            const gpus = (p.spec.containers as Json[]).reduce((n, c) => n + Number(c.resources?.limits?.["nvidia.com/gpu"] ?? 0), 0);
            expect(gpus, p.name).toBeLessThanOrEqual(template.gpus);
        }
    });

    it("only GPU workloads (and per-node DaemonSets) tolerate GPU nodes, so a parked stack leaves the node empty for scale-down", () => {
        const holders = podTemplates(dev)
            .filter((p) => p.kind !== "DaemonSet" && template.taints.every((t) => tolerates(p.spec, t)) && !requestsGpu(p.spec))
            .map((p) => p.name);
        expect(holders).toEqual([]);
    });
});
