"""Structured pruning (attention heads, FFN neurons: the Linears really shrink) and
unstructured magnitude pruning (weights set to zero, shapes unchanged)."""
from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn.utils import prune as tprune

from . import arch
from .data import Example, batches, encode

# config.json key listing, per layer, the ORIGINAL indices of the heads removed. Stock
# transformers 5.x ignores it (and so cannot load such a model: shapes differ);
# mlserve_optimize.artifacts.load_model reads it and shrinks the layers before loading.
PRUNED_HEADS_KEY = "mlserve_pruned_heads"


def _slice_linear(lin: nn.Linear, out_idx: torch.Tensor | None = None, in_idx: torch.Tensor | None = None) -> nn.Linear:
    w = lin.weight.detach()
    b = lin.bias.detach() if lin.bias is not None else None
    if out_idx is not None:
        w = w.index_select(0, out_idx)
        b = b.index_select(0, out_idx) if b is not None else None
    if in_idx is not None:
        w = w.index_select(1, in_idx)
    new = nn.Linear(w.shape[1], w.shape[0], bias=b is not None, device=w.device, dtype=w.dtype)
    with torch.no_grad():
        new.weight.copy_(w)
        if b is not None:
            new.bias.copy_(b)
    return new


def pruned_heads_record(model) -> dict[int, list[int]]:
    rec = getattr(model.config, PRUNED_HEADS_KEY, None) or {}
    return {int(k): sorted(int(h) for h in v) for k, v in rec.items()}


def remaining_heads(model) -> list[list[int]]:
    """Per layer, the original indices of the heads still present, in their current order."""
    n = arch.num_heads_config(model)
    rec = pruned_heads_record(model)
    return [[h for h in range(n) if h not in rec.get(i, [])] for i in range(len(arch.layers(model)))]


def _masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    # x: (batch, tokens, ...); mean over real (non-padding) tokens.
    m = mask.to(x.dtype).view(*mask.shape, *([1] * (x.dim() - 2)))
    return (x * m).sum(dim=(0, 1)) / m.sum()


@torch.no_grad()
def importance(model, tokenizer, examples: Sequence[Example], max_length: int, batch_size: int = 16,
               device: str = "cpu") -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Per layer: head importance = mean L2 norm of the head's contribution to the attention
    output (its slice of the context times its columns of the output projection); neuron
    importance = mean |activation| times the L2 norm of its output column. Both measured on
    real sentences, so rarely used heads/neurons rank low."""
    model.eval()
    layers = arch.layers(model)
    dh = arch.head_size(model)
    heads = [torch.zeros(lay.get("output").in_features // dh) for lay in layers]
    neurons = [torch.zeros(lay.get("ffn_out").in_features) for lay in layers]
    state: dict[str, torch.Tensor] = {}
    hooks = []
    n_batches = 0
    for i, lay in enumerate(layers):
        def head_hook(mod, args, i=i):
            x = args[0]  # (batch, tokens, heads*dh)
            b, t, _ = x.shape
            xh = x.reshape(b, t, -1, dh)
            w = mod.weight.view(mod.weight.shape[0], -1, dh)  # (hidden, heads, dh)
            contrib = torch.einsum("bthd,ohd->btho", xh, w).norm(dim=-1)  # (b, t, heads)
            heads[i] += _masked_mean(contrib, state["mask"]).cpu()

        def ffn_hook(mod, args, i=i):
            act = args[0].abs()  # (batch, tokens, neurons)
            neurons[i] += (_masked_mean(act, state["mask"]) * mod.weight.norm(dim=0)).cpu()

        hooks.append(lay.get("output").register_forward_pre_hook(head_hook))
        hooks.append(lay.get("ffn_out").register_forward_pre_hook(ffn_hook))
    try:
        for _, texts, _ in batches(examples, batch_size):
            enc = {k: v.to(device) for k, v in encode(tokenizer, texts, max_length).items()}
            state["mask"] = enc["attention_mask"]
            model(**enc)
            n_batches += 1
    finally:
        for h in hooks:
            h.remove()
    return [h / n_batches for h in heads], [n / n_batches for n in neurons]


def choose_heads(head_scores: list[torch.Tensor], fraction: float) -> dict[int, list[int]]:
    """The round(fraction * all heads) least important heads across layers (current indices),
    never the last head of a layer (a layer without attention is not this model any more)."""
    total = sum(len(s) for s in head_scores)
    n_prune = round(fraction * total)
    ranked = sorted((float(s), layer, h) for layer, scores in enumerate(head_scores) for h, s in enumerate(scores))
    left = [len(s) for s in head_scores]
    chosen: dict[int, list[int]] = {}
    for _, layer, h in ranked:
        if n_prune == 0:
            break
        if left[layer] > 1:
            chosen.setdefault(layer, []).append(h)
            left[layer] -= 1
            n_prune -= 1
    if n_prune:
        raise ValueError(f"cannot prune {round(fraction * total)} of {total} heads and keep one per layer")
    return {k: sorted(v) for k, v in chosen.items()}


def prune_heads(model, heads: dict[int, list[int]]) -> None:
    """Remove heads (current indices per layer) from Q/K/V rows and output-projection columns,
    and record their original indices in the config."""
    dh = arch.head_size(model)
    layers = arch.layers(model)
    remaining = remaining_heads(model)
    record = pruned_heads_record(model)
    for li, drop in heads.items():
        if not drop:
            continue
        lay = layers[li]
        n_now = lay.get("output").in_features // dh
        keep = [h for h in range(n_now) if h not in set(drop)]
        if not keep:
            raise ValueError(f"layer {li}: cannot remove every head")
        if any(h < 0 or h >= n_now for h in drop):
            raise ValueError(f"layer {li}: head index out of range 0..{n_now - 1}")
        idx = torch.cat([torch.arange(h * dh, (h + 1) * dh) for h in keep]).to(lay.get("output").weight.device)
        for which in ("query", "key", "value"):
            lay.set(which, _slice_linear(lay.get(which), out_idx=idx))
        lay.set("output", _slice_linear(lay.get("output"), in_idx=idx))
        a = lay.attention
        # Forward passes reshape with -1 heads; keep the bookkeeping attributes truthful too.
        for attr in ("n_heads", "num_attention_heads"):
            if hasattr(a, attr):
                setattr(a, attr, len(keep))
        if hasattr(a, "all_head_size"):
            a.all_head_size = len(keep) * dh
        record[li] = sorted(set(record.get(li, [])) | {remaining[li][h] for h in drop})
    setattr(model.config, PRUNED_HEADS_KEY, {str(k): v for k, v in sorted(record.items()) if v})


def shrink_to_record(model) -> None:
    """Give a freshly built model the layer shapes its config's pruned-heads record says,
    so a head-pruned checkpoint's weights fit (their values are loaded afterwards)."""
    record = pruned_heads_record(model)
    setattr(model.config, PRUNED_HEADS_KEY, {})
    prune_heads(model, record)  # on a fresh model, current index == original index


