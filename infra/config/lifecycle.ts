/**
 * `mlserve:lifecycle`: who owns a stack, when it expires, whether it is parked,
 * and the guardrails (budget, idle-GPU alarm) that catch a forgotten one.
 */
import { z } from "zod";

export const lifecycleSchema = z.strictObject({
    /** Who to ask about this stack (email or handle); tagged on every AWS resource. */
    owner: z
        .string({
            error: (issue) =>
                issue.input === undefined
                    ? "is required: who owns this stack, e.g. `pulumi config set --path mlserve:lifecycle.owner you@example.com`"
                    : undefined,
        })
        .regex(/^[\w.+@-]{2,64}$/, "must be an email or handle (letters, digits, . _ + @ -)"),
    /** When the reaper may park (then destroy) the stack: ISO date or date-time, e.g. 2026-12-31 or 2026-12-31T18:00:00Z. */
    expiresAt: z
        .string()
        .refine((s) => /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:\d{2}))?$/.test(s) && !Number.isNaN(Date.parse(s)), {
            message: "must be an ISO 8601 date or date-time such as 2026-12-31 or 2026-12-31T18:00:00Z",
        })
        .optional(),
    /** Park: GPU nodes and GPU workloads to zero, system nodes to parkedSystemNodes; cluster, add-ons and data stay. */
    parked: z.boolean().default(false),
    /** System nodes kept while parked. */
    parkedSystemNodes: z.int().min(1).max(10).default(1),
    /** AWS Budget for this stack (cost allocation tag mlserve:stack), in USD per month. */
    monthlyBudgetUsd: z.number().positive().max(1_000_000).default(1500),
    /** Who gets budget and idle-GPU alerts (through an SNS topic). */
    alertEmails: z.array(z.string().email("must be an email address")).default([]),
    /** Alarm when GPU nodes run with no GPU pod scheduled for this long (Container Insights); 0 turns it off. */
    idleGpuAlarmMinutes: z.int().min(0).max(1440).default(60),
});

