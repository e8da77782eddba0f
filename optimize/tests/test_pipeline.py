import json

import pytest
import torch
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

import tiny
from mlserve_optimize import artifacts, evaluation, pipeline

METHODS = "distill,ffn,heads,sparse,int8,distill+ffn+int8,heads+int8"
VARIANTS = ["baseline", "distill", "ffn", "heads", "sparse", "int8", "distill-ffn", "distill-ffn-int8", "heads-int8"]


def test_parse_methods_and_plan():
    chains = pipeline.parse_methods(METHODS)
    assert chains[-2] == ["distill", "ffn", "int8"]
    assert [pipeline.variant_name(s) for s in pipeline.plan(chains)] == VARIANTS[1:]
    for bad in ("", "prune", "int8+ffn", "ffn+distill", "ffn+ffn"):
        with pytest.raises(ValueError):
            pipeline.parse_methods(bad)


def test_labels_outside_the_teacher_s_classes_are_refused(teacher, tok, data, tmp_path):
    cfg = pipeline.RunConfig(run_id="r", teacher="tiny", methods="int8")
    with pytest.raises(ValueError, match=r"data labels \[0, 1, 2\] are not the teacher's classes 0..1"):
        pipeline.run(cfg, teacher, tok, data["train"], [("a neutral sentence", 2)], tmp_path, log=lambda _: None)
    three = tiny.distilbert(seed=0)
    three.config.num_labels = 3  # e.g. a negative/neutral/positive model on SST-2's two labels
    with pytest.raises(ValueError, match="not the teacher's classes 0..2"):
        pipeline.run(cfg, three, tok, data["train"], data["eval"], tmp_path, log=lambda _: None)


@pytest.fixture(scope="module")
def run(tmp_path_factory, _teacher, tok, data):
    import copy

    out = tmp_path_factory.mktemp("run")
    cfg = pipeline.RunConfig(run_id="tiny-1", teacher="tiny", student="teacher-layers:1", methods=METHODS,
                             target_sparsity=0.5, head_fraction=0.25, ffn_fraction=0.25, train_steps=60,
                             recovery_steps=10, batch_size=32, lr=3e-3, max_length=tiny.MAX_LEN,
                             calibration_examples=64, latency_repeats=3, latency_texts=16, threads=1)
    saved = []
    summary = pipeline.run(cfg, copy.deepcopy(_teacher), tok, data["train"], data["eval"], out,
                           on_saved=lambda name, path: saved.append(name), log=lambda _: None)
    return out, summary, saved


def metrics(out, name):
    return json.loads((out / name / "metrics.json").read_text())


def test_every_step_is_saved_and_measured(run):
    out, summary, saved = run
    assert saved == VARIANTS and list(summary["variants"]) == VARIANTS
    assert json.loads((out / "summary.json").read_text())["variants"].keys() == set(VARIANTS)
    for name in VARIANTS:
        m = metrics(out, name)
        assert m["variant"] == name and m["eval"]["examples"] == 200
        assert 0 <= m["accuracy"] <= 1 and 0 <= m["f1"] <= 1
        assert m["latency_ms"]["batch_1"] > 0 and m["latency_ms"]["batch_8"] > 0
        assert m["size_bytes"] == (out / name / m["size_file"]).stat().st_size
    as_measured = {n for n in VARIANTS if metrics(out, n)["serving"]["kserve_as_measured"]}
    assert as_measured == {"baseline", "distill", "ffn", "sparse", "distill-ffn"}
    b = metrics(out, "baseline")
    assert b["vs_baseline"] == {"latency_batch_1": 1.0, "latency_batch_8": 1.0, "size": 1.0,
                                "accuracy_delta": 0.0, "f1_delta": 0.0}
    assert b["agreement_with_teacher"] == 1.0


