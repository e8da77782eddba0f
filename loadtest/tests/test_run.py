"""The Job's CLI/env contract and how stack outputs become targets."""
import json

import pytest

import run

OUTPUTS = {
    "variants": {
        "fp16": {"baseUrl": "http://llm-fp16.llm.svc.cluster.local", "engine": "tgi", "model": "m", "quantize": "none", "replicas": 1, "routes": {}},
        "nf4": {"baseUrl": "http://llm-nf4.llm.svc.cluster.local", "engine": "tgi", "model": "m", "quantize": "bitsandbytes-nf4", "replicas": 0, "routes": {}},
    },
    "kserve": {
        "models": {
            "sst2": {"protocol": "v1", "inCluster": "http://sst2-predictor.models.svc.cluster.local", "path": "/v1/models/sst2:predict", "external": {}},
            "sst2-grpc": {"protocol": "grpc-v2", "inCluster": "sst2-grpc-predictor.models.svc.cluster.local:80", "external": {},
                          "grpc": {"service": "inference.GRPCInferenceService", "method": "ModelInfer", "modelName": "sst2-grpc"}},
        },
        "graphs": {"ens": {"protocol": "v1", "inCluster": "http://ens.models.svc.cluster.local", "path": "/", "external": {}}},
    },
    "endpoints": {"prometheus": "http://prom:9090", "modelApi": "http://model-api/v1/models/distilbert:predict", "asyncGateway": "http://gw/"},
}


def args(*extra, env=None):
    return run.parse_args(["--targets", "t.json", "--run-id", "r1", "--out", "/tmp/x", *extra], env or {})


def test_defaults_are_the_seed_profile():
    a = args()
    assert (a.profiles, a.users, a.spawn_rate, a.duration_s) == (["seed"], 100, 10, 300)


def test_environment_fills_flags_and_a_flag_wins():
    env = {"MLSERVE_PROFILE": "rate", "MLSERVE_RATE": "25", "MLSERVE_DURATION": "2m"}
    a = args(env=env)
    assert (a.profiles, a.rate, a.duration_s) == (["rate"], 25, 120)
    assert args("--rate", "7", env=env).rate == 7
    a = run.parse_args([], {"MLSERVE_TARGETS": "t.json", "MLSERVE_RUN_ID": "r2", "MLSERVE_OUT": "s3://b"})
    assert (a.targets, a.run_id, a.out) == ("t.json", "r2", "s3://b")


@pytest.mark.parametrize("bad", [["--profile", "soak"], ["--run-id", "a/b"], ["--duration", "ten"], ["--rates", "1,x"]])
def test_bad_invocations_exit_2(bad, capsys):
    with pytest.raises(SystemExit) as e:
        args(*bad)
    assert e.value.code == 2
    assert capsys.readouterr().err


def test_required_inputs_are_named_with_their_variables(capsys):
    with pytest.raises(SystemExit):
        run.parse_args([], {})
    err = capsys.readouterr().err
    assert "--targets (MLSERVE_TARGETS)" in err and "--run-id (MLSERVE_RUN_ID)" in err and "--out (MLSERVE_OUT)" in err


def test_profiles_can_be_chained():
    assert args("--profile", "seed,sweep").profiles == ["seed", "sweep"]


def test_targets_from_stack_outputs_default_to_running_variants():
    keys = [t.key for t in run.resolve_targets(OUTPUTS, "")]
    assert keys == ["variant:fp16", "kserve:sst2", "kserve:sst2-grpc", "graph:ens", "modelApi", "asyncGateway"]
    t = {t.key: t for t in run.resolve_targets(OUTPUTS, "")}
    assert t["kserve:sst2"].url == "http://sst2-predictor.models.svc.cluster.local/v1/models/sst2:predict"
    assert (t["kserve:sst2-grpc"].kind, t["kserve:sst2-grpc"].url, t["kserve:sst2-grpc"].info["model"]) == ("grpc-v2", "sst2-grpc-predictor.models.svc.cluster.local:80", "sst2-grpc")
    assert t["asyncGateway"].url == "http://gw"


def test_select_picks_parked_variants_and_rejects_unknown_names():
    assert [t.key for t in run.resolve_targets(OUTPUTS, "variant:nf4")] == ["variant:nf4"]
    with pytest.raises(SystemExit, match="unknown targets"):
        run.resolve_targets(OUTPUTS, "variant:awq")


def test_targets_json_may_be_inline_or_a_file(tmp_path):
    f = tmp_path / "o.json"
    f.write_text(json.dumps(OUTPUTS))
    assert run.load_targets(str(f)) == OUTPUTS == run.load_targets(json.dumps(OUTPUTS))


def test_durations_and_timestamps():
    assert [run.parse_duration(x) for x in ("30", "30s", "5m", "1h")] == [30, 30, 300, 3600]
    # vegeta writes RFC 3339 with nanoseconds
    assert run._rfc3339("2026-11-26T01:02:03.123456789Z") == pytest.approx(1795654923.123456)


def test_an_existing_results_directory_is_not_overwritten(tmp_path):
    (tmp_path / "manifest.json").write_text("{}")
    t = tmp_path / "t.json"
    t.write_text(json.dumps({"variants": {}}))
    with pytest.raises(SystemExit, match="already holds a run"):
        run.main(["--targets", str(t), "--run-id", "r", "--out", str(tmp_path), "--select", ""], {})


def test_a_worker_needs_one_variant_and_the_master_host(tmp_path, capsys):
    t = tmp_path / "t.json"
    t.write_text(json.dumps(OUTPUTS))
    with pytest.raises(SystemExit):
        run.main(["worker", "--targets", str(t), "--select", "variant:fp16"], {})  # no --master-host
    with pytest.raises(SystemExit, match="exactly one variant"):
        run.main(["worker", "--master-host", "m", "--targets", str(t), "--select", "kserve:sst2"], {})


def test_the_locustfile_environment_names_the_target_and_engine():
    a = args("--max-new-tokens", "64")
    t = run.resolve_targets(OUTPUTS, "variant:fp16")[0]
    env = run.locust_env(a, t, "/x/samples.jsonl")
    assert env == {"MLSERVE_ENGINE": "tgi", "MLSERVE_TARGET": "variant:fp16", "MLSERVE_MODEL": "m", "MLSERVE_DATASET": a.dataset,
                   "MLSERVE_DATASET_LIMIT": "0", "MLSERVE_SAMPLES": "/x/samples.jsonl", "MLSERVE_MAX_NEW_TOKENS": "64"}


def test_async_completion_counts_done_jobs_and_their_p99(tmp_path):
    import base64

    results, jobs = [], []
    for i in range(10):
        body = base64.b64encode(json.dumps({"jobId": f"j{i}", "statusUrl": f"/v1/jobs/j{i}"}).encode()).decode()
        results.append({"code": 202, "timestamp": "2026-11-26T00:00:00Z", "latency": 1_000_000, "body": body})
        start = run._rfc3339("2026-11-26T00:00:00Z")
        jobs.append({"jobId": f"j{i}", "submitted": start, "finished": start + (i + 1) / 10, "status": "done" if i < 8 else "timeout"})
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in results))
    (tmp_path / "jobs.jsonl").write_text("".join(json.dumps(j) + "\n" for j in jobs))
    success, p99 = run.async_completion(str(tmp_path), 10)
    assert success == 0.8
    assert p99 == pytest.approx(800)