def prune_ffn(model, neuron_scores: list[torch.Tensor], fraction: float) -> int:
    """Keep the same number of most important FFN neurons in every layer, so the config's
    one FFN width describes the result and stock transformers loads it. Returns the width."""
    key = arch.ffn_size_key(model.config)
    width = getattr(model.config, key)
    keep_n = width - round(fraction * width)
    if keep_n < 1:
        raise ValueError("fraction removes every FFN neuron")
    for lay, scores in zip(arch.layers(model), neuron_scores):
        idx = torch.topk(scores, keep_n).indices.sort().values.to(lay.get("ffn_in").weight.device)
        lay.set("ffn_in", _slice_linear(lay.get("ffn_in"), out_idx=idx))
        lay.set("ffn_out", _slice_linear(lay.get("ffn_out"), in_idx=idx))
    setattr(model.config, key, keep_n)
    return keep_n


def encoder_linears(model) -> list[nn.Linear]:
    return [lay.get(w) for lay in arch.layers(model) for w in ("query", "key", "value", "output", "ffn_in", "ffn_out")]


def magnitude_prune(model, sparsity: float) -> int:
    """Zero the round(sparsity * n) smallest-magnitude weights across all encoder Linears
    (global ranking), then make it permanent (no mask or weight_orig left behind).
    Embeddings and the classifier are left dense. Returns the number of weights zeroed."""
    if not 0.0 <= sparsity < 1.0:
        raise ValueError("target sparsity must be in [0, 1)")
    params = [(lin, "weight") for lin in encoder_linears(model)]
    tprune.global_unstructured(params, pruning_method=tprune.L1Unstructured, amount=sparsity)
    for lin, name in params:
        tprune.remove(lin, name)
    return round(sparsity * sum(lin.weight.numel() for lin, _ in params))


def sparsity(model) -> float:
    ws = [lin.weight for lin in encoder_linears(model)]
    return sum(int((w == 0).sum()) for w in ws) / sum(w.numel() for w in ws)


def zero_masks(model) -> list[tuple[nn.Linear, torch.Tensor]]:
    """Where encoder weights are zero now, so fine-tuning can keep them zero."""
    return [(lin, lin.weight.detach() != 0) for lin in encoder_linears(model)]


def zero_padded(model):
    """A copy with every pruned head put back as zeros (its Q/K/V rows, biases and output
    columns): the full-width shapes stock transformers builds, and the same outputs, since a
    zero head contributes nothing. Stock loaders given the compact checkpoint would instead
    re-initialise the narrower layers at random (transformers 5.x only warns)."""
    padded = copy.deepcopy(model)
    n = arch.num_heads_config(model)
    dh = arch.head_size(model)
    for lay, kept in zip(arch.layers(padded), remaining_heads(model)):
        if len(kept) == n:
            continue
        idx = torch.cat([torch.arange(h * dh, (h + 1) * dh) for h in kept])
        for which in ("query", "key", "value"):
            old = lay.get(which)
            new = nn.Linear(old.in_features, n * dh, bias=old.bias is not None)
            with torch.no_grad():
                new.weight.zero_()
                new.weight[idx] = old.weight
                if old.bias is not None:
                    new.bias.zero_()
                    new.bias[idx] = old.bias
            lay.set(which, new)
        old = lay.get("output")
        new = nn.Linear(n * dh, old.out_features, bias=old.bias is not None)
        with torch.no_grad():
            new.weight.zero_()
            new.weight[:, idx] = old.weight
            if old.bias is not None:
                new.bias.copy_(old.bias)
        lay.set("output", new)
        for attr in ("n_heads", "num_attention_heads"):
            if hasattr(lay.attention, attr):
                setattr(lay.attention, attr, n)
        if hasattr(lay.attention, "all_head_size"):
            lay.attention.all_head_size = n * dh
    return padded
