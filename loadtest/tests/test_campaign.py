"""campaign.py as a real process against a fake Kubernetes API (stdlib http.server on 127.0.0.1):
the order of scale calls, readiness, per-variant run ids, a variant that never becomes Ready,
SIGTERM mid-run. One test runs the real run.py (vegeta against a fake TGI /generate on the same
server); the others use a stub runner (`--runner`) that records its arguments."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
CAMPAIGN = os.path.join(HERE, "..", "campaign.py")
TOKEN = "test-token"
PREFIX = "/apis/apps/v1/namespaces/llm/deployments"


class FakeKube:
    """Deployments in namespace llm: GET one, LIST (labelSelector: a label key), PATCH .../scale.
    A scale is observed (observedGeneration, readyReplicas) `delay` seconds later (0.5 s: longer than a runner's start), except for
    Deployments in `never_ready`, which are observed but never get a ready replica. Also a fake
    TGI: POST /tgi/<variant>/generate, recorded with whether that variant was alone and Ready."""

    def __init__(self, deployments: dict[str, dict[str, Any]], delay: float = 0.5, never_ready: tuple[str, ...] = ()):
        self.lock = threading.Lock()
        self.delay = delay
        self.never_ready = set(never_ready)
        self.d = {name: {"replicas": x.get("replicas", 0), "labels": x.get("labels", {}), "generation": 1, "observed": 1,
                         "ready": x.get("replicas", 0)} for name, x in deployments.items()}
        self.calls: list[tuple[str, str, Any]] = []  # (method, path, body)
        self.scales: list[tuple[str, int]] = []
        self.running_after_scale: list[list[str]] = []  # labelled Deployments with replicas > 0 after each scale
        self.generates: list[tuple[str, bool]] = []  # (variant, llm-<variant> was the only one up and Ready)
        self.unauthorized = 0
        fake = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def reply(self, code: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def authorized(self) -> bool:
                if self.headers.get("Authorization") == f"Bearer {TOKEN}":
                    return True
                fake.unauthorized += 1
                self.reply(401, {"kind": "Status", "message": "Unauthorized"})
                return False

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                if not self.authorized():
                    return
                with fake.lock:
                    fake.calls.append(("GET", self.path, None))
                    if path == PREFIX:
                        key = dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("labelSelector", "").replace("%2F", "/")
                        items = [fake.obj(n) for n, x in fake.d.items() if not key or key in x["labels"]]
                        return self.reply(200, {"kind": "DeploymentList", "items": items})
                    name = path[len(PREFIX) + 1:]
                    if path.startswith(PREFIX + "/") and name in fake.d:
                        return self.reply(200, fake.obj(name))
                self.reply(404, {"kind": "Status", "message": f"deployments.apps {path.rsplit('/', 1)[-1]!r} not found"})

            def do_PATCH(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if not self.authorized():
                    return
                name = self.path[len(PREFIX) + 1:].removesuffix("/scale")
                if not (self.path.startswith(PREFIX + "/") and self.path.endswith("/scale") and name in fake.d):
                    return self.reply(404, {"kind": "Status", "message": "not found"})
                if self.headers.get("Content-Type") != "application/merge-patch+json":
                    return self.reply(415, {"kind": "Status", "message": "unsupported media type"})
                n = body["spec"]["replicas"]
                with fake.lock:
                    fake.calls.append(("PATCH", self.path, body))
                    x = fake.d[name]
                    if x["replicas"] != n:
                        x["replicas"] = n
                        x["generation"] += 1
                    fake.scales.append((name, n))
                    fake.running_after_scale.append(sorted(k for k, y in fake.d.items() if y["labels"] and y["replicas"] > 0))
                    gen = x["generation"]
                threading.Timer(fake.delay, fake.observe, (name, gen)).start()
                self.reply(200, {"kind": "Scale", "spec": {"replicas": n}})

            def do_POST(self) -> None:  # the fake TGI
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = self.path.strip("/").split("/")
                if len(parts) == 3 and parts[0] == "tgi" and parts[2] == "generate":
                    with fake.lock:
                        up = [k for k, y in fake.d.items() if y["labels"] and y["replicas"] > 0]
                        fake.generates.append((parts[1], up == [f"llm-{parts[1]}"] and fake.is_ready(f"llm-{parts[1]}")))
                    return self.reply(200, {"generated_text": "SELECT 1"})
                self.reply(404, {})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def observe(self, name: str, gen: int) -> None:
        with self.lock:
            x = self.d[name]
            if x["generation"] == gen:
                x["observed"] = gen
                x["ready"] = 0 if name in self.never_ready else x["replicas"]

    def is_ready(self, name: str) -> bool:
        x = self.d[name]
        return x["ready"] >= 1 and x["observed"] >= x["generation"]

    def obj(self, name: str) -> dict[str, Any]:
        x = self.d[name]
        return {"kind": "Deployment", "metadata": {"name": name, "namespace": "llm", "generation": x["generation"], "labels": x["labels"]},
                "spec": {"replicas": x["replicas"]}, "status": {"observedGeneration": x["observed"], "replicas": x["replicas"], "readyReplicas": x["ready"]}}

    def __enter__(self) -> "FakeKube":
        self.thread.start()
        return self

    def __exit__(self, *a: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def variant(name: str, replicas: int = 0) -> dict[str, Any]:
    return {"replicas": replicas, "labels": {"mlserve.io/variant": name, "app.kubernetes.io/name": f"llm-{name}"}}


# fp16 is up (and Ready) when the campaign starts, so is awq (not in the campaign); the router has no
# variant label and is left alone; "stuck" never becomes Ready; "ghost" has no Deployment.
DEPLOYMENTS = {"llm-fp16": variant("fp16", 1), "llm-awq": variant("awq", 1), "llm-stuck": variant("stuck"), "llm-eetq": variant("eetq"),
               "llm-router": {"replicas": 1, "labels": {}}}


def targets(tmp_path, url: str) -> str:
    outputs = {"variants": {v: {"baseUrl": f"{url}/tgi/{v}", "engine": "tgi", "model": "m", "quantize": v, "replicas": 0, "routes": {}}
                            for v in ("fp16", "awq", "stuck", "eetq", "ghost")}}
    p = tmp_path / "outputs.json"
    p.write_text(json.dumps(outputs))
    return str(p)


def stub(tmp_path, sleep: float = 0) -> str:
    """A runner standing in for run.py: appends its arguments, its pid and its variant's Deployment
    as the API shows it at that moment to runs.jsonl, then sleeps."""
    p = tmp_path / "stub.py"
    p.write_text(f"""import json, os, sys, time, urllib.request
v = sys.argv[sys.argv.index("--select") + 1].split(":")[1]
req = urllib.request.Request(os.environ["MLSERVE_KUBE_API"] + "{PREFIX}/llm-" + v, headers={{"Authorization": "Bearer {TOKEN}"}})
d = json.load(urllib.request.urlopen(req))
open({str(tmp_path / 'runs.jsonl')!r}, "a").write(json.dumps({{"pid": os.getpid(), "argv": sys.argv[1:], "deployment": d}}) + "\\n")
time.sleep({sleep})
""")
    return f"{sys.executable} {p}"


def env_for(tmp_path, fake: FakeKube) -> dict[str, str]:
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLSERVE_", "KUBERNETES_"))}
    env.update(MLSERVE_KUBE_API=fake.url, MLSERVE_KUBE_TOKEN_FILE=str(token), PYTHONUNBUFFERED="1")
    return env


def campaign(tmp_path, fake: FakeKube, variants: str, *run_args: str, runner: str | None = None, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    own = ["--variants", variants, "--ready-timeout", "1.5", "--poll-interval", "0.1", *(["--runner", runner] if runner else [])]
    rest = ["--targets", targets(tmp_path, fake.url), "--run-id", "c1", "--out", str(tmp_path / "out"), *run_args]
    return subprocess.Popen([sys.executable, CAMPAIGN, *own, "--", *rest], env=env or env_for(tmp_path, fake), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def events(stdout: str) -> list[dict[str, Any]]:
    return [e for e in (json.loads(line) for line in stdout.splitlines() if line.startswith("{")) if e.get("mlserve") == "campaign"]


EXPECTED_SCALES = [("llm-awq", 0), ("llm-fp16", 0),  # parked first
                   ("llm-fp16", 1), ("llm-fp16", 0), ("llm-stuck", 1), ("llm-stuck", 0), ("llm-eetq", 1), ("llm-eetq", 0)]


def check_scales(fake: FakeKube) -> None:
    assert fake.scales == EXPECTED_SCALES
    assert all(len(up) <= 1 for up in fake.running_after_scale), fake.running_after_scale  # never two variants up
    assert all(y["replicas"] == 0 for k, y in fake.d.items() if y["labels"])  # all parked at the end; nothing restored
    assert fake.d["llm-router"]["replicas"] == 1 and not any("llm-router" in p for _, p, _ in fake.calls if "labelSelector" not in p)
    assert fake.unauthorized == 0


def test_variants_run_one_at_a_time_and_a_stuck_one_fails_without_stopping_the_rest(tmp_path):
    with FakeKube(DEPLOYMENTS, never_ready=("llm-stuck",)) as fake:
        p = campaign(tmp_path, fake, "fp16,stuck,eetq", runner=stub(tmp_path))
        out, err = p.communicate(timeout=30)
    assert p.returncode == 1, err
    check_scales(fake)
    runs = [json.loads(line) for line in (tmp_path / "runs.jsonl").read_text().splitlines()]
    assert len(runs) == 2
    for r, v in zip(runs, ("fp16", "eetq")):
        a = r["argv"]
        assert a[a.index("--run-id") + 1] == f"c1-{v}" and a.count("--run-id") == 1
        assert a[a.index("--out") + 1] == str(tmp_path / "out" / v) and a.count("--out") == 1
        assert a[a.index("--select") + 1] == f"variant:{v}"
        # started only once the scale was observed and a replica was Ready (fp16 was Ready before it
        # was parked and scaled up again: its old readyReplicas alone does not count)
        d = r["deployment"]
        assert d["spec"]["replicas"] == 1 and d["status"]["readyReplicas"] == 1 and d["status"]["observedGeneration"] == d["metadata"]["generation"] == (3 if v == "fp16" else 2)
    ev = events(out)
    kinds = [(e["event"], e.get("deployment") or e.get("variant")) for e in ev if e["event"] in ("ready", "not-ready", "run-start", "run-end")]
    assert kinds == [("ready", "llm-fp16"), ("run-start", "fp16"), ("run-end", "fp16"), ("not-ready", "llm-stuck"),
                     ("ready", "llm-eetq"), ("run-start", "eetq"), ("run-end", "eetq")]
    done = ev[-1]
    assert done["event"] == "done" and not done["ok"]
    assert {v: (r["status"], r["exitCode"]) for v, r in done["variants"].items()} == {"fp16": ("ok", 0), "stuck": ("not-ready", None), "eetq": ("ok", 0)}
    assert done["variants"]["eetq"]["results"] == str(tmp_path / "out" / "eetq") and done["variants"]["stuck"]["results"] is None


def vegeta_dir() -> str | None:
    found = shutil.which("vegeta")
    if found:
        return os.path.dirname(found)
    for d in (os.path.join(os.environ.get("GOPATH", os.path.expanduser("~/go")), "bin"),):
        if os.access(os.path.join(d, "vegeta"), os.X_OK):
            return d
    return None


def test_the_real_runner_measures_each_variant_alone_under_its_own_run_id(tmp_path):
    # The pinned tools are installed by `npm run tools:install` (and .ci/run): a missing one fails, never skips.
    assert vegeta_dir() is not None, "vegeta not installed: run `npm run tools:install`"
    with FakeKube(DEPLOYMENTS, never_ready=("llm-stuck",)) as fake:
        env = env_for(tmp_path, fake)
        env["PATH"] = vegeta_dir() + os.pathsep + env.get("PATH", "")
        p = campaign(tmp_path, fake, "fp16,stuck,eetq", "--profile", "rate", "--duration", "1", "--rate", "4", "--warmup", "2", "--timeout", "5", env=env)
        out, err = p.communicate(timeout=60)
    assert p.returncode == 1, err  # stuck
    check_scales(fake)
    for v in ("fp16", "eetq"):
        m = json.loads((tmp_path / "out" / v / "manifest.json").read_text())
        assert m["runId"] == f"c1-{v}" and [t["key"] for t in m["targets"]] == [f"variant:{v}"]
        assert [r["exitCode"] for r in m["runs"]] == [0]
    assert not (tmp_path / "out" / "stuck").exists()
    # warm-up (2) and 1 s at 4/s, each request while its variant was the only one up, and Ready
    assert {v for v, _ in fake.generates} == {"fp16", "eetq"}
    assert all(ok for _, ok in fake.generates) and len(fake.generates) >= 2 * (2 + 4)
    run_lines = [json.loads(line) for line in out.splitlines() if line.startswith('{"mlserve": "loadtest"')]
    assert [e["runId"] for e in run_lines if e["event"] == "done"] == ["c1-fp16", "c1-eetq"]


def test_sigterm_mid_run_scales_the_current_variant_back_and_stops_the_run(tmp_path):
    with FakeKube(DEPLOYMENTS) as fake:
        p = campaign(tmp_path, fake, "fp16,eetq", runner=stub(tmp_path, sleep=60))
        runs = tmp_path / "runs.jsonl"
        deadline = time.monotonic() + 15
        while not runs.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert runs.exists(), p.stderr.read() if p.poll() is not None else "the runner never started"
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=20)
    assert p.returncode == 143, err
    assert fake.scales == [("llm-awq", 0), ("llm-fp16", 0), ("llm-fp16", 1), ("llm-fp16", 0)]  # eetq never started
    pid = json.loads(runs.read_text())["pid"]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the runner was stopped (and reaped) too
    ev = events(out)
    assert ev[-1]["event"] == "terminated" and ev[-1]["scaledBack"] and ev[-1]["variants"] == {"fp16": "terminated"}


def test_sigterm_while_waiting_for_ready_scales_it_back(tmp_path):
    with FakeKube(DEPLOYMENTS, never_ready=("llm-stuck",)) as fake:
        p = subprocess.Popen([sys.executable, CAMPAIGN, "--variants", "stuck,eetq", "--ready-timeout", "60", "--poll-interval", "0.1", "--runner", stub(tmp_path),
                              "--", "--targets", targets(tmp_path, fake.url), "--run-id", "c1", "--out", str(tmp_path / "out")],
                             env=env_for(tmp_path, fake), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while ("llm-stuck", 1) not in fake.scales and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.05)
        time.sleep(0.3)  # polling
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=20)
    assert p.returncode == 143, err
    assert fake.scales == [("llm-awq", 0), ("llm-fp16", 0), ("llm-stuck", 1), ("llm-stuck", 0)]
    assert not (tmp_path / "runs.jsonl").exists()
    last = events(out)[-1]
    assert (last["event"], last["scaledBack"], last["variants"]) == ("terminated", True, {"stuck": "terminated"})


def test_run_id_and_out_from_the_environment_and_per_variant_s3_places(tmp_path, monkeypatch):
    import campaign as c

    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.json").write_text(json.dumps({"variants": {"fp16": {"baseUrl": "http://x"}}}))
    env = {"MLSERVE_KUBE_API": "http://127.0.0.1:1", "MLSERVE_RUN_ID": "r9", "MLSERVE_OUT": "s3://b/bench"}
    own, rest, a = c.parse(["--variants", "fp16", "--", "--targets", "t.json"], env)
    assert (a.run_id, a.out, own.api_server, own.variant_list) == ("r9", "s3://b/bench", "http://127.0.0.1:1", ["fp16"])
    assert c.variant_out("s3://b/bench/r9", "r9", "fp16") == "s3://b/bench/r9/fp16" and c.results_at("s3://b/bench/r9/fp16") == "s3://b/bench/r9/fp16/"
    assert c.variant_out("s3://b", "r9", "fp16") == c.variant_out("s3://b/", "r9", "fp16") == "s3://b/benchmarks/r9/fp16"
    assert c.variant_out("out", "r9", "fp16") == os.path.join("out", "fp16") and c.results_at("out/fp16") == str(tmp_path / "out" / "fp16")
    assert c.strip_flags(["--targets", "t", "--run-id", "x", "--out=o", "--rate", "3"], ("--run-id", "--out", "--select")) == ["--targets", "t", "--rate", "3"]
    assert c.default_api({"KUBERNETES_SERVICE_HOST": "10.100.0.1", "KUBERNETES_SERVICE_PORT": "443"}) == "https://10.100.0.1:443"
    assert c.default_api({"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"}) == "https://[fd00::1]:443"
    with pytest.raises(SystemExit) as e:  # outside a cluster, with no --api-server
        c.parse(["--variants", "fp16", "--", "--targets", "t.json"], {"MLSERVE_RUN_ID": "r9", "MLSERVE_OUT": "o"})
    assert e.value.code == 2
    (tmp_path / "o" / "fp16").mkdir(parents=True)
    (tmp_path / "o" / "fp16" / "manifest.json").write_text("{}")
    with pytest.raises(SystemExit):  # an existing run is refused before anything is scaled
        c.parse(["--variants", "fp16", "--", "--targets", "t.json", "--run-id", "r9", "--out", "o"], {"MLSERVE_KUBE_API": "http://127.0.0.1:1"})


@pytest.mark.parametrize("own, run_args, why", [
    (["--variants", "fp16"], None, "missing `--`"),
    (["--variants", "fp16,nope"], [], "not among the targets' variants"),
    (["--variants", "fp16,fp16"], [], "twice"),
    (["--variants", "fp16"], ["--select", "variant:eetq"], "leave --select out"),
    (["--variants", "fp16"], ["--profile", "soak"], "--profile"),
    (["--variants", "fp16,ghost"], [], "not found"),  # in the targets, but no Deployment: found before scaling anything
])
def test_bad_invocations_exit_2_before_anything_is_scaled(tmp_path, own, run_args, why):
    with FakeKube(DEPLOYMENTS) as fake:
        argv = own if run_args is None else [*own, "--", "--targets", targets(tmp_path, fake.url), "--run-id", "c1", "--out", str(tmp_path / "o"), *run_args]
        p = subprocess.run([sys.executable, CAMPAIGN, *argv], env=env_for(tmp_path, fake), capture_output=True, text=True, timeout=20)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert why in p.stdout + p.stderr
    assert fake.scales == []
