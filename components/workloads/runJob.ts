/**
 * The shape every run the stack starts shares (benchmark, optimization): one
 * Kubernetes Job per run id, not awaited by Pulumi (it runs for hours),
 * suspended while the stack is parked, a non-root pod with a writable /tmp.
 */
import type * as k8s from "@pulumi/kubernetes";

export interface RunJobSpec {
    name: string;
    namespace: string;
    /** `app.kubernetes.io/name` of the run's pods. */
    app: string;
    runId: string;
    serviceAccountName: string;
    backoffLimit: number;
    /** Parked stack: the Job keeps no pods; a Job's suspend can change, so un-parking resumes it. */
    suspend: boolean;
    /** The run's container; the non-root security context and the /tmp mount are added here. */
    container: k8s.types.input.core.v1.Container & { volumeMounts?: k8s.types.input.core.v1.VolumeMount[] };
    /** Size of the /tmp emptyDir (caches, work directory). */
    tmpSize: string;
    /** Pod fields beyond the shared ones (node selector, tolerations, grace period) and extra volumes. */
    pod?: Partial<k8s.types.input.core.v1.PodSpec>;
    volumes?: k8s.types.input.core.v1.Volume[];
}

type Meta = { metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> } };

export function runJob(s: RunJobSpec): k8s.batch.v1.JobArgs & Meta {
    const labels = { "app.kubernetes.io/name": s.app, "app.kubernetes.io/part-of": "mlserve", "mlserve.io/run-id": s.runId };
    return {
        metadata: { name: s.name, namespace: s.namespace, labels, annotations: { "pulumi.com/skipAwait": "true" } },
        spec: {
            backoffLimit: s.backoffLimit,
            suspend: s.suspend,
            template: {
                metadata: { labels },
                spec: {
                    restartPolicy: "Never",
                    ...s.pod,
                    serviceAccountName: s.serviceAccountName,
                    securityContext: { runAsNonRoot: true, runAsUser: 10001 },
                    containers: [
                        {
                            ...s.container,
                            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                            volumeMounts: [...(s.container.volumeMounts ?? []), { name: "tmp", mountPath: "/tmp" }],
                        },
                    ],
                    volumes: [...(s.volumes ?? []), { name: "tmp", emptyDir: { sizeLimit: s.tmpSize } }],
                },
            },
        },
    };
}
