import math

import pytest
import torch
import torch.nn.functional as F

import tiny
from mlserve_optimize import distill, evaluation


def test_loss_is_kl_times_t_squared_plus_ce():
    s = torch.tensor([[2.0, -1.0], [0.5, 0.3]])
    t = torch.tensor([[1.0, 0.0], [-1.0, 2.0]])
    y = torch.tensor([0, 1])
    T, alpha = 2.0, 0.7
    ps, pt = F.softmax(s / T, -1), F.softmax(t / T, -1)
    kl = float((pt * (pt.log() - ps.log())).sum(-1).mean())
    ce = float(-(F.log_softmax(s, -1)[torch.arange(2), y]).mean())
    want = alpha * kl * T * T + (1 - alpha) * ce
    assert float(distill.distillation_loss(s, t, y, T, alpha)) == pytest.approx(want, rel=1e-5)
    # Matching logits leave only the label term.
    assert float(distill.distillation_loss(t, t, y, T, 1.0)) == pytest.approx(0.0, abs=1e-6)


def test_distilled_student_agrees_with_teacher_more_than_an_untrained_one(teacher, tok, data):
    """A smaller, randomly initialised student (half the width, one layer) is trained on the
    teacher's soft targets; its agreement with the teacher on held-out sentences must rise
    well above the same student untrained."""
    t_train = distill.teacher_soft_targets(teacher, tok, data["train"], tiny.MAX_LEN)
    t_eval = evaluation.predict_logits(teacher, tok, data["eval"], tiny.MAX_LEN)
    student = tiny.distilbert(seed=5, dim=16, layers=1, heads=2, ffn=32)
    before = distill.agreement(evaluation.predict_logits(student, tok, data["eval"], tiny.MAX_LEN), t_eval)
    losses = distill.train(student, tok, data["train"], t_train, steps=120, batch_size=32, lr=3e-3,
                           temperature=2.0, alpha=0.7, max_length=tiny.MAX_LEN, seed=0)
    after = distill.agreement(evaluation.predict_logits(student, tok, data["eval"], tiny.MAX_LEN), t_eval)
    assert all(math.isfinite(x) for x in losses) and len(losses) == 120
    assert sum(losses[-10:]) < sum(losses[:10])
    assert after >= 0.9
    assert after >= before + 0.2


def test_student_from_teacher_copies_every_kth_layer(teacher):
    student = distill.student_from_teacher(teacher, 1)
    assert student.config.n_layers == 1 and teacher.config.n_layers == 2
    s, t = student.state_dict(), teacher.state_dict()
    # One layer: the teacher's last (closest to the classifier).
    assert torch.equal(s["distilbert.transformer.layer.0.ffn.lin1.weight"], t["distilbert.transformer.layer.1.ffn.lin1.weight"])
    assert torch.equal(s["classifier.weight"], t["classifier.weight"])
    with pytest.raises(ValueError):
        distill.student_from_teacher(teacher, 3)


def test_student_from_a_bert_teacher():
    t = tiny.bert(seed=0, layers=3)
    s = distill.student_from_teacher(t, 2)
    assert s.config.num_hidden_layers == 2
    assert torch.equal(s.state_dict()["bert.encoder.layer.1.output.dense.weight"],
                       t.state_dict()["bert.encoder.layer.2.output.dense.weight"])
