/**
 * GPU instance types the platform knows how to schedule on. The config schema
 * only accepts these for `mlserve:gpuNodes.instanceType`, and the Cluster
 * Autoscaler node-template tags (scale from zero) are derived from this table.
 * Sources: AWS EC2 accelerated-computing instance pages (x86_64 only: the node
 * group uses the AL2023_x86_64_NVIDIA AMI).
 */
export interface GpuInstanceType {
    /** NVIDIA GPUs per instance (the node's `nvidia.com/gpu` capacity). */
    gpus: number;
    /** GPU model, used as the `nvidia.com/gpu.product`-style label value. */
    gpuModel: string;
    /** Memory per GPU in GiB. */
    gpuMemoryGiB: number;
    /** GPU memory bandwidth per GPU in GB/s (the decode floor of the benchmark report uses it). */
    gpuMemoryBandwidthGBps: number;
    /** CUDA compute capability: 8.0+ runs Marlin kernels (fp8 weight-only), 8.9+ has native FP8. */
    computeCapability: number;
    vcpus: number;
    memoryGiB: number;
}

export const GPU_INSTANCE_TYPES = {
    "g4dn.xlarge": { gpus: 1, gpuModel: "T4", gpuMemoryGiB: 16, computeCapability: 7.5, gpuMemoryBandwidthGBps: 320, vcpus: 4, memoryGiB: 16 },
    "g4dn.2xlarge": { gpus: 1, gpuModel: "T4", gpuMemoryGiB: 16, computeCapability: 7.5, gpuMemoryBandwidthGBps: 320, vcpus: 8, memoryGiB: 32 },
    "g4dn.4xlarge": { gpus: 1, gpuModel: "T4", gpuMemoryGiB: 16, computeCapability: 7.5, gpuMemoryBandwidthGBps: 320, vcpus: 16, memoryGiB: 64 },
    "g5.xlarge": { gpus: 1, gpuModel: "A10G", gpuMemoryGiB: 24, computeCapability: 8.6, gpuMemoryBandwidthGBps: 600, vcpus: 4, memoryGiB: 16 },
    "g5.2xlarge": { gpus: 1, gpuModel: "A10G", gpuMemoryGiB: 24, computeCapability: 8.6, gpuMemoryBandwidthGBps: 600, vcpus: 8, memoryGiB: 32 },
    "g5.4xlarge": { gpus: 1, gpuModel: "A10G", gpuMemoryGiB: 24, computeCapability: 8.6, gpuMemoryBandwidthGBps: 600, vcpus: 16, memoryGiB: 64 },
    "g5.8xlarge": { gpus: 1, gpuModel: "A10G", gpuMemoryGiB: 24, computeCapability: 8.6, gpuMemoryBandwidthGBps: 600, vcpus: 32, memoryGiB: 128 },
    "g5.12xlarge": { gpus: 4, gpuModel: "A10G", gpuMemoryGiB: 24, computeCapability: 8.6, gpuMemoryBandwidthGBps: 600, vcpus: 48, memoryGiB: 192 },
    "g5.48xlarge": { gpus: 8, gpuModel: "A10G", gpuMemoryGiB: 24, computeCapability: 8.6, gpuMemoryBandwidthGBps: 600, vcpus: 192, memoryGiB: 768 },
    "g6.xlarge": { gpus: 1, gpuModel: "L4", gpuMemoryGiB: 24, computeCapability: 8.9, gpuMemoryBandwidthGBps: 300, vcpus: 4, memoryGiB: 16 },
    "g6.2xlarge": { gpus: 1, gpuModel: "L4", gpuMemoryGiB: 24, computeCapability: 8.9, gpuMemoryBandwidthGBps: 300, vcpus: 8, memoryGiB: 32 },
    "g6.4xlarge": { gpus: 1, gpuModel: "L4", gpuMemoryGiB: 24, computeCapability: 8.9, gpuMemoryBandwidthGBps: 300, vcpus: 16, memoryGiB: 64 },
    "g6.12xlarge": { gpus: 4, gpuModel: "L4", gpuMemoryGiB: 24, computeCapability: 8.9, gpuMemoryBandwidthGBps: 300, vcpus: 48, memoryGiB: 192 },
    "g6e.xlarge": { gpus: 1, gpuModel: "L40S", gpuMemoryGiB: 48, computeCapability: 8.9, gpuMemoryBandwidthGBps: 864, vcpus: 4, memoryGiB: 32 },
    "g6e.2xlarge": { gpus: 1, gpuModel: "L40S", gpuMemoryGiB: 48, computeCapability: 8.9, gpuMemoryBandwidthGBps: 864, vcpus: 8, memoryGiB: 64 },
    "g6e.12xlarge": { gpus: 4, gpuModel: "L40S", gpuMemoryGiB: 48, computeCapability: 8.9, gpuMemoryBandwidthGBps: 864, vcpus: 48, memoryGiB: 384 },
    "p4d.24xlarge": { gpus: 8, gpuModel: "A100", gpuMemoryGiB: 40, computeCapability: 8.0, gpuMemoryBandwidthGBps: 1555, vcpus: 96, memoryGiB: 1152 },
    "p5.48xlarge": { gpus: 8, gpuModel: "H100", gpuMemoryGiB: 80, computeCapability: 9.0, gpuMemoryBandwidthGBps: 3350, vcpus: 192, memoryGiB: 2048 },
} as const satisfies Record<string, GpuInstanceType>;

export type GpuInstanceTypeName = keyof typeof GPU_INSTANCE_TYPES;

export const GPU_INSTANCE_TYPE_NAMES = Object.keys(GPU_INSTANCE_TYPES) as GpuInstanceTypeName[];

export function isGpuInstanceType(name: string): name is GpuInstanceTypeName {
    return Object.prototype.hasOwnProperty.call(GPU_INSTANCE_TYPES, name);
}

/** Instance families that carry accelerators; a system node group must not use them. */
export function looksLikeAcceleratedInstance(name: string): boolean {
    return /^(p\d|g\d|inf\d|trn\d|dl\d)/.test(name);
}
