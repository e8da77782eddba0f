/**
 * Choosing availability zones: GPU instance types are not offered in every AZ
 * (g5 is missing from some us-east-1 zones), and a node group whose subnets sit
 * in such an AZ fails to launch there. Pick AZs that offer every required type.
 */
export function pickAvailabilityZones(
    available: readonly string[],
    offered: ReadonlyArray<{ instanceType: string; location: string }>,
    requiredInstanceTypes: readonly string[],
    count: number,
): string[] {
    const usable = [...available]
        .sort()
        .filter((az) => requiredInstanceTypes.every((t) => offered.some((o) => o.instanceType === t && o.location === az)));
    if (usable.length < count) {
        throw new Error(
            `only ${usable.length} availability zone(s) [${usable.join(", ")}] offer all of ${requiredInstanceTypes.join(", ")}, ` +
                `but mlserve:cluster.availabilityZones is ${count}: lower it, pick another region, or another instance type`,
        );
    }
    return usable.slice(0, count);
}
