import pytest
import torch
from transformers import AutoModelForSequenceClassification

import tiny
from mlserve_optimize import arch, artifacts, evaluation, prune
from mlserve_optimize.data import encode

DH = 8  # tiny models: dim 32 / 4 heads


def logits(model, tok, data):
    with torch.no_grad():
        return model(**encode(tok, [t for t, _ in data["eval"][:32]], tiny.MAX_LEN)).logits


def zero_heads(model, heads):
    """Reference: a head's only way into the output is its columns of the output projection."""
    for li, hs in heads.items():
        w = arch.layers(model)[li].get("output").weight
        with torch.no_grad():
            for h in hs:
                w[:, h * DH:(h + 1) * DH] = 0


MAKERS = {"distilbert": None, "bert": tiny.bert, "roberta": tiny.roberta}


@pytest.mark.parametrize("family", list(MAKERS))
def test_head_pruning_removes_exactly_those_heads(family, teacher, tok, data):
    model = MAKERS[family](seed=3) if MAKERS[family] else teacher
    reference = (MAKERS[family] or tiny.distilbert)(seed=3)
    reference.load_state_dict(model.state_dict())
    params_before = sum(p.numel() for p in model.parameters())
    prune.prune_heads(model, {0: [1, 3], 1: [0]})
    lay = arch.layers(model)
    assert [lay[0].get(w).out_features for w in ("query", "key", "value")] == [2 * DH] * 3
    assert lay[0].get("output").in_features == 2 * DH and lay[1].get("output").in_features == 3 * DH
    # 3 heads x (3 projections of DH rows + bias, and DH output columns)
    assert params_before - sum(p.numel() for p in model.parameters()) == 3 * (3 * (DH * 32 + DH) + 32 * DH)
    assert prune.pruned_heads_record(model) == {0: [1, 3], 1: [0]}
    zero_heads(reference, {0: [1, 3], 1: [0]})
    assert torch.allclose(logits(model, tok, data), logits(reference, tok, data), atol=1e-5)


def test_second_head_pruning_records_original_indices(teacher, tok, data):
    prune.prune_heads(teacher, {0: [1, 3]})
    prune.prune_heads(teacher, {0: [1]})  # current head 1 of (0, 2) is original head 2
    assert prune.pruned_heads_record(teacher) == {0: [1, 2, 3]}
    assert prune.remaining_heads(teacher) == [[0], [0, 1, 2, 3]]
    with pytest.raises(ValueError):
        prune.prune_heads(teacher, {0: [0]})  # the last head of a layer stays
    evaluation.predict_logits(teacher, tok, data["eval"], tiny.MAX_LEN)  # still runs


def test_importance_ranks_a_silenced_head_and_neuron_lowest(teacher, tok, data):
    zero_heads(teacher, {1: [2]})
    with torch.no_grad():
        arch.layers(teacher)[0].get("ffn_out").weight[:, 5] = 0
    heads, neurons = prune.importance(teacher, tok, data["train"][:64], tiny.MAX_LEN)
    assert [len(h) for h in heads] == [4, 4] and [len(n) for n in neurons] == [64, 64]
    assert float(heads[1][2]) == 0.0 and float(neurons[0][5]) == 0.0
    assert all(float(h.min()) > 0 for i, h in enumerate(heads) if i != 1)
    assert prune.choose_heads(heads, 1 / 8) == {1: [2]}


def test_choose_heads_is_global_and_keeps_one_head_per_layer():
    scores = [torch.tensor([0.1, 0.2, 0.3, 0.4]), torch.tensor([0.9, 0.05, 0.8, 0.7])]
    assert prune.choose_heads(scores, 0.25) == {0: [0], 1: [1]}
    assert prune.choose_heads(scores, 0.75) == {0: [0, 1, 2], 1: [1, 3, 2]} or \
        prune.choose_heads(scores, 0.75) == {0: [0, 1, 2], 1: [1, 2, 3]}
    with pytest.raises(ValueError):
        prune.choose_heads(scores, 1.0)


