/**
 * Pulumi mocks for the offline plan and the tests: deterministic fake IDs and
 * ARNs, fake auto-naming (the engine's `name-1a2b3c4` suffix), outputs for
 * remote components whose children are invisible under mocks, and answers to
 * the AWS data-source calls the program makes. Every fake is marked with
 * PLACEHOLDER_ACCOUNT or a hash so nobody mistakes it for a real value.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

const SECRET_SIG_KEY = pulumi.runtime.specialSigKey;
const SECRET_SIG = pulumi.runtime.specialSecretSig;

export const PLACEHOLDER_ACCOUNT = "123456789012";

function hash(text: string, length: number): string {
    return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/** The property the engine auto-names, per resource type (default `name`). */
const AUTONAME_PROPERTY: Record<string, string | null> = {
    "aws:eks/nodeGroup:NodeGroup": "nodeGroupName",
    "aws:s3/bucket:Bucket": "bucket",
    "aws:s3/bucketV2:BucketV2": "bucket",
    // Types without a name property.
    "aws:ec2/vpc:Vpc": null,
    "aws:ec2/subnet:Subnet": null,
    "aws:ec2/routeTable:RouteTable": null,
    "aws:ec2/route:Route": null,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": null,
    "aws:ec2/internetGateway:InternetGateway": null,
    "aws:ec2/natGateway:NatGateway": null,
    "aws:ec2/eip:Eip": null,
    "aws:ec2/vpcEndpoint:VpcEndpoint": null,
    "aws:kms/key:Key": null,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": null,
    "aws:autoscaling/tag:Tag": null,
    "aws:eks/addon:Addon": null,
    "docker-build:index:Image": null,
    "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": null,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": null,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": null,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": null,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": null,
};

/** ID prefixes that make fake AWS IDs look like the real ones. */
const ID_PREFIX: Record<string, string> = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/eip:Eip": "eipalloc-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
};

function fakeKubeconfig(clusterName: string, region: string): string {
    return JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
            {
                name: clusterName,
                cluster: { server: `https://${hash(clusterName, 32).toUpperCase()}.gr7.${region}.eks.amazonaws.com`, "certificate-authority-data": "UExBQ0VIT0xERVI=" },
            },
        ],
        contexts: [{ name: "aws", context: { cluster: clusterName, user: "aws" } }],
        "current-context": "aws",
        users: [
            {
                name: "aws",
                user: {
                    exec: {
                        apiVersion: "client.authentication.k8s.io/v1beta1",
                        command: "aws",
                        args: ["eks", "get-token", "--cluster-name", clusterName, "--output", "json"],
                    },
                },
            },
        ],
    });
}

/** Outputs of multi-language (remote) components, whose own children the mock runtime never sees. */
function remoteComponentOutputs(type: string, name: string, inputs: Record<string, unknown>, region: string): Record<string, unknown> | undefined {
    if (type === "eks:index:Cluster") {
        const clusterName = typeof inputs.name === "string" ? inputs.name : name;
        const oidc = `oidc.eks.${region}.amazonaws.com/id/${hash(clusterName, 32).toUpperCase()}`;
        return {
            kubeconfig: JSON.parse(fakeKubeconfig(clusterName, region)),
            kubeconfigJson: fakeKubeconfig(clusterName, region),
            clusterSecurityGroupId: `sg-${hash(`${clusterName}-cluster`, 17)}`,
            nodeSecurityGroupId: `sg-${hash(`${clusterName}-node`, 17)}`,
            oidcIssuer: `https://${oidc}`,
            oidcProviderUrl: oidc,
            oidcProviderArn: `arn:aws:iam::${PLACEHOLDER_ACCOUNT}:oidc-provider/${oidc}`,
            // A resource reference in the real engine; the program reads only these fields of it.
            eksCluster: { name: clusterName, arn: `arn:aws:eks:${region}:${PLACEHOLDER_ACCOUNT}:cluster/${clusterName}` },
        };
    }
    return undefined;
}

/** Types whose outputs the program reads and which therefore need fakes beyond their inputs. */
function customResourceOutputs(type: string, physicalName: string, id: string, region: string): Record<string, unknown> {
    const [pkg, mod = ""] = type.split(":");
    const service = mod.split("/")[0] ?? "";
    const out: Record<string, unknown> = {};
    if (pkg === "aws") {
        const regional = service === "iam" ? "" : region;
        out.arn = `arn:aws:${service}:${regional}:${PLACEHOLDER_ACCOUNT}:${physicalName || id}`;
    }
    if (type === "aws:eks/nodeGroup:NodeGroup") {
        out.resources = [{ autoscalingGroups: [{ name: `eks-${physicalName}-${hash(physicalName, 8)}` }], remoteAccessSecurityGroupId: "" }];
    }
    if (type === "aws:kms/key:Key") out.keyId = id;
    if (type === "aws:sqs/queue:Queue") {
        out.url = `https://sqs.${region}.amazonaws.com/${PLACEHOLDER_ACCOUNT}/${physicalName}`;
        out.arn = `arn:aws:sqs:${region}:${PLACEHOLDER_ACCOUNT}:${physicalName}`;
    }
    if (type === "aws:s3/bucket:Bucket" || type === "aws:s3/bucketV2:BucketV2") out.arn = `arn:aws:s3:::${physicalName}`;
    if (type === "aws:ecr/repository:Repository") {
        out.registryId = PLACEHOLDER_ACCOUNT;
        out.repositoryUrl = `${PLACEHOLDER_ACCOUNT}.dkr.ecr.${region}.amazonaws.com/${physicalName}`;
    }
    return out;
}

