/** `mlserve:modelApi`: the HPA-scaled CPU model API (KServe's Hugging Face runtime on CPU). */
import { z } from "zod";
import { IMAGES } from "../../components/versions";
import { addons, needsAddons } from "./addons";
import { at, rule, type Check, minNotAboveMax } from "./rules";
import { pinnedImage, quantity } from "../../components/validators";

const replicas = {
    minReplicas: z.int().min(1, "an HPA keeps at least 1 replica").default(1),
    maxReplicas: z.int().min(1).max(100).default(10),
};

export const modelApiSchema = z.strictObject({
    enabled: z.boolean().default(true),
    /** Inference server image; the default serves a Hugging Face model with KServe's runtime on CPU. */
    image: pinnedImage.default(IMAGES.huggingfaceServer),
    /** Name the model is served under (`/v1/models/<name>:predict`). */
    modelName: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS label").default("distilbert"),
    /** Hugging Face model id, downloaded at start. */
    modelId: z.string().min(1).default("distilbert/distilbert-base-uncased-finetuned-sst-2-english"),
    task: z.enum(["sequence_classification", "token_classification", "fill_mask", "text_embedding"]).default("sequence_classification"),
    ...replicas,
    /** HPA target: average CPU utilization as a percentage of the CPU request. */
    targetCpuUtilizationPercent: z.int().min(1).max(100).default(50),
    cpuRequest: quantity.default("1"),
    memoryRequest: quantity.default("2Gi"),
    cpuLimit: quantity.default("2"),
    memoryLimit: quantity.default("4Gi"),
});

export const modelApi = modelApiSchema.prefault({});

export const modelApiRules: Check[] = [
    at("modelApi", [rule(replicas, minNotAboveMax)]),
    rule({ modelApi, addons }, (v) =>
        v.modelApi.enabled
            ? needsAddons(["modelApi", "enabled"], "the model API", "turn the model API off", [{ addon: "metricsServer", for: "its HorizontalPodAutoscaler reads CPU metrics from it" }], v.addons)
            : [],
    ),
];

export type ModelApiConfig = z.infer<typeof modelApiSchema>;
