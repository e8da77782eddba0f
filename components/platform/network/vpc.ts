import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { natAzFor, natGatewayCount, planSubnets } from "./subnets";
import { pickAvailabilityZones } from "./zones";

export interface VpcArgs {
    /** VPC address range. Default 10.0.0.0/16. */
    cidr?: string;
    /** Number of availability zones (a public and a private subnet in each). Default 2. */
    availabilityZones?: number;
    /** "single" NAT gateway or one "perAz". Default "single". */
    natGateways?: "single" | "perAz";
    /** EKS cluster name, for the `kubernetes.io/cluster/<name>` subnet tags. */
    clusterName: string;
    /** Instance types every chosen AZ must offer (the node groups' types). */
    requiredInstanceTypes: string[];
}

/**
 * A VPC for EKS: public subnets (load balancers, NAT) and private subnets
 * (nodes), NAT egress, and a free S3 gateway endpoint so image layers and model
 * weights pulled from S3/ECR do not pay NAT data processing.
 */
export class Vpc extends pulumi.ComponentResource {
    readonly vpcId: pulumi.Output<string>;
    readonly publicSubnetIds: pulumi.Output<string>[];
    readonly privateSubnetIds: pulumi.Output<string>[];
    readonly availabilityZones: pulumi.Output<string[]>;

    constructor(name: string, args: VpcArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlserve:network:Vpc", name, {}, opts);
        const cidr = args.cidr ?? "10.0.0.0/16";
        const azCount = args.availabilityZones ?? 2;
        const natMode = args.natGateways ?? "single";
        const child = { parent: this };

        const zones = aws.getAvailabilityZonesOutput(
            { state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] },
            child,
        );
        const offerings = aws.ec2.getInstanceTypeOfferingsOutput(
            { locationType: "availability-zone", filters: [{ name: "instance-type", values: args.requiredInstanceTypes }] },
            child,
        );
        this.availabilityZones = pulumi
            .all([zones.names, offerings.instanceTypes, offerings.locations])
            .apply(([names, types, locations]) =>
                pickAvailabilityZones(
                    names,
                    types.map((t, i) => ({ instanceType: t, location: locations[i] ?? "" })),
                    args.requiredInstanceTypes,
                    azCount,
                ),
            );
        const azName = (i: number) => this.availabilityZones.apply((azs) => azs[i] as string);

        const vpc = new aws.ec2.Vpc(name, { cidrBlock: cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: name } }, child);
        const igw = new aws.ec2.InternetGateway(name, { vpcId: vpc.id, tags: { Name: name } }, child);

        const plan = planSubnets(cidr, azCount, args.clusterName);
        const subnets = plan.map(
            (s) =>
                new aws.ec2.Subnet(
                    `${name}-${s.tier}-${s.azIndex}`,
                    {
                        vpcId: vpc.id,
                        cidrBlock: s.cidr,
                        availabilityZone: azName(s.azIndex),
                        mapPublicIpOnLaunch: s.tier === "public",
                        tags: { ...s.tags, Name: `${name}-${s.tier}-${s.azIndex}` },
                    },
                    child,
                ),
        );
        const publicSubnets = subnets.filter((_, i) => plan[i]?.tier === "public");
        const privateSubnets = subnets.filter((_, i) => plan[i]?.tier === "private");

        const publicRt = new aws.ec2.RouteTable(`${name}-public`, { vpcId: vpc.id, tags: { Name: `${name}-public` } }, child);
        new aws.ec2.Route(`${name}-public-internet`, { routeTableId: publicRt.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id }, child);
        publicSubnets.forEach(
            (s, i) => new aws.ec2.RouteTableAssociation(`${name}-public-${i}`, { subnetId: s.id, routeTableId: publicRt.id }, child),
        );

        const nats = Array.from({ length: natGatewayCount(azCount, natMode) }, (_, i) => {
            const eip = new aws.ec2.Eip(`${name}-nat-${i}`, { domain: "vpc", tags: { Name: `${name}-nat-${i}` } }, child);
            return new aws.ec2.NatGateway(
                `${name}-nat-${i}`,
                { allocationId: eip.id, subnetId: publicSubnets[i]!.id, tags: { Name: `${name}-nat-${i}` } },
                { ...child, dependsOn: [igw] },
            );
        });

        const privateRts = privateSubnets.map((s, i) => {
            const rt = new aws.ec2.RouteTable(`${name}-private-${i}`, { vpcId: vpc.id, tags: { Name: `${name}-private-${i}` } }, child);
            new aws.ec2.Route(
                `${name}-private-${i}-nat`,
                { routeTableId: rt.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nats[natAzFor(i, natMode)]!.id },
                child,
            );
            new aws.ec2.RouteTableAssociation(`${name}-private-${i}`, { subnetId: s.id, routeTableId: rt.id }, child);
            return rt;
        });

        const region = aws.getRegionOutput({}, child);
        new aws.ec2.VpcEndpoint(
            `${name}-s3`,
            {
                vpcId: vpc.id,
                serviceName: pulumi.interpolate`com.amazonaws.${region.region}.s3`,
                vpcEndpointType: "Gateway",
                routeTableIds: privateRts.map((rt) => rt.id),
                tags: { Name: `${name}-s3` },
            },
            child,
        );

        this.vpcId = vpc.id;
        this.publicSubnetIds = publicSubnets.map((s) => s.id);
        this.privateSubnetIds = privateSubnets.map((s) => s.id);
        this.registerOutputs({
            vpcId: this.vpcId,
            publicSubnetIds: this.publicSubnetIds,
            privateSubnetIds: this.privateSubnetIds,
            availabilityZones: this.availabilityZones,
        });
    }
}