def test_head_pruned_model_saves_and_reloads(teacher, tok, data, tmp_path):
    prune.prune_heads(teacher, {0: [0], 1: [1, 2]})
    meta = artifacts.save_variant(tmp_path, "heads", ["heads"], teacher, tok)
    assert meta["pruned_heads"] == {0: [0], 1: [1, 2]}
    compact = artifacts.load_model(tmp_path)
    assert arch.layers(compact)[1].get("output").in_features == 2 * DH
    assert torch.equal(logits(compact, tok, data), logits(teacher, tok, data))
    # The stock loader (KServe's runtime) gets the zero-padded full-width weights: no shape
    # mismatch (transformers 5.x would re-initialise such layers at random, with a warning
    # only), and the same predictions.
    stock = AutoModelForSequenceClassification.from_pretrained(tmp_path)
    assert arch.layers(stock)[1].get("output").in_features == 4 * DH
    assert torch.allclose(logits(stock, tok, data), logits(teacher, tok, data), atol=1e-5)
    assert (tmp_path / artifacts.COMPACT_FILE).stat().st_size < (tmp_path / "model.safetensors").stat().st_size


@pytest.mark.parametrize("family", list(MAKERS))
def test_ffn_pruning_removes_exactly_that_many_neurons(family, teacher, tok, data, tmp_path):
    model = MAKERS[family](seed=3) if MAKERS[family] else teacher
    reference = type(model)(model.config.__class__.from_dict(model.config.to_dict())).eval()
    reference.load_state_dict(model.state_dict())
    scores = [torch.arange(64, dtype=torch.float32).flip(0), torch.arange(64, dtype=torch.float32)]
    assert prune.prune_ffn(model, scores, 0.25) == 48
    assert getattr(model.config, arch.ffn_size_key(model.config)) == 48
    lay = arch.layers(model)
    assert all(l.get("ffn_in").out_features == 48 and l.get("ffn_out").in_features == 48 for l in lay)
    # Layer 0 keeps neurons 0..47 (highest scores), layer 1 keeps 16..63.
    with torch.no_grad():
        arch.layers(reference)[0].get("ffn_out").weight[:, 48:] = 0
        arch.layers(reference)[1].get("ffn_out").weight[:, :16] = 0
    assert torch.allclose(logits(model, tok, data), logits(reference, tok, data), atol=1e-5)
    # Uniform width: stock transformers reloads it, as KServe's runtime would.
    model.save_pretrained(tmp_path)
    again = AutoModelForSequenceClassification.from_pretrained(tmp_path)
    assert torch.equal(logits(again, tok, data), logits(model, tok, data))


def test_magnitude_pruning_hits_the_target_exactly_and_is_permanent(teacher, tok, data, tmp_path):
    lins = prune.encoder_linears(teacher)
    n = sum(l.weight.numel() for l in lins)
    smallest = torch.cat([l.weight.detach().abs().flatten() for l in lins]).sort().values
    zeroed = prune.magnitude_prune(teacher, 0.6)
    zeros = sum(int((l.weight == 0).sum()) for l in lins)
    assert zeroed == zeros == round(0.6 * n)
    assert prune.sparsity(teacher) == pytest.approx(0.6, abs=1 / n)
    # The survivors are the largest weights (global ranking), and no mask machinery is left.
    survivors = torch.cat([l.weight.detach().abs().flatten() for l in lins])
    assert float(survivors[survivors > 0].min()) >= float(smallest[zeros - 1])
    assert all(not hasattr(l, "weight_orig") and not l._forward_pre_hooks for l in lins)
    assert teacher.distilbert.embeddings.word_embeddings.weight[1:].ne(0).all()  # dense (row 0 is padding)
    evaluation.predict_logits(teacher, tok, data["eval"], tiny.MAX_LEN)
    teacher.save_pretrained(tmp_path)
    assert prune.sparsity(AutoModelForSequenceClassification.from_pretrained(tmp_path)) == prune.sparsity(teacher)
    with pytest.raises(ValueError):
        prune.magnitude_prune(teacher, 1.0)
