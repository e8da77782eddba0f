"""Saving a variant where KServe's Hugging Face runtime can read it, loading it back, and
copying a run to S3."""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from urllib.parse import urlparse

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

from .prune import PRUNED_HEADS_KEY, pruned_heads_record, shrink_to_record, zero_padded
from .quantize import is_int8, quantize_int8

META_FILE = "mlserve_optimize.json"
INT8_FILE = "model_int8.pt"
# Head-pruned weights at their real (narrower) shapes; model.safetensors holds them zero-padded.
COMPACT_FILE = "model_heads_pruned.safetensors"
METRICS_FILE = "metrics.json"


def save_variant(out_dir: str | Path, name: str, steps: list[str], float_model, tokenizer,
                 int8_model=None) -> dict:
    """save_pretrained (config.json + model.safetensors) and the tokenizer, so the directory is
    a Hugging Face model dir that KServe's runtime loads and predicts right with. Head-pruned
    variants keep their compact weights in model_heads_pruned.safetensors (model.safetensors
    is zero-padded to full width), int8 variants their quantized state dict in model_int8.pt.
    Writes mlserve_optimize.json (how to load it) and returns it."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    float_model.to("cpu")
    heads = bool(pruned_heads_record(float_model))
    if heads:
        zero_padded(float_model).save_pretrained(out)
        save_file({k: v.contiguous() for k, v in float_model.state_dict().items()}, out / COMPACT_FILE)
    else:
        float_model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    if int8_model is not None:
        torch.save(int8_model.state_dict(), out / INT8_FILE)
    # What KServe's stock Hugging Face runtime does with this directory (it reads only
    # config.json, model.safetensors and the tokenizer).
    if heads and int8_model is not None:
        runtime = ("loads model.safetensors (float, pruned heads as zeros): the predictions of the float "
                   "model this was quantized from, at full size and latency; the measured compact int8 "
                   "model needs mlserve_optimize.artifacts.load_model")
    elif heads:
        runtime = ("loads model.safetensors (pruned heads as zeros): the measured predictions, at full "
                   "size and latency; the compact model needs mlserve_optimize.artifacts.load_model")
    elif int8_model is not None:
        runtime = ("loads the float weights (model.safetensors) and serves them in float; "
                   "the int8 model needs mlserve_optimize.artifacts.load_model")
    else:
        runtime = "loads as-is"
    meta = {
        "format": 1,
        "variant": name,
        "steps": steps,
        "int8_dynamic": int8_model is not None,
        "int8_file": INT8_FILE if int8_model is not None else None,
        "pruned_heads": pruned_heads_record(float_model),
        "kserve_huggingface_runtime": runtime,
        # True when the stock runtime serves exactly the model whose metrics.json this is.
        "kserve_as_measured": runtime == "loads as-is",
        "torch": torch.__version__,
    }
    (out / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def load_model(model_dir: str | Path):
    """Load any variant exactly as it was evaluated: head-pruned layers shrunk to the config's
    record, int8 variants re-quantized and given their saved int8 weights. For a variant whose
    mlserve_optimize.json says "loads as-is" this is plain from_pretrained."""
    d = Path(model_dir)
    meta = json.loads((d / META_FILE).read_text()) if (d / META_FILE).exists() else {}
    config = AutoConfig.from_pretrained(d)
    if getattr(config, PRUNED_HEADS_KEY, None) and (d / COMPACT_FILE).exists():
        model = AutoModelForSequenceClassification.from_config(config)
        shrink_to_record(model)
        model.load_state_dict(load_file(d / COMPACT_FILE), strict=True)
    else:
        model = AutoModelForSequenceClassification.from_pretrained(d, dtype=torch.float32)
    model.eval()
    if meta.get("int8_dynamic"):
        q = quantize_int8(model)
        with warnings.catch_warnings():
            # torch.load rebuilds quantized tensors through a deprecated storage API.
            warnings.filterwarnings("ignore", message="TypedStorage is deprecated")
            state = torch.load(d / meta["int8_file"], map_location="cpu", weights_only=True)
        q.load_state_dict(state)
        assert is_int8(q)
        return q
    return model


def load_tokenizer(model_dir: str | Path):
    return AutoTokenizer.from_pretrained(model_dir)


def write_json(path: str | Path, data: dict, sort_keys: bool = True) -> None:
    Path(path).write_text(json.dumps(data, indent=2, sort_keys=sort_keys) + "\n")


def parse_s3_uri(uri: str) -> tuple[str, str]:
    u = urlparse(uri)
    if u.scheme != "s3" or not u.netloc:
        raise ValueError(f"not an s3:// URI: {uri}")
    prefix = u.path.lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return u.netloc, prefix


def upload_tree(local_root: str | Path, s3_uri: str, client=None) -> list[str]:
    """Copy every file under local_root to s3_uri (same relative paths). Returns the keys."""
    import boto3  # noqa: PLC0415  (only runs that write to S3 need it)

    bucket, prefix = parse_s3_uri(s3_uri)
    s3 = client or boto3.client("s3")
    keys = []
    root = Path(local_root)
    for dirpath, _, files in os.walk(root):
        for f in sorted(files):
            path = Path(dirpath) / f
            key = prefix + path.relative_to(root).as_posix()
            s3.upload_file(str(path), bucket, key)
            keys.append(key)
    return keys