/** Data-source answers. An unknown call fails the plan, so a new invoke cannot silently read `{}`. */
function callResult(token: string, inputs: Record<string, unknown>, region: string): Record<string, unknown> {
    const zones = ["a", "b", "c", "d"].map((z) => `${region}${z}`);
    switch (token) {
        case "aws:index/getAvailabilityZones:getAvailabilityZones":
            return { names: zones, zoneIds: zones.map((_, i) => `use1-az${i + 1}`), id: region };
        case "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings": {
            // Offline we cannot know real offerings: every AZ offers every requested type.
            const filters = (inputs.filters as Array<{ name: string; values: string[] }> | undefined) ?? [];
            const types = filters.find((f) => f.name === "instance-type")?.values ?? [];
            const pairs = types.flatMap((t) => zones.map((z) => ({ t, z })));
            return { instanceTypes: pairs.map((p) => p.t), locations: pairs.map((p) => p.z), locationTypes: pairs.map(() => "availability-zone"), id: region };
        }
        case "aws:index/getRegion:getRegion":
            return { region, name: region, id: region, endpoint: `ec2.${region}.amazonaws.com`, description: "offline plan" };
        case "aws:index/getCallerIdentity:getCallerIdentity":
            return { accountId: PLACEHOLDER_ACCOUNT, arn: `arn:aws:iam::${PLACEHOLDER_ACCOUNT}:user/offline-plan`, userId: "OFFLINEPLAN", id: PLACEHOLDER_ACCOUNT };
        case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            // The real provider marks the registry password secret; so does the mock.
            return { userName: "AWS", password: { [SECRET_SIG_KEY]: SECRET_SIG, value: "offline-placeholder-token" }, authorizationToken: "offline", proxyEndpoint: `https://${PLACEHOLDER_ACCOUNT}.dkr.ecr.${region}.amazonaws.com`, id: region };
        case "aws:index/getPartition:getPartition":
            return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
        default:
            throw new Error(`offline plan has no mock for data source ${token}; add one in infra/plan/mocks.ts`);
    }
}

export function createMocks(region: string): pulumi.runtime.Mocks {
    return {
        newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
            const inputs = (args.inputs ?? {}) as Record<string, unknown>;
            const remote = remoteComponentOutputs(args.type, args.name, inputs, region);
            if (remote) return { id: undefined, state: { ...inputs, ...remote } };
            if (!args.custom) return { id: undefined, state: inputs };

            const suffix = hash(`${args.type}::${args.name}`, 7);
            const id = `${ID_PREFIX[args.type] ?? `${args.name}-`}${ID_PREFIX[args.type] ? hash(args.name, 17) : suffix}`;
            const state: Record<string, unknown> = { ...inputs };
            let physicalName = args.name;
            if (args.type.startsWith("kubernetes:") && !args.type.startsWith("kubernetes:helm.sh")) {
                const metadata = (inputs.metadata ?? {}) as Record<string, unknown>;
                physicalName = typeof metadata.name === "string" ? metadata.name : `${args.name}-${suffix}`;
                state.metadata = { ...metadata, name: physicalName };
            } else if (args.type === "kubernetes:helm.sh/v3:Release") {
                physicalName = typeof inputs.name === "string" ? inputs.name : `${args.name}-${suffix}`;
                state.name = physicalName;
            } else {
                const prop = args.type in AUTONAME_PROPERTY ? AUTONAME_PROPERTY[args.type] : "name";
                if (prop) {
                    physicalName = typeof inputs[prop] === "string" ? (inputs[prop] as string) : `${args.name}-${suffix}`;
                    state[prop] = physicalName;
                }
            }
            const outputs = customResourceOutputs(args.type, physicalName, id, region);
            if (args.type === "docker-build:index:Image") {
                // What `pulumi up` would push: the first tag, pinned by a (fake) digest.
                const digest = `sha256:${createHash("sha256").update(args.name).digest("hex")}`;
                const tags = (inputs.tags as string[] | undefined) ?? [];
                Object.assign(outputs, { digest, ref: `${(tags[0] ?? args.name).split(":")[0]}@${digest}` });
            }
            return { id, state: { ...state, ...outputs, id } };
        },
        call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
            return callResult(args.token, (args.inputs ?? {}) as Record<string, unknown>, region);
        },
    };
}
