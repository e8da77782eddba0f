import io

import torch
from transformers import AutoModelForSequenceClassification

import tiny
from mlserve_optimize import artifacts, distill, evaluation
from mlserve_optimize.quantize import is_int8, quantize_int8

# Stated tolerance for dynamic int8 on this model: every logit within 0.15 of float, and the
# predicted class the same on at least 97% of held-out sentences.
LOGIT_TOL = 0.15
AGREEMENT = 0.97


def state_bytes(model) -> int:
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return len(buf.getvalue())


def test_int8_shrinks_and_keeps_logits_close(teacher, tok, data):
    q = quantize_int8(teacher)
    assert is_int8(q) and not is_int8(teacher)
    assert not any(type(m) is torch.nn.Linear for m in q.modules())  # every Linear replaced
    qlin = [m for m in q.modules() if isinstance(m, torch.ao.nn.quantized.dynamic.Linear)]
    assert len(qlin) == 6 * 2 + 2  # 6 per layer, pre-classifier and classifier
    assert all(m.weight().dtype == torch.qint8 and m.weight().element_size() == 1 for m in qlin)
    # Serialized: Linear weights go 4 bytes -> 1; embeddings, LayerNorms and the per-tensor
    # pickle overhead (large in a model this small) do not, hence 0.6 and not 0.25.
    assert state_bytes(q) < 0.6 * state_bytes(teacher)
    f = evaluation.predict_logits(teacher, tok, data["eval"], tiny.MAX_LEN)
    i = evaluation.predict_logits(q, tok, data["eval"], tiny.MAX_LEN)
    assert float((f - i).abs().max()) <= LOGIT_TOL
    assert distill.agreement(f, i) >= AGREEMENT
    assert not torch.equal(f, i)  # it really computed in int8


def test_int8_variant_round_trips(teacher, tok, data, tmp_path):
    q = quantize_int8(teacher)
    meta = artifacts.save_variant(tmp_path, "int8", ["int8"], teacher, tok, q)
    assert meta["int8_dynamic"] and (tmp_path / artifacts.INT8_FILE).stat().st_size < \
        (tmp_path / "model.safetensors").stat().st_size
    loaded = artifacts.load_model(tmp_path)
    assert is_int8(loaded)
    want = evaluation.predict_logits(q, tok, data["eval"], tiny.MAX_LEN)
    assert torch.equal(evaluation.predict_logits(loaded, tok, data["eval"], tiny.MAX_LEN), want)
    # KServe's stock runtime sees a float model: the weights int8 was made from.
    stock = AutoModelForSequenceClassification.from_pretrained(tmp_path)
    assert torch.equal(evaluation.predict_logits(stock, tok, data["eval"], tiny.MAX_LEN),
                       evaluation.predict_logits(teacher, tok, data["eval"], tiny.MAX_LEN))
