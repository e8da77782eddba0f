"""Labelled sentences and how they become model inputs."""
from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch

Example = tuple[str, int]


def load_hf_dataset(name: str, config: str | None, split: str, limit: int = 0) -> list[Example]:
    """SST-2 (or another sentence/label set) from the Hugging Face Hub, in the cluster only.

    Imported lazily: `datasets` is not installed for the tests, which never download."""
    import datasets  # noqa: PLC0415

    ds = datasets.load_dataset(name, config, split=split)
    text_key = "sentence" if "sentence" in ds.column_names else "text"
    rows = [(str(r[text_key]), int(r["label"])) for r in ds]
    return rows[:limit] if limit else rows


def load_jsonl(path: str | Path, limit: int = 0) -> list[Example]:
    """One {"text": ..., "label": 0|1} per line: local data for a run without the Hub."""
    rows: list[Example] = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                rows.append((str(r["text"]), int(r["label"])))
    return rows[:limit] if limit else rows


def encode(tokenizer, texts: Sequence[str], max_length: int) -> dict[str, torch.Tensor]:
    # Pad to the longest in the batch, as KServe's runtime does per request.
    enc = tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    # DistilBERT takes no token_type_ids; keep only what every encoder accepts.
    return {k: enc[k] for k in ("input_ids", "attention_mask")}


def batches(
    examples: Sequence[Example],
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
) -> Iterator[tuple[list[int], list[str], torch.Tensor]]:
    """(indices, texts, labels) batches; indices let callers look up precomputed teacher logits."""
    order = list(range(len(examples)))
    if shuffle:
        random.Random(seed).shuffle(order)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        yield idx, [examples[i][0] for i in idx], torch.tensor([examples[i][1] for i in idx])
