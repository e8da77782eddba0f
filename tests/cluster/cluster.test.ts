import { beforeAll, describe, expect, it } from "vitest";
import { eksAddonSpecs } from "../../components/platform/cluster/eksAddons";
import { childrenOf, dependsOn, descendantsOf, one, ofType, renderConfig, type Rendering } from "../harness/render";

let dev: Rendering;
let perAz: Rendering;

beforeAll(async () => {
    dev = await renderConfig({}, "dev");
    perAz = await renderConfig(
        {
            "mlserve:cluster": { availabilityZones: 3, natGateways: "perAz", endpointPublicAccess: false, adminRoleArns: ["arn:aws:iam::111122223333:role/platform-admin"] },
            "mlserve:gpuNodes": { instanceType: "g6.xlarge", minSize: 1, desiredSize: 2, maxSize: 4, diskSizeGiB: 300, labels: { "team.example.com/owner": "ml" } },
        },
        "prodlike",
    );
});

describe("components register what they promise", () => {
    // A component that silently registers nothing would pass every query that
    // filters by type; this test fails on it instead.
    const expectedChildTypes: Record<string, string[]> = {
        "mlserve:cluster:Cluster": ["mlserve:network:Vpc", "eks:index:Cluster", "aws:kms/key:Key", "aws:cloudwatch/logGroup:LogGroup", "aws:eks/addon:Addon", "mlserve:cluster:NodeGroup", "pulumi:providers:kubernetes", "mlserve:cluster:NvidiaDevicePlugin", "kubernetes:storage.k8s.io/v1:StorageClass"],
        "mlserve:network:Vpc": ["aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/natGateway:NatGateway", "aws:ec2/routeTable:RouteTable", "aws:ec2/vpcEndpoint:VpcEndpoint"],
        "mlserve:cluster:NodeGroup": ["aws:iam/role:Role", "aws:eks/nodeGroup:NodeGroup", "aws:autoscaling/tag:Tag"],
        "mlserve:cluster:NvidiaDevicePlugin": ["kubernetes:helm.sh/v3:Release"],
        "mlserve:addons:PlatformAddons": ["mlserve:addons:ClusterAutoscaler", "mlserve:addons:MetricsServer", "mlserve:addons:CertManager", "mlserve:addons:Keda", "mlserve:addons:Knative", "mlserve:addons:KServe", "mlserve:addons:Observability"],
        "mlserve:addons:ClusterAutoscaler": ["aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:eks/podIdentityAssociation:PodIdentityAssociation", "kubernetes:helm.sh/v3:Release"],
        "mlserve:addons:MetricsServer": ["kubernetes:helm.sh/v3:Release"],
        "mlserve:addons:CertManager": ["kubernetes:core/v1:Namespace", "kubernetes:helm.sh/v3:Release"],
        "mlserve:addons:Keda": ["aws:iam/role:Role", "aws:eks/podIdentityAssociation:PodIdentityAssociation", "kubernetes:helm.sh/v3:Release", "kubernetes:keda.sh/v1alpha1:ClusterTriggerAuthentication"],
        "mlserve:addons:Knative": ["kubernetes:helm.sh/v3:Release", "kubernetes:operator.knative.dev/v1beta1:KnativeServing"],
        "mlserve:addons:KServe": ["kubernetes:helm.sh/v3:Release"],
        "mlserve:addons:Observability": ["kubernetes:helm.sh/v3:Release", "kubernetes:monitoring.coreos.com/v1:PodMonitor", "kubernetes:core/v1:ConfigMap"],
        "mlserve:llm:Fleet": ["kubernetes:core/v1:Namespace", "mlserve:llm:Variant"],
        "mlserve:llm:Variant": ["kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Service"],
        "mlserve:kserve:Models": ["kubernetes:core/v1:Namespace", "kubernetes:serving.kserve.io/v1beta1:InferenceService", "kubernetes:serving.kserve.io/v1alpha1:InferenceGraph"],
        "mlserve:lifecycle:Guardrails": ["aws:sns/topic:Topic", "aws:sns/topicPolicy:TopicPolicy", "aws:budgets/budget:Budget", "aws:cloudwatch/metricAlarm:MetricAlarm"],
        "mlserve:async:Storage": ["aws:sqs/queue:Queue", "aws:s3/bucket:Bucket", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"],
        "mlserve:async:Identities": ["aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:eks/podIdentityAssociation:PodIdentityAssociation"],
        "mlserve:async:Images": ["mlserve:workloads:Image"],
        "mlserve:workloads:Image": ["aws:ecr/repository:Repository", "docker-build:index:Image"],
        "mlserve:workloads:ArtifactStore": ["aws:s3/bucket:Bucket", "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"],
        "mlserve:benchmark:Run": ["kubernetes:core/v1:Namespace", "kubernetes:core/v1:ServiceAccount", "aws:iam/role:Role", "aws:eks/podIdentityAssociation:PodIdentityAssociation", "kubernetes:rbac.authorization.k8s.io/v1:Role", "kubernetes:core/v1:ConfigMap", "mlserve:workloads:Image", "kubernetes:batch/v1:Job"],
        "mlserve:optimization:Run": ["kubernetes:core/v1:Namespace", "aws:iam/role:Role", "mlserve:workloads:Image", "kubernetes:batch/v1:Job"],
        "mlserve:async:Services": ["kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Service", "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "kubernetes:keda.sh/v1alpha1:ScaledObject", "kubernetes:core/v1:ServiceAccount"],
        "mlserve:modelapi:ModelApi": ["kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Service", "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"],
    };

    it("every component instance has the children its type must have", () => {
        const components = dev.resources.filter((r) => r.type.startsWith("mlserve:"));
        expect(components.length).toBeGreaterThanOrEqual(5);
        for (const c of components) {
            const childTypes = new Set(childrenOf(dev, c).map((k) => k.type));
            const expected = expectedChildTypes[c.type];
            expect(expected, `no expectation for component type ${c.type}: add one here`).toBeDefined();
            for (const t of expected!) expect(childTypes.has(t), `${c.type} ${c.name} registered no ${t}`).toBe(true);
        }
    });
});

describe("VPC", () => {
    it("single NAT: one NAT gateway and EIP, both private route tables route through it", () => {
        expect(ofType(dev, "aws:ec2/natGateway:NatGateway")).toHaveLength(1);
        expect(ofType(dev, "aws:ec2/eip:Eip")).toHaveLength(1);
        const natRoutes = ofType(dev, "aws:ec2/route:Route").filter((r) => r.inputs.natGatewayId);
        expect(natRoutes).toHaveLength(2);
        expect(new Set(natRoutes.map((r) => r.inputs.natGatewayId)).size).toBe(1);
    });

    it("perAz NAT: one NAT per AZ and each private subnet routes through its own", () => {
        expect(ofType(perAz, "aws:ec2/natGateway:NatGateway")).toHaveLength(3);
        const natRoutes = ofType(perAz, "aws:ec2/route:Route").filter((r) => r.inputs.natGatewayId);
        expect(new Set(natRoutes.map((r) => r.inputs.natGatewayId)).size).toBe(3);
    });

    it("public subnets are tagged for internet-facing ELBs, private ones for internal ELBs, both for the cluster", () => {
        const subnets = ofType(dev, "aws:ec2/subnet:Subnet");
        expect(subnets).toHaveLength(4);
        for (const s of subnets) {
            const tags = s.inputs.tags as Record<string, string>;
            expect(tags["kubernetes.io/cluster/mlserve-dev"]).toBe("shared");
            if (s.inputs.mapPublicIpOnLaunch) expect(tags["kubernetes.io/role/elb"]).toBe("1");
            else expect(tags["kubernetes.io/role/internal-elb"]).toBe("1");
        }
        expect(ofType(perAz, "aws:ec2/subnet:Subnet")).toHaveLength(6);
    });

    it("subnets spread over distinct AZs", () => {
        const azs = ofType(perAz, "aws:ec2/subnet:Subnet")
            .filter((s) => !s.inputs.mapPublicIpOnLaunch)
            .map((s) => s.inputs.availabilityZone);
        expect(new Set(azs).size).toBe(3);
    });
});

describe("EKS control plane", () => {
    it("API authentication, pinned version, logs, KMS secrets encryption, no default node group", () => {
        const cluster = one(dev, "eks:index:Cluster");
        expect(cluster.remote).toBe(true);
        const kms = one(dev, "aws:kms/key:Key", "mlserve-dev-secrets");
        expect(cluster.inputs).toMatchObject({
            name: "mlserve-dev",
            version: "1.33",
            authenticationMode: "API",
            skipDefaultNodeGroup: true,
            createOidcProvider: true,
            enabledClusterLogTypes: ["api", "audit", "authenticator"],
            encryptionConfigKeyArn: kms.state.arn,
            endpointPublicAccess: true,
            publicAccessCidrs: ["0.0.0.0/0"],
        });
        expect(kms.inputs.enableKeyRotation).toBe(true);
    });

    it("the control-plane log group exists before the cluster, with the configured retention", () => {
        const logGroup = one(dev, "aws:cloudwatch/logGroup:LogGroup");
        expect(logGroup.inputs).toMatchObject({ name: "/aws/eks/mlserve-dev/cluster", retentionInDays: 30 });
        expect(dependsOn(dev, one(dev, "eks:index:Cluster"), logGroup)).toBe(true);
    });

    it("private-only endpoint sends no public CIDRs; admin roles become access entries", () => {
        const cluster = one(perAz, "eks:index:Cluster");
        expect(cluster.inputs.endpointPublicAccess).toBe(false);
        expect(cluster.inputs.publicAccessCidrs).toBeUndefined();
        expect(cluster.inputs.accessEntries).toEqual({
            "admin-0": {
                principalArn: "arn:aws:iam::111122223333:role/platform-admin",
                accessPolicies: {
                    admin: { policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", accessScope: { type: "cluster" } },
                },
            },
        });
    });
});

describe("EKS managed add-ons", () => {
    it("installs each pinned add-on from the version table", () => {
        const addons = ofType(dev, "aws:eks/addon:Addon").filter((a) => a.parent === one(dev, "mlserve:cluster:Cluster").urn);
        const installed = Object.fromEntries(addons.map((a) => [a.inputs.addonName, a.inputs.addonVersion as string]));
        expect(Object.keys(installed).sort()).toEqual(["aws-ebs-csi-driver", "coredns", "eks-pod-identity-agent", "kube-proxy", "vpc-cni"]);
        // EKS add-on builds are spelled v<x.y.z>-eksbuild.<n>; kube-proxy follows the cluster's minor version.
        for (const [name, build] of Object.entries(installed)) expect(build, name).toMatch(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/);
        expect(installed["kube-proxy"]).toMatch(/^v1\.33\./);
    });

    it("CNI, kube-proxy and Pod Identity come before nodes; CoreDNS and EBS CSI after the system nodes", () => {
        const system = one(dev, "aws:eks/nodeGroup:NodeGroup", "mlserve-dev-system");
        const gpu = one(dev, "aws:eks/nodeGroup:NodeGroup", "mlserve-dev-gpu");
        for (const spec of eksAddonSpecs("1.33")) {
            const addon = one(dev, "aws:eks/addon:Addon", `mlserve-dev-${spec.name}`);
            if (spec.phase === "beforeNodes") {
                expect(dependsOn(dev, system, addon), `system nodes wait for ${spec.name}`).toBe(true);
                expect(dependsOn(dev, gpu, addon), `gpu nodes wait for ${spec.name}`).toBe(true);
            } else {
                expect(dependsOn(dev, addon, system), `${spec.name} waits for system nodes`).toBe(true);
            }
        }
    });

    it("the EBS CSI driver gets its AWS permissions through Pod Identity", () => {
        const ebs = one(dev, "aws:eks/addon:Addon", "mlserve-dev-aws-ebs-csi-driver");
        const role = one(dev, "aws:iam/role:Role", "mlserve-dev-aws-ebs-csi-driver");
        expect(ebs.inputs.podIdentityAssociations).toEqual([{ serviceAccount: "ebs-csi-controller-sa", roleArn: role.state.arn }]);
        expect(JSON.parse(role.inputs.assumeRolePolicy as string).Statement[0].Principal).toEqual({ Service: "pods.eks.amazonaws.com" });
    });
});

describe("node groups", () => {
    it("GPU group: g5.4xlarge, AL2023 NVIDIA AMI, EKS-form taint, GPU labels, sizes and disk from config", () => {
        const gpu = one(dev, "aws:eks/nodeGroup:NodeGroup", "mlserve-dev-gpu");
        expect(gpu.inputs).toMatchObject({
            clusterName: "mlserve-dev",
            instanceTypes: ["g5.4xlarge"],
            amiType: "AL2023_x86_64_NVIDIA",
            capacityType: "ON_DEMAND",
            diskSize: 200,
            scalingConfig: { minSize: 0, desiredSize: 1, maxSize: 2 },
            taints: [{ key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" }],
            labels: { "mlserve.io/node-pool": "gpu", "mlserve.io/accelerator": "nvidia", "mlserve.io/gpu-model": "A10G" },
        });
    });

    it("GPU group follows config: instance type, sizes, disk and extra labels", () => {
        const gpu = one(perAz, "aws:eks/nodeGroup:NodeGroup", "mlserve-prodlike-gpu");
        expect(gpu.inputs).toMatchObject({
            instanceTypes: ["g6.xlarge"],
            diskSize: 300,
            scalingConfig: { minSize: 1, desiredSize: 2, maxSize: 4 },
            labels: { "team.example.com/owner": "ml", "mlserve.io/gpu-model": "L4" },
        });
    });

    it("system group: CPU AMI, no taints, in private subnets only", () => {
        const system = one(dev, "aws:eks/nodeGroup:NodeGroup", "mlserve-dev-system");
        expect(system.inputs).toMatchObject({ instanceTypes: ["m6i.xlarge"], amiType: "AL2023_x86_64_STANDARD", taints: [], scalingConfig: { minSize: 1, desiredSize: 2, maxSize: 3 } });
        const privateIds = ofType(dev, "aws:ec2/subnet:Subnet").filter((s) => !s.inputs.mapPublicIpOnLaunch).map((s) => s.state.id);
        expect([...(system.inputs.subnetIds as string[])].sort()).toEqual([...privateIds].sort());
    });

    it("Cluster Autoscaler node-template tags sit on the GPU group's Auto Scaling group (scale from zero)", () => {
        const gpuGroup = one(dev, "mlserve:cluster:NodeGroup", "mlserve-dev-gpu");
        const asgName = (one(dev, "aws:eks/nodeGroup:NodeGroup", "mlserve-dev-gpu").state.resources as Array<{ autoscalingGroups: Array<{ name: string }> }>)[0]!.autoscalingGroups[0]!.name;
        const tags = descendantsOf(dev, gpuGroup).filter((r) => r.type === "aws:autoscaling/tag:Tag");
        const byKey = Object.fromEntries(
            tags.map((t) => {
                expect(t.inputs.autoscalingGroupName).toBe(asgName);
                const tag = t.inputs.tag as { key: string; value: string; propagateAtLaunch: boolean };
                return [tag.key, tag.value];
            }),
        );
        expect(byKey).toMatchObject({
            "k8s.io/cluster-autoscaler/enabled": "true",
            "k8s.io/cluster-autoscaler/mlserve-dev": "owned",
            "k8s.io/cluster-autoscaler/node-template/label/mlserve.io/node-pool": "gpu",
            "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu": "true:NoSchedule",
            "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu": "1",
        });
    });

    it("node roles carry the worker, CNI and ECR policies before the group is created", () => {
        const gpuGroup = one(dev, "mlserve:cluster:NodeGroup", "mlserve-dev-gpu");
        const attachments = descendantsOf(dev, gpuGroup).filter((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment");
        expect(attachments.map((a) => a.inputs.policyArn)).toEqual(
            expect.arrayContaining([
                "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
                "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
                "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
            ]),
        );
        const nodeGroup = one(dev, "aws:eks/nodeGroup:NodeGroup", "mlserve-dev-gpu");
        for (const a of attachments) expect(dependsOn(dev, nodeGroup, a)).toBe(true);
    });
});

describe("in-cluster pieces", () => {
    it("the Kubernetes provider uses the (secret) kubeconfig with server-side apply and deleteUnreachable", () => {
        const provider = one(dev, "pulumi:providers:kubernetes");
        expect(provider.inputs).toMatchObject({ kubeconfig: "[secret]", enableServerSideApply: "true", deleteUnreachable: "true" });
    });

    it("the NVIDIA device plugin chart is pinned from the version table and runs only on tainted GPU nodes", () => {
        const release = one(dev, "kubernetes:helm.sh/v3:Release", "mlserve-dev-nvidia-device-plugin");
        expect(release.inputs).toMatchObject({
            chart: "nvidia-device-plugin",
            version: "0.18.0",
            repositoryOpts: { repo: "https://nvidia.github.io/k8s-device-plugin" },
            namespace: "kube-system",
        });
        const values = release.inputs.values as Record<string, unknown>;
        expect(values.nodeSelector).toEqual({ "mlserve.io/node-pool": "gpu" });
        expect(values.tolerations).toEqual([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
        expect(values.affinity).toBeNull();
    });

    it("the GPU node group's labels match the device plugin's node selector", () => {
        const labels = one(dev, "aws:eks/nodeGroup:NodeGroup", "mlserve-dev-gpu").inputs.labels as Record<string, string>;
        const selector = (one(dev, "kubernetes:helm.sh/v3:Release", "mlserve-dev-nvidia-device-plugin").inputs.values as { nodeSelector: Record<string, string> }).nodeSelector;
        for (const [k, v] of Object.entries(selector)) expect(labels[k]).toBe(v);
    });
});

describe("stack outputs", () => {
    it("exports cluster name, secret kubeconfig and node group names", () => {
        expect(dev.outputs.clusterName).toEqual({ value: "mlserve-dev", secret: false });
        expect(dev.outputs.kubeconfig).toEqual({ value: "[secret]", secret: true });
        const groups = dev.outputs.nodeGroups!.value as Record<string, string>;
        expect(groups.gpu).toMatch(/^mlserve-dev-gpu-[0-9a-f]{7}$/);
        expect(groups.system).toMatch(/^mlserve-dev-system-[0-9a-f]{7}$/);
    });

    it("expiry and the stack's own tags join the default tags", async () => {
        const r = await renderConfig({ "mlserve:lifecycle": { owner: "test-owner", expiresAt: "2026-12-31" }, "mlserve:tags": { team: "ml", "cost-center": "42" } }, "tagged");
        expect(JSON.parse(one(r, "pulumi:providers:aws").inputs.defaultTags as string)).toEqual({
            tags: { "mlserve:project": "mlserve", "mlserve:stack": "tagged", "mlserve:managed-by": "pulumi", "mlserve:owner": "test-owner", "mlserve:expires-at": "2026-12-31", team: "ml", "cost-center": "42" },
        });
    });

    it("every AWS resource is tagged through the provider's default tags", () => {
        const provider = one(dev, "pulumi:providers:aws");
        expect(JSON.parse(provider.inputs.defaultTags as string)).toEqual({
            tags: { "mlserve:project": "mlserve", "mlserve:stack": "dev", "mlserve:managed-by": "pulumi", "mlserve:owner": "test-owner" },
        });
        const awsResources = dev.resources.filter((r) => r.custom && r.type.startsWith("aws:"));
        expect(awsResources.length).toBeGreaterThan(20);
        // Default tags reach a resource only through its provider: every AWS resource must use this one
        // (one created with the ambient default provider would carry no owner, stack or expiry tag).
        const untagged = awsResources.filter((r) => r.provider !== provider.urn).map((r) => `${r.type} ${r.name}`);
        expect(untagged).toEqual([]);
        // The remote EKS component's children (its role, security groups, OIDC provider) are
        // invisible here: they are tagged only if it gets this provider, which the engine merges
        // in from the nearest component given one explicitly (pulumi/pulumi#24125).
        const byUrn = new Map(dev.resources.map((r) => [r.urn, r]));
        let holder = byUrn.get(one(dev, "eks:index:Cluster").urn);
        while (holder && !holder.providers?.aws) holder = holder.parent ? byUrn.get(holder.parent) : undefined;
        expect(holder?.type).toBe("mlserve:cluster:Cluster");
        expect(holder?.providers?.aws).toBe(provider.urn);
        // Resources that set tags of their own keep the defaults too (the provider merges them); none may blank one.
        for (const r of awsResources) {
            const own = (r.inputs.tags ?? {}) as Record<string, string>;
            for (const key of ["mlserve:project", "mlserve:stack", "mlserve:owner"]) expect(own[key] === undefined || own[key] !== "", `${r.name} blanks ${key}`).toBe(true);
        }
    });
});
