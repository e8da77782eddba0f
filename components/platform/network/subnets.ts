/**
 * Pure address planning for the VPC: which subnet gets which CIDR, and the tags
 * that let the AWS Load Balancer Controller and Kubernetes Services find them.
 */

export type SubnetTier = "public" | "private";

export interface SubnetPlan {
    tier: SubnetTier;
    /** Index of the availability zone (0-based) the subnet lives in. */
    azIndex: number;
    cidr: string;
    tags: Record<string, string>;
}

function ipToInt(ip: string): number {
    return ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
}

function intToIp(n: number): string {
    return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/**
 * Private subnets (nodes and pods: the VPC CNI gives every pod a VPC address, so
 * they are large) take the first 1/8 blocks of the VPC, one per AZ; public subnets
 * (load balancers and NAT gateways only) are 1/64 blocks carved from the last 1/8.
 * A /16 gives /19 private (8,190 addresses) and /22 public subnets.
 */
export function planSubnets(vpcCidr: string, azCount: number, clusterName: string): SubnetPlan[] {
    const [ip = "", prefixText = ""] = vpcCidr.split("/");
    const prefix = Number(prefixText);
    if (azCount < 1 || azCount > 7) throw new Error(`azCount must be 1..7, got ${azCount}`);
    if (prefix > 20) throw new Error(`VPC ${vpcCidr} is too small; use /20 or larger`);
    const base = ipToInt(ip) - (ipToInt(ip) % 2 ** (32 - prefix));
    const privateSize = 2 ** (32 - (prefix + 3));
    const publicSize = 2 ** (32 - (prefix + 6));
    const publicBase = base + 7 * privateSize;

    const clusterTag = { [`kubernetes.io/cluster/${clusterName}`]: "shared" };
    const subnets: SubnetPlan[] = [];
    for (let az = 0; az < azCount; az++) {
        subnets.push({
            tier: "public",
            azIndex: az,
            cidr: `${intToIp(publicBase + az * publicSize)}/${prefix + 6}`,
            tags: { ...clusterTag, "kubernetes.io/role/elb": "1" },
        });
    }
    for (let az = 0; az < azCount; az++) {
        subnets.push({
            tier: "private",
            azIndex: az,
            cidr: `${intToIp(base + az * privateSize)}/${prefix + 3}`,
            tags: { ...clusterTag, "kubernetes.io/role/internal-elb": "1" },
        });
    }
    return subnets;
}

/** Which public subnet (by AZ index) hosts the NAT gateway that private subnet `azIndex` routes through. */
export function natAzFor(azIndex: number, natGateways: "single" | "perAz"): number {
    return natGateways === "single" ? 0 : azIndex;
}

/** Number of NAT gateways (and their Elastic IPs) the VPC creates. */
export function natGatewayCount(azCount: number, natGateways: "single" | "perAz"): number {
    return natGateways === "single" ? 1 : azCount;
}
