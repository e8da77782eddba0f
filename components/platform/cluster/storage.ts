import type * as k8s from "@pulumi/kubernetes";

/**
 * The cluster's default StorageClass: encrypted gp3 through the EBS CSI driver.
 * WaitForFirstConsumer creates the volume in the AZ where the pod lands (EBS
 * volumes are zonal). EKS's own gp2 class is left alone but is no longer default.
 */
export function gp3StorageClass(): k8s.storage.v1.StorageClassArgs & { metadata: { name: string } } {
    return {
        metadata: {
            name: "gp3",
            annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
        },
        provisioner: "ebs.csi.aws.com",
        volumeBindingMode: "WaitForFirstConsumer",
        allowVolumeExpansion: true,
        reclaimPolicy: "Delete",
        parameters: { type: "gp3", encrypted: "true", fsType: "ext4" },
    };
}
