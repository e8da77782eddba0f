import json

import boto3
import pytest
from moto import mock_aws

import tiny
from mlserve_optimize import cli


@pytest.fixture
def files(tmp_path, _teacher, tok, data):
    teacher_dir = tmp_path / "teacher"
    _teacher.save_pretrained(teacher_dir)
    tok.save_pretrained(teacher_dir)
    paths = {}
    for split in ("train", "eval"):
        p = tmp_path / f"{split}.jsonl"
        p.write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in data[split]))
        paths[split] = p
    return teacher_dir, paths


@pytest.fixture
def aws(monkeypatch):
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket="mlserve-artifacts")
        yield boto3.client("s3")


def test_job_contract_from_environment_writes_every_variant_to_s3(files, aws, monkeypatch, tmp_path, capsys):
    """The Job passes everything as MLSERVE_OPT_* variables; artifacts land under
    s3://bucket/models/<run id>/<variant>/ with a summary.json beside them."""
    teacher_dir, paths = files
    env = {"RUN_ID": "run-7", "OUTPUT": "s3://mlserve-artifacts/models/run-7/", "TEACHER": str(teacher_dir),
           "STUDENT": "teacher-layers:1", "METHODS": "distill+ffn+int8", "TRAIN_FILE": str(paths["train"]),
           "EVAL_FILE": str(paths["eval"]), "TRAIN_STEPS": "20", "RECOVERY_STEPS": "0",
           "MAX_LENGTH": str(tiny.MAX_LEN), "LATENCY_REPEATS": "2", "THREADS": "1", "DEVICE": "cpu",
           "WORK_DIR": str(tmp_path / "work"), "LR": "0.003"}
    for k, v in env.items():
        monkeypatch.setenv("MLSERVE_OPT_" + k, v)
    assert cli.main([]) == 0
    keys = {o["Key"] for o in aws.list_objects_v2(Bucket="mlserve-artifacts")["Contents"]}
    for variant in ("baseline", "distill", "distill-ffn", "distill-ffn-int8"):
        for f in ("config.json", "model.safetensors", "tokenizer.json", "metrics.json", "mlserve_optimize.json"):
            assert f"models/run-7/{variant}/{f}" in keys
    assert "models/run-7/distill-ffn-int8/model_int8.pt" in keys
    assert all(k.startswith("models/run-7/") for k in keys)
    summary = json.loads(aws.get_object(Bucket="mlserve-artifacts", Key="models/run-7/summary.json")["Body"].read())
    assert summary["run_id"] == "run-7" and summary["config"]["train_steps"] == 20
    assert "| distill-ffn-int8 |" in capsys.readouterr().out


def test_flags_win_over_environment_and_local_output(files, monkeypatch, tmp_path):
    teacher_dir, paths = files
    monkeypatch.setenv("MLSERVE_OPT_METHODS", "heads")
    monkeypatch.setenv("MLSERVE_OPT_TRAIN_STEPS", "not-a-number-but-overridden")
    out = tmp_path / "out"
    rc = cli.main(["--run-id", "r1", "--output", str(out), "--teacher", str(teacher_dir), "--methods", "sparse",
                   "--train-file", str(paths["train"]), "--eval-file", str(paths["eval"]), "--train-steps", "1",
                   "--recovery-steps", "0", "--latency-repeats", "1", "--threads", "1", "--device", "cpu",
                   "--target-sparsity", "0.3", "--max-length", str(tiny.MAX_LEN)])
    assert rc == 0
    assert sorted(p.name for p in out.iterdir()) == ["baseline", "sparse", "summary.json"]
    m = json.loads((out / "sparse" / "metrics.json").read_text())
    assert m["steps_detail"]["sparse"]["target"] == 0.3


def test_a_named_student_with_its_own_tokenizer(files, tok, tmp_path):
    """--student as a model directory (a Hub id in the cluster): here a tiny BERT, a different
    architecture from the DistilBERT teacher, distilled then FFN- and head-pruned."""
    teacher_dir, paths = files
    student_dir = tmp_path / "student"
    tiny.bert(seed=4, dim=16, layers=1, heads=2, ffn=32).save_pretrained(student_dir)
    tok.save_pretrained(student_dir)
    out = tmp_path / "out"
    rc = cli.main(["--run-id", "r3", "--output", str(out), "--teacher", str(teacher_dir), "--student", str(student_dir),
                   "--methods", "distill+ffn+heads", "--train-file", str(paths["train"]), "--eval-file", str(paths["eval"]),
                   "--train-steps", "80", "--recovery-steps", "0", "--lr", "0.003", "--latency-repeats", "1",
                   "--threads", "1", "--device", "cpu", "--head-fraction", "0.5", "--max-length", str(tiny.MAX_LEN)])
    assert rc == 0
    m = json.loads((out / "distill-ffn-heads" / "metrics.json").read_text())
    assert json.loads((out / "distill-ffn-heads" / "config.json").read_text())["model_type"] == "bert"
    assert m["student"] == str(student_dir) and m["steps_detail"]["heads"]["pruned_heads"]
    assert m["agreement_with_teacher"] >= 0.8


@pytest.mark.parametrize("argv, message", [
    (["--output", "/tmp/x"], "required"),
    (["--run-id", "Run_1", "--output", "/tmp/x"], "DNS label"),
    (["--run-id", "r2", "--output", "s3://b/models/r1/"], "does not end with the run id"),
    (["--run-id", "r2", "--output", "/tmp/x", "--methods", "int8+ffn"], "int8 must be the last"),
])
def test_bad_invocations_exit_2_before_any_work(argv, message, capsys, monkeypatch):
    monkeypatch.delenv("MLSERVE_OPT_RUN_ID", raising=False)
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err
