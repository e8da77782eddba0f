"""Dynamic int8 quantization of the Linear layers, for CPU serving.

torch.ao.quantization.quantize_dynamic is used with torch pinned at 2.9.1: its x86/fbgemm
int8 GEMM kernels are the mature CPU path for dynamic quantization, and it needs no extra
package. torch 2.9 announces its removal in 2.10 (torchao is the successor); moving means
pinning torchao and porting this one function, and re-checking the int8 tests."""
from __future__ import annotations

import copy
import warnings

import torch
from torch import nn


def quantize_int8(model) -> nn.Module:
    """A CPU copy of the model whose nn.Linear weights are int8 (per-tensor scales) and whose
    activations are quantized on the fly per batch; embeddings and LayerNorms stay float."""
    m = copy.deepcopy(model).to("cpu").eval()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="torch.ao.quantization is deprecated")
        return torch.ao.quantization.quantize_dynamic(m, {nn.Linear}, dtype=torch.qint8)


def is_int8(model) -> bool:
    return any(type(m).__module__.startswith("torch.ao.nn.quantized") for m in model.modules())
