import pytest
import torch

from mlserve_optimize import evaluation


def test_accuracy_and_f1_on_a_known_set():
    # 10 examples: tp=3, fp=1, fn=2, tn=4 -> accuracy 7/10, F1 = 2*3 / (2*3 + 1 + 2) = 6/9.
    labels = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    preds = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    r = evaluation.accuracy_f1(preds, labels)
    assert r["accuracy"] == pytest.approx(0.7)
    assert r["f1"] == pytest.approx(6 / 9)


def test_f1_edge_cases():
    assert evaluation.accuracy_f1([1, 1], [1, 1]) == {"accuracy": 1.0, "f1": 1.0}
    assert evaluation.accuracy_f1([0, 0], [1, 0]) == {"accuracy": 0.5, "f1": 0.0}
    with pytest.raises(ValueError):
        evaluation.accuracy_f1([1], [1, 0])


def test_quality_runs_the_model_on_the_examples(teacher, tok, data):
    """quality() must score what the model predicts, example by example."""
    logits = evaluation.predict_logits(teacher, tok, data["eval"], 24)
    preds = logits.argmax(-1).tolist()
    labels = [y for _, y in data["eval"]]
    assert evaluation.quality(teacher, tok, data["eval"], 24) == evaluation.accuracy_f1(preds, labels)
    # Batching must not change predictions: one sentence at a time gives the same logits.
    single = torch.cat([evaluation.predict_logits(teacher, tok, [ex], 24) for ex in data["eval"][:20]])
    assert torch.allclose(single, logits[:20], atol=1e-5)


def test_latency_is_a_positive_median(teacher, tok, data):
    texts = [t for t, _ in data["eval"][:16]]
    for batch in (1, 8):
        ms = evaluation.latency_ms(teacher, tok, texts, batch, 24, repeats=5, warmup=1)
        assert 0 < ms < 5000


def test_sizes(tmp_path):
    (tmp_path / "a").write_bytes(b"\0" * 1000)
    (tmp_path / "b").write_bytes(b"x" * 24)
    assert evaluation.dir_bytes(tmp_path) == 1024
    assert evaluation.dir_bytes(tmp_path, ["b"]) == 24
    assert evaluation.gzip_bytes(tmp_path / "a") < 100
