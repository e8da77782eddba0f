"""Quality (accuracy, F1), size on disk and CPU latency of a classifier."""
from __future__ import annotations

import gzip
import os
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from .data import Example, batches, encode


def accuracy_f1(predictions: Sequence[int], labels: Sequence[int], positive: int = 1) -> dict[str, float]:
    """Accuracy, and F1 of the positive class (GLUE's SST-2 convention). F1 is 0 when the
    model predicts no positive and there is none to find either (no true positive)."""
    if len(predictions) != len(labels) or not labels:
        raise ValueError("predictions and labels must be non-empty and of equal length")
    tp = sum(1 for p, y in zip(predictions, labels) if p == positive and y == positive)
    fp = sum(1 for p, y in zip(predictions, labels) if p == positive and y != positive)
    fn = sum(1 for p, y in zip(predictions, labels) if p != positive and y == positive)
    correct = sum(1 for p, y in zip(predictions, labels) if p == y)
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return {"accuracy": correct / len(labels), "f1": f1}


@torch.no_grad()
def predict_logits(model, tokenizer, examples: Sequence[Example], max_length: int, batch_size: int = 32,
                   device: str = "cpu") -> torch.Tensor:
    model.eval()
    out = []
    for _, texts, _ in batches(examples, batch_size):
        enc = {k: v.to(device) for k, v in encode(tokenizer, texts, max_length).items()}
        out.append(model(**enc).logits.float().cpu())
    return torch.cat(out)


def quality(model, tokenizer, examples: Sequence[Example], max_length: int, device: str = "cpu") -> dict[str, float]:
    logits = predict_logits(model, tokenizer, examples, max_length, device=device)
    return accuracy_f1(logits.argmax(-1).tolist(), [y for _, y in examples])


def _latency_inputs(tokenizer, texts: Sequence[str], batch_size: int, max_length: int) -> list[dict]:
    if len(texts) < batch_size:
        texts = list(texts) * (batch_size // max(len(texts), 1) + 1)
    return [encode(tokenizer, texts[i : i + batch_size], max_length)
            for i in range(0, len(texts) - batch_size + 1, batch_size)][:8]


def _timed(model, inputs: dict) -> float:
    start = time.perf_counter()
    model(**inputs)
    return (time.perf_counter() - start) * 1000


@torch.no_grad()
def latency_ms(model, tokenizer, texts: Sequence[str], batch_size: int, max_length: int,
               repeats: int, warmup: int = 3) -> float:
    """Median wall time of one forward pass on the CPU, over `repeats` timed passes that
    cycle through fixed batches of real sentences (warm-up passes are not timed)."""
    model.eval()
    inputs = _latency_inputs(tokenizer, texts, batch_size, max_length)
    for i in range(warmup):
        model(**inputs[i % len(inputs)])
    return statistics.median(_timed(model, inputs[i % len(inputs)]) for i in range(repeats))


@torch.no_grad()
def paired_latency_ms(model, tokenizer, baseline, baseline_tokenizer, texts: Sequence[str], batch_size: int,
                      max_length: int, repeats: int, warmup: int = 3) -> tuple[float, float]:
    """Medians for a model and its baseline timed alternately, pass by pass, on the same
    inputs: load from other processes on a shared machine then hits both alike, so their
    ratio holds even when the absolute numbers drift."""
    model.eval()
    baseline.eval()
    mine = _latency_inputs(tokenizer, texts, batch_size, max_length)
    theirs = _latency_inputs(baseline_tokenizer, texts, batch_size, max_length)
    for i in range(warmup):
        model(**mine[i % len(mine)])
        baseline(**theirs[i % len(theirs)])
    a, b = [], []
    for i in range(repeats):
        a.append(_timed(model, mine[i % len(mine)]))
        b.append(_timed(baseline, theirs[i % len(theirs)]))
    return statistics.median(a), statistics.median(b)


def dir_bytes(path: str | Path, names: Sequence[str] | None = None) -> int:
    """Bytes on disk of the files in a directory (or only those named)."""
    p = Path(path)
    files = [p / n for n in names] if names else [f for f in p.iterdir() if f.is_file()]
    return sum(os.path.getsize(f) for f in files)


def gzip_bytes(path: str | Path) -> int:
    """Compressed size: the only size unstructured sparsity saves (zeros compress, a dense
    checkpoint keeps them)."""
    with open(path, "rb") as f:
        return len(gzip.compress(f.read(), compresslevel=6))


def cpu_description() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform  # noqa: PLC0415

    return platform.processor() or platform.machine()
