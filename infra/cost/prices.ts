/**
 * The one price table of the offline cost estimate. On-demand, Linux, us-east-1.
 * Read from AWS's public on-demand price pages and third-party price tables on
 * PRICES_AS_OF; not fetched from the AWS Price List API (no network here).
 * Change a price here and every plan and report picks it up.
 */
export const PRICES_AS_OF = "2026-11-25";
export const PRICE_REGION = "us-east-1";
export const HOURS_PER_MONTH = 730;

/** EC2 on-demand $/hour by instance type. */
export const EC2_HOURLY_USD: Readonly<Record<string, number>> = {
    "t3.medium": 0.0416,
    "t3.large": 0.0832,
    "t3.xlarge": 0.1664,
    "m5.large": 0.096,
    "m5.xlarge": 0.192,
    "m6i.large": 0.096,
    "m6i.xlarge": 0.192,
    "m6i.2xlarge": 0.384,
    "m7i.large": 0.1008,
    "m7i.xlarge": 0.2016,
    "c6i.xlarge": 0.17,
    "c7i.xlarge": 0.1785,
    "g4dn.xlarge": 0.526,
    "g4dn.2xlarge": 0.752,
    "g4dn.4xlarge": 1.204,
    "g5.xlarge": 1.006,
    "g5.2xlarge": 1.212,
    "g5.4xlarge": 1.624,
    "g5.8xlarge": 2.448,
    "g5.12xlarge": 5.672,
    "g5.48xlarge": 16.288,
    "g6.xlarge": 0.8048,
    "g6.2xlarge": 0.9776,
    "g6.4xlarge": 1.3232,
    "g6.12xlarge": 4.6016,
    "g6e.xlarge": 1.861,
    "g6e.2xlarge": 2.24208,
    "g6e.12xlarge": 10.49264,
    "p4d.24xlarge": 32.7726,
    "p5.48xlarge": 55.04,
};

/** Fixed-rate services, $/hour unless the name says otherwise. */
export const SERVICE_PRICES = {
    eksControlPlaneHourly: 0.1,
    natGatewayHourly: 0.045,
    publicIpv4Hourly: 0.005,
    kmsKeyMonthly: 1.0,
    ebsGp3GibMonthly: 0.08,
} as const;

/** Usage-priced items the estimate leaves out, printed with every plan. */
export const NOT_ESTIMATED = [
    "NAT gateway data processing ($0.045/GB)",
    "data transfer out and cross-AZ traffic",
    "CloudWatch Logs ingestion ($0.50/GB) and storage",
    "KMS requests, S3/SQS requests and storage (async path)",
    "Spot capacity (priced here at on-demand rates)",
    "Container Insights metrics for the idle-GPU alarm (per metric), SNS and AWS Budgets notifications",
];
