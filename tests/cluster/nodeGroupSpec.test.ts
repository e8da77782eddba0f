import { describe, expect, it } from "vitest";
import { GPU_INSTANCE_TYPES } from "../../components/platform/cluster/instanceTypes";
import { buildNodeGroupSpec, GPU_TOLERATIONS, type NodeGroupSizing } from "../../components/platform/cluster/nodeGroupSpec";
import { EC2_HOURLY_USD } from "../../infra/cost/prices";

const sizing: NodeGroupSizing = { instanceType: "g5.12xlarge", capacityType: "ON_DEMAND", minSize: 0, desiredSize: 0, maxSize: 2, diskSizeGiB: 500, labels: {} };

describe("buildNodeGroupSpec", () => {
    it("GPU pool: NVIDIA AMI, taint in EKS form, GPU count from the instance table in the autoscaler tags", () => {
        const spec = buildNodeGroupSpec("gpu", "mlserve-x", sizing);
        expect(spec.amiType).toBe("AL2023_x86_64_NVIDIA");
        expect(spec.taints).toEqual([{ key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" }]);
        expect(spec.autoscalerTags["k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"]).toBe("4");
        expect(spec.autoscalerTags["k8s.io/cluster-autoscaler/node-template/resources/ephemeral-storage"]).toBe("500Gi");
        expect(spec.autoscalerTags["k8s.io/cluster-autoscaler/mlserve-x"]).toBe("owned");
    });

    it("pod tolerations use the Kubernetes spelling of the same taint", () => {
        const spec = buildNodeGroupSpec("gpu", "c", sizing);
        const taint = spec.taints[0]!;
        expect(GPU_TOLERATIONS).toEqual([{ key: taint.key, operator: "Exists", effect: "NoSchedule" }]);
        expect(spec.autoscalerTags[`k8s.io/cluster-autoscaler/node-template/taint/${taint.key}`]).toBe("true:NoSchedule");
    });

    it("every label is mirrored as a node-template label tag", () => {
        const spec = buildNodeGroupSpec("gpu", "c", { ...sizing, labels: { "example.com/team": "ml" } });
        for (const [k, v] of Object.entries(spec.labels)) {
            expect(spec.autoscalerTags[`k8s.io/cluster-autoscaler/node-template/label/${k}`]).toBe(v);
        }
        expect(spec.labels["example.com/team"]).toBe("ml");
    });

    it("system pool: standard AMI, no taint, no GPU resources", () => {
        const spec = buildNodeGroupSpec("system", "c", { ...sizing, instanceType: "m6i.large" });
        expect(spec.amiType).toBe("AL2023_x86_64_STANDARD");
        expect(spec.taints).toEqual([]);
        expect(Object.keys(spec.autoscalerTags).some((k) => k.includes("nvidia"))).toBe(false);
    });

    it("refuses a GPU pool on a non-GPU instance type", () => {
        expect(() => buildNodeGroupSpec("gpu", "c", { ...sizing, instanceType: "m6i.large" })).toThrow(/GPU instance type/);
    });

    it("every known GPU instance type has a price", () => {
        for (const t of Object.keys(GPU_INSTANCE_TYPES)) expect(EC2_HOURLY_USD[t], t).toBeGreaterThan(0);
    });
});