def test_what_each_method_changes(run):
    out, _, _ = run
    m = {name: metrics(out, name) for name in VARIANTS}
    base = m["baseline"]
    # Structured pruning and distillation shrink the weights file; int8 shrinks it most.
    for name in ("distill", "ffn", "heads", "distill-ffn"):
        assert m[name]["vs_baseline"]["size"] < 1 and m[name]["parameters"] < base["parameters"]
    # int8 (torch.save, per-tensor pickle overhead) vs float (safetensors): the tiny model's
    # embeddings and overhead weigh much more than in DistilBERT, hence only 0.75.
    assert m["int8"]["vs_baseline"]["size"] < 0.75 and m["distill-ffn-int8"]["size_bytes"] < m["distill-ffn"]["size_bytes"]
    assert m["heads-int8"]["size_bytes"] < m["heads"]["size_bytes"] < base["size_bytes"]
    # Unstructured sparsity: same dense file and shape, half the encoder weights zero, smaller gzipped.
    assert m["sparse"]["parameters"] == base["parameters"]
    assert m["sparse"]["encoder_sparsity"] >= 0.5 and base["encoder_sparsity"] < 0.01
    assert m["sparse"]["size_gzip_bytes"] < 0.8 * base["size_gzip_bytes"]
    assert m["heads"]["steps_detail"]["heads"]["pruned_heads"] and m["ffn"]["steps_detail"]["ffn"]["ffn_width"] == 48
    assert m["distill-ffn-int8"]["steps_detail"]["distill"]["steps"] == 60
    # The tiny task is easy: recovery and distillation keep the variants close to the teacher.
    for name in VARIANTS:
        assert m[name]["agreement_with_teacher"] >= 0.85, name


def test_metrics_match_a_fresh_evaluation_of_the_saved_variant(run, tok, data):
    out, _, _ = run
    for name in VARIANTS:
        model = artifacts.load_model(out / name)
        tokenizer = artifacts.load_tokenizer(out / name)
        q = evaluation.quality(model, tokenizer, data["eval"], tiny.MAX_LEN)
        m = metrics(out, name)
        assert (q["accuracy"], q["f1"]) == (m["accuracy"], m["f1"]), name


def kserve_like_predict(model_dir, texts):
    """What KServe's Hugging Face runtime (v0.20.0, encoder_model.py) does for a
    sequence-classification model dir: AutoConfig -> task from `architectures` ->
    AutoTokenizer + AutoModelForSequenceClassification.from_pretrained -> argmax -> id2label."""
    config = AutoConfig.from_pretrained(model_dir)
    assert config.architectures[0].endswith("ForSequenceClassification")
    tokenizer = AutoTokenizer.from_pretrained(model_dir, do_lower_case=True)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, dtype=torch.float32).eval()
    assert tokenizer.pad_token
    with torch.no_grad():
        enc = tokenizer(texts, padding=True, truncation=True, max_length=tiny.MAX_LEN, return_tensors="pt")
        ids = model(**enc).logits.argmax(-1).tolist()
    return [model.config.id2label[i] for i in ids]


def test_every_variant_dir_loads_in_the_serving_runtime_s_way(run, data):
    """Float variants predict exactly as measured; int8 ones are served as their float
    parent by the stock runtime (what mlserve_optimize.json says)."""
    out, _, _ = run
    texts = [t for t, _ in data["eval"][:64]]
    for name in VARIANTS:
        served = kserve_like_predict(out / name, texts)
        meta = json.loads((out / name / artifacts.META_FILE).read_text())
        if meta["int8_dynamic"]:
            parent = name.removesuffix("-int8") if name != "int8" else "baseline"
            assert served == kserve_like_predict(out / parent, texts), name
            assert "float" in meta["kserve_huggingface_runtime"]
        else:
            model = artifacts.load_model(out / name)
            with torch.no_grad():
                enc = AutoTokenizer.from_pretrained(out / name)(texts, padding=True, return_tensors="pt")
                want = [model.config.id2label[i] for i in model(**enc).logits.argmax(-1).tolist()]
            assert served == want, name
