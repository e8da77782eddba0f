"""Distillation, pruning and int8 quantization of a sequence classifier, each result
evaluated (accuracy, F1, size, CPU latency) and saved for KServe's Hugging Face runtime."""
