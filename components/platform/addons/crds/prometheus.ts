/** Prometheus Operator PodMonitor (monitoring.coreos.com/v1), the fields used here. */
import type { TypedCustomResource } from "./types";

export interface LabelSelector {
    matchLabels?: Record<string, string>;
    matchExpressions?: Array<{ key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }>;
}

export interface PodMonitorSpec {
    selector: LabelSelector;
    namespaceSelector?: { any?: boolean; matchNames?: string[] };
    podMetricsEndpoints: Array<{ port: string; path?: string; interval?: string; scrapeTimeout?: string }>;
    jobLabel?: string;
    /** Pod labels copied onto every scraped series (dots and slashes become underscores). */
    podTargetLabels?: string[];
}

export type PodMonitor = TypedCustomResource<"monitoring.coreos.com/v1", "PodMonitor", PodMonitorSpec>;
