"""Where the attention and feed-forward Linears sit in the encoders we serve (DistilBERT,
BERT, RoBERTa): transformers 5.x dropped `prune_heads`, so pruning edits these layers."""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn


@dataclass
class Layer:
    attention: nn.Module  # holds the head count attributes
    query: str  # attribute names on `attention_owner`
    key: str
    value: str
    attention_owner: nn.Module
    output: nn.Linear  # attention output projection (input = concatenated heads)
    output_owner: nn.Module
    output_name: str
    ffn_in_owner: nn.Module
    ffn_in_name: str
    ffn_out_owner: nn.Module
    ffn_out_name: str

    def get(self, which: str) -> nn.Linear:
        owner, name = {
            "query": (self.attention_owner, self.query),
            "key": (self.attention_owner, self.key),
            "value": (self.attention_owner, self.value),
            "output": (self.output_owner, self.output_name),
            "ffn_in": (self.ffn_in_owner, self.ffn_in_name),
            "ffn_out": (self.ffn_out_owner, self.ffn_out_name),
        }[which]
        return getattr(owner, name)

    def set(self, which: str, module: nn.Module) -> None:
        owner, name = {
            "query": (self.attention_owner, self.query),
            "key": (self.attention_owner, self.key),
            "value": (self.attention_owner, self.value),
            "output": (self.output_owner, self.output_name),
            "ffn_in": (self.ffn_in_owner, self.ffn_in_name),
            "ffn_out": (self.ffn_out_owner, self.ffn_out_name),
        }[which]
        setattr(owner, name, module)


def family(config) -> str:
    if config.model_type == "distilbert":
        return "distilbert"
    if config.model_type in ("bert", "roberta"):
        return "bert"
    raise ValueError(f"unsupported model type {config.model_type!r} (supported: distilbert, bert, roberta)")


def layers(model) -> list[Layer]:
    fam = family(model.config)
    if fam == "distilbert":
        out = []
        for block in model.distilbert.transformer.layer:
            a = block.attention
            out.append(Layer(a, "q_lin", "k_lin", "v_lin", a, a.out_lin, a, "out_lin",
                             block.ffn, "lin1", block.ffn, "lin2"))
        return out
    base = getattr(model, model.config.model_type)
    out = []
    for block in base.encoder.layer:
        s = block.attention.self
        o = block.attention.output
        out.append(Layer(s, "query", "key", "value", s, o.dense, o, "dense",
                         block.intermediate, "dense", block.output, "dense"))
    return out


def head_size(model) -> int:
    c = model.config
    if family(c) == "distilbert":
        return c.dim // c.n_heads
    return c.hidden_size // c.num_attention_heads


def num_heads_config(model) -> int:
    c = model.config
    return c.n_heads if family(c) == "distilbert" else c.num_attention_heads


def ffn_size_key(config) -> str:
    return "hidden_dim" if family(config) == "distilbert" else "intermediate_size"


def num_layers_key(config) -> str:
    return "n_layers" if family(config) == "distilbert" else "num_hidden_layers"
