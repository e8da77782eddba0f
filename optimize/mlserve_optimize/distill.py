"""Knowledge distillation: a student learns the teacher's softened outputs and the labels."""
from __future__ import annotations

import copy
import re
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from . import arch, prune
from .data import Example, batches, encode
from .evaluation import predict_logits


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
                      temperature: float, alpha: float) -> torch.Tensor:
    """alpha * KL(teacher_T || student_T) * T^2 + (1 - alpha) * CE(student, labels).
    T^2 keeps the soft-target gradients on the same scale as the hard-label ones (Hinton et al.)."""
    t = temperature
    kl = F.kl_div(F.log_softmax(student_logits / t, dim=-1), F.softmax(teacher_logits / t, dim=-1),
                  reduction="batchmean")
    ce = F.cross_entropy(student_logits, labels)
    return alpha * kl * t * t + (1 - alpha) * ce


def student_from_teacher(teacher, n_layers: int):
    """A shallower copy of the teacher: same widths, every k-th layer kept (DistilBERT's own
    initialisation), so the student starts from the teacher's weights and tokenizer."""
    key = arch.num_layers_key(teacher.config)
    total = getattr(teacher.config, key)
    if not 1 <= n_layers <= total:
        raise ValueError(f"student layers must be 1..{total}")
    picked = [round(i * (total - 1) / max(n_layers - 1, 1)) for i in range(n_layers)] if n_layers > 1 else [total - 1]
    config = copy.deepcopy(teacher.config)
    setattr(config, key, n_layers)
    student = type(teacher)(config)
    t_state = teacher.state_dict()
    pattern = re.compile(r"\.layer\.(\d+)\.")
    new_state = {}
    for name in student.state_dict():
        src = pattern.sub(lambda m: f".layer.{picked[int(m.group(1))]}.", name, count=1)
        new_state[name] = t_state[src]
    student.load_state_dict(new_state)
    return student


def train(student, tokenizer, examples: Sequence[Example], teacher_logits: torch.Tensor, *, steps: int,
          batch_size: int, lr: float, temperature: float, alpha: float, max_length: int, seed: int,
          device: str = "cpu", keep_sparse: bool = False) -> list[float]:
    """`steps` AdamW steps over shuffled epochs of `examples`; teacher logits are precomputed
    per example (so teacher and student may tokenize differently). With keep_sparse, weights
    that are zero now are zeroed again after each step, so magnitude pruning stays in force.
    Returns the loss per step."""
    torch.manual_seed(seed)
    student.to(device).train()
    keep_zero = prune.zero_masks(student) if keep_sparse else None
    opt = torch.optim.AdamW(student.parameters(), lr=lr)
    losses: list[float] = []
    epoch = 0
    while len(losses) < steps:
        for idx, texts, labels in batches(examples, batch_size, shuffle=True, seed=seed + epoch):
            enc = {k: v.to(device) for k, v in encode(tokenizer, texts, max_length).items()}
            loss = distillation_loss(student(**enc).logits, teacher_logits[idx].to(device), labels.to(device),
                                     temperature, alpha)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if keep_zero:
                with torch.no_grad():
                    for lin, mask in keep_zero:
                        lin.weight.mul_(mask)
            losses.append(float(loss.detach()))
            if len(losses) >= steps:
                break
        epoch += 1
    student.eval()
    return losses


def teacher_soft_targets(teacher, tokenizer, examples: Sequence[Example], max_length: int,
                         device: str = "cpu") -> torch.Tensor:
    return predict_logits(teacher, tokenizer, examples, max_length, device=device)


def agreement(a: torch.Tensor, b: torch.Tensor) -> float:
    """Share of examples where two models' logits pick the same class."""
    return float((a.argmax(-1) == b.argmax(-1)).float().mean())
