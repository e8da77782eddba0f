"""The load-test Job's entry point: runs locust, vegeta and ghz against the targets in
the stack's exported endpoints, keeps the raw results and a manifest of what ran, and
writes them to a results directory or to s3://<bucket>/benchmarks/<run id>/.

    python3 loadtest/run.py --targets endpoints.json --profile seed --run-id r1 --out /results

Every flag has an environment variable (MLSERVE_<FLAG>, e.g. MLSERVE_RUN_ID); a flag
wins over its variable. `python3 loadtest/run.py --help` lists them.
"""
from __future__ import annotations

import argparse
import base64
import concurrent.futures
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from textsql import load_rows, prompt_for, quality  # noqa: E402

PROTO = os.path.join(HERE, "protos", "grpc_predict_v2.proto")
PROFILES = ("seed", "rate", "sweep")
SENTENCES = ["the service was excellent", "the food was cold and the staff were rude", "an ordinary afternoon", "I would come back"]

# flag, env suffix, default, help
OPTIONS: list[tuple[str, str | None, str]] = [
    ("targets", None, "stack outputs JSON (`pulumi stack output --json`): a path, or the JSON itself"),
    ("profile", "seed", "seed (locust, 100 users, 10/s, 5 min), rate (open loop at --rate), sweep (open loop at each of --rates until saturation), or a comma list run in turn"),
    ("run-id", None, "names the run; results go to <out> or s3://<bucket>/benchmarks/<run id>/"),
    ("out", None, "results directory, or s3://bucket[/prefix] (default prefix benchmarks/<run id>/)"),
    ("select", "", "comma list of targets: variant:<name>, kserve:<model>, graph:<name>, modelApi, asyncGateway (default: running variants, every model, modelApi, asyncGateway)"),
    ("dataset", os.path.join(HERE, "data", "sample_text_to_sql.jsonl"), "text-to-SQL rows: .jsonl/.json/.parquet path, or hf:gretelai/synthetic_text_to_sql"),
    ("dataset-limit", "0", "use the first N rows (0: all)"),
    ("duration", "", "seconds (or 30s/5m) per run; default 300 for seed, 60 for rate and each sweep step"),
    ("users", "100", "locust users (seed)"),
    ("spawn-rate", "10", "locust users started per second (seed)"),
    ("rate", "10", "requests/s for open-loop runs (rate; and non-LLM targets in seed)"),
    ("rates", "1,2,5,10,20,50", "sweep steps, requests/s"),
    ("sweep-max-p99-ms", "30000", "a sweep stops after the first step whose p99 exceeds this"),
    ("sweep-min-success", "0.99", "... or whose success ratio is below this"),
    ("max-new-tokens", "128", "max_new_tokens / max_tokens of LLM requests"),
    ("timeout", "120", "seconds per request"),
    ("warmup", "10", "requests sent to each target (5 at a time) before it is measured; not recorded"),
    ("async-variant", "", "variant async jobs target (default: the first selected variant)"),
    ("poll-interval-ms", "200", "async: status poll interval"),
    ("locust-processes", "0", "locust --processes N (forked workers, one pod)"),
    ("locust-expect-workers", "0", "run locust as --master and wait for N worker pods (`run.py worker`)"),
    ("prometheus", "", "Prometheus URL for GPU figures (default: endpoints.prometheus of the targets)"),
    ("gpu-instance-type", "g5.4xlarge", "node type the variants run on (price, bandwidth in the report)"),
]


def env_name(flag: str) -> str:
    return "MLSERVE_" + flag.upper().replace("-", "_")


def parse_args(argv: list[str], env: dict[str, str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="run.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for flag, default, help_ in OPTIONS:
        p.add_argument(f"--{flag}", default=None, help=f"{help_} [{env_name(flag)}]" + (f" (default {default})" if default else ""))
    a = p.parse_args(argv)
    for flag, default, _ in OPTIONS:
        key = flag.replace("-", "_")
        if getattr(a, key) is None:
            setattr(a, key, env.get(env_name(flag), default))
    missing = [f"--{f} ({env_name(f)})" for f in ("targets", "run-id", "out") if not getattr(a, f.replace("-", "_"))]
    if missing:
        p.error("missing " + ", ".join(missing))
    a.profiles = [x.strip() for x in a.profile.split(",") if x.strip()]
    if not a.profiles or any(x not in PROFILES for x in a.profiles):
        p.error(f"--profile must be one or more of {', '.join(PROFILES)} (comma-separated), not {a.profile!r}")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}", a.run_id):
        p.error("--run-id: letters, digits, '.', '_' and '-' only (it becomes an S3 prefix)")
    try:
        a.duration_s = parse_duration(a.duration) if a.duration else (300 if a.profiles == ["seed"] else 60)
        a.rates_list = [float(r) for r in str(a.rates).split(",") if r.strip()]
        for k in ("users", "spawn_rate", "rate", "sweep_max_p99_ms", "sweep_min_success", "max_new_tokens", "timeout", "poll_interval_ms",
                  "locust_processes", "locust_expect_workers", "dataset_limit", "warmup"):
            setattr(a, k, float(getattr(a, k)))
    except ValueError as e:
        p.error(str(e))
    return a


def parse_duration(s: str) -> int:
    m = re.fullmatch(r"(\d+)(s|m|h)?", s.strip())
    if not m:
        raise ValueError(f"duration {s!r}: use seconds, or 30s / 5m / 1h")
    return int(m.group(1)) * {"s": 1, None: 1, "m": 60, "h": 3600}[m.group(2)]


@dataclass
class Target:
    key: str  # variant:fp16, kserve:sst2, modelApi, asyncGateway
    kind: str  # llm, rest-v1, rest-v2, grpc-v2, async
    url: str
    info: dict[str, Any] = field(default_factory=dict)


def load_targets(spec: str) -> dict[str, Any]:
    text = spec if spec.lstrip().startswith("{") else open(spec, encoding="utf-8").read()
    return json.loads(text)


def resolve_targets(outputs: dict[str, Any], select: str) -> list[Target]:
    """The stack outputs' endpoints as load-test targets, in a stable order."""
    all_: dict[str, Target] = {}
    for name, v in sorted((outputs.get("variants") or {}).items()):
        all_[f"variant:{name}"] = Target(f"variant:{name}", "llm", v["baseUrl"], {"variant": name, **v})
    kserve = outputs.get("kserve") or {}
    for group, prefix in (("models", "kserve"), ("graphs", "graph")):
        for name, m in sorted((kserve.get(group) or {}).items()):
            proto = m["protocol"]
            if proto == "grpc-v2":
                all_[f"{prefix}:{name}"] = Target(f"{prefix}:{name}", "grpc-v2", m["inCluster"], {"model": m["grpc"]["modelName"], **m})
            else:
                all_[f"{prefix}:{name}"] = Target(f"{prefix}:{name}", f"rest-{proto}", m["inCluster"].rstrip("/") + m.get("path", "/"), {"model": name, **m})
    endpoints = outputs.get("endpoints") or {}
    if endpoints.get("modelApi"):
        all_["modelApi"] = Target("modelApi", "rest-v1", endpoints["modelApi"], {"model": "modelApi"})
    if endpoints.get("asyncGateway"):
        all_["asyncGateway"] = Target("asyncGateway", "async", endpoints["asyncGateway"].rstrip("/"))
    if select:
        keys = [k.strip() for k in select.split(",") if k.strip()]
        unknown = [k for k in keys if k not in all_]
        if unknown:
            raise SystemExit(f"unknown targets {unknown}; known: {sorted(all_)}")
        return [all_[k] for k in keys]
    return [t for t in all_.values() if t.kind != "llm" or t.info.get("replicas", 0) > 0]


def tool_versions() -> dict[str, str]:
    def out(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"unavailable: {e}"

    def go_module(binary: str, module: str) -> str:
        # `go install` builds print no version; their module versions are embedded in the
        # binary as plain text (Go build info), so no Go toolchain is needed to read them.
        path = shutil.which(binary)
        if not path:
            return "not installed"
        with open(path, "rb") as f:
            m = re.search(rb"mod\t" + re.escape(module.encode()) + rb"\t(v[^\t\n]+)", f.read())
        return m.group(1).decode() if m else "unknown"

    locust = re.search(r"locust (\S+)", out([sys.executable, "-m", "locust", "--version"]))
    return {
        "python": platform.python_version(),
        "locust": locust.group(1) if locust else "not installed",
        "vegeta": go_module("vegeta", "github.com/tsenart/vegeta/v12"),
        "ghz": go_module("ghz", "github.com/bojand/ghz"),
    }


def locust_env(a: argparse.Namespace, t: Target, samples: str) -> dict[str, str]:
    """What the locustfile reads (master and workers alike)."""
    return {"MLSERVE_ENGINE": t.info.get("engine", "tgi"), "MLSERVE_TARGET": t.key, "MLSERVE_MODEL": t.info.get("model", ""),
            "MLSERVE_DATASET": a.dataset, "MLSERVE_DATASET_LIMIT": str(int(a.dataset_limit)),
            "MLSERVE_SAMPLES": samples, "MLSERVE_MAX_NEW_TOKENS": str(int(a.max_new_tokens))}


class Runner:
    def __init__(self, a: argparse.Namespace, outputs: dict[str, Any], targets: list[Target], workdir: str):
        self.a = a
        self.outputs = outputs
        self.targets = targets
        self.workdir = workdir
        self.runs: list[dict[str, Any]] = []
        self.profile = a.profiles[0]
        self.warmed: set[str] = set()
        self.rows = load_rows(a.dataset, limit=int(a.dataset_limit) or None)
        self.prometheus = a.prometheus or (outputs.get("endpoints") or {}).get("prometheus", "")

    # --- helpers -------------------------------------------------------------------
    def new_dir(self, tool: str, target: Target, step: str = "") -> str:
        name = f"{len(self.runs) + 1:02d}-{tool}-{re.sub(r'[^A-Za-z0-9._-]', '_', target.key)}{'-' + step if step else ''}"
        d = os.path.join(self.workdir, "runs", name)
        os.makedirs(d, exist_ok=True)
        return d

    def log(self, **kw: Any) -> None:
        print(json.dumps({"mlserve": "loadtest", **kw}), flush=True)

    def exec(self, cmd: list[str], cwd: str, env: dict[str, str] | None = None, stdout: str | None = None) -> int:
        with open(os.path.join(cwd, "tool.log"), "a", encoding="utf-8") as log:
            log.write("$ " + " ".join(cmd) + "\n")
            log.flush()
            out = open(stdout, "wb") if stdout else log
            try:
                # Bounded: every tool gets its run time plus a grace period.
                return subprocess.run(cmd, cwd=cwd, env=env, stdout=out, stderr=log, timeout=self.a.duration_s * 3 + self.a.timeout + 120).returncode
            finally:
                if stdout:
                    out.close()

    def scrape(self, target: Target, d: str, when: str) -> None:
        url = target.info.get("metricsUrl") or (target.url.split("/v1/")[0].split("/v2/")[0] + "/metrics" if target.kind.startswith("rest") else "")
        if not url:
            return
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                open(os.path.join(d, f"metrics-{when}.prom"), "wb").write(r.read())
        except OSError as e:
            open(os.path.join(d, f"metrics-{when}.error"), "w").write(str(e))

    def gpu_figures(self, d: str, start: float, end: float) -> None:
        """GPU utilisation (mean) and framebuffer memory (max) over the run, from the DCGM exporter via Prometheus."""
        if not self.prometheus:
            return
        window = max(1, int(end - start))
        queries = {
            "gpuUtilPercent": f"avg(avg_over_time(DCGM_FI_DEV_GPU_UTIL[{window}s]))",
            "gpuMemoryUsedMiB": f"max(max_over_time(DCGM_FI_DEV_FB_USED[{window}s]))",
        }
        out: dict[str, Any] = {"prometheus": self.prometheus, "start": start, "end": end}
        for k, q in queries.items():
            try:
                u = f"{self.prometheus.rstrip('/')}/api/v1/query?" + urllib.parse.urlencode({"query": q, "time": f"{end:.3f}"})
                with urllib.request.urlopen(u, timeout=10) as r:
                    res = json.load(r)["data"]["result"]
                out[k] = float(res[0]["value"][1]) if res else None
            except (OSError, KeyError, ValueError, IndexError) as e:
                out[k] = None
                out.setdefault("errors", {})[k] = str(e)
        json.dump(out, open(os.path.join(d, "prometheus.json"), "w"), indent=2)

    def record(self, d: str, tool: str, target: Target, started: float, ended: float, code: int, **params: Any) -> dict[str, Any]:
        info = {k: target.info.get(k) for k in ("engine", "model", "quantize", "replicas", "protocol") if target.info.get(k) is not None}
        run = {"dir": os.path.relpath(d, self.workdir), "profile": self.profile, "tool": tool, "target": target.key, "kind": target.kind, "url": target.url, **info,
               "startedAt": started, "endedAt": ended, "exitCode": code, **params}
        self.gpu_figures(d, started, ended)
        self.runs.append(run)
        self.log(event="run", **{k: run[k] for k in ("dir", "tool", "target", "exitCode")})
        return run

    # --- tools ---------------------------------------------------------------------
    def locust(self, t: Target) -> None:
        d = self.new_dir("locust", t)
        engine = t.info.get("engine", "tgi")
        users = ["StreamingUser", "GenerateUser"] if engine == "tgi" else ["StreamingUser"]
        env = {**os.environ, **locust_env(self.a, t, os.path.join(d, "samples.jsonl"))}
        cmd = [sys.executable, "-m", "locust", "-f", os.path.join(HERE, "locustfile.py"), "--headless", "--only-summary",
               "-u", str(int(self.a.users)), "-r", str(self.a.spawn_rate), "-t", f"{self.a.duration_s}s", "--stop-timeout", str(int(self.a.timeout)),
               "--host", t.url, "--csv", os.path.join(d, "locust"), "--json-file", os.path.join(d, "locust"), *users]
        if self.a.locust_processes:
            cmd[5:5] = ["--processes", str(int(self.a.locust_processes))]
        if self.a.locust_expect_workers:
            cmd[5:5] = ["--master", "--expect-workers", str(int(self.a.locust_expect_workers)), "--expect-workers-max-wait", "600"]
        started = time.time()
        code = self.exec(cmd, d, env)
        ended = time.time()
        samples_path = os.path.join(d, "samples.jsonl")
        if os.path.exists(samples_path):
            with open(samples_path, encoding="utf-8") as f:
                samples = [json.loads(line) for line in f if line.strip()]
            json.dump(quality(samples, self.rows), open(os.path.join(d, "quality.json"), "w"), indent=2)
        self.record(d, "locust", t, started, ended, code, users=int(self.a.users), spawnRate=self.a.spawn_rate, durationS=self.a.duration_s, userClasses=users)

    def vegeta_targets(self, t: Target) -> list[dict[str, Any]]:
        hdr = {"Content-Type": ["application/json"]}
        if t.info.get("hostHeader"):
            hdr["Host"] = [t.info["hostHeader"]]

        def target(url: str, body: Any) -> dict[str, Any]:
            return {"method": "POST", "url": url, "header": hdr, "body": base64.b64encode(json.dumps(body).encode()).decode()}

        n = int(self.a.max_new_tokens)
        if t.kind == "llm":
            if t.info.get("engine", "tgi") == "tgi":
                return [target(t.url.rstrip("/") + "/generate", {"inputs": prompt_for(r), "parameters": {"max_new_tokens": n}}) for r in self.rows]
            return [target(t.url.rstrip("/") + "/v1/completions", {"model": t.info.get("model", ""), "prompt": prompt_for(r), "max_tokens": n}) for r in self.rows]
        if t.kind == "async":
            variant = self.a.async_variant or next((x.info["variant"] for x in self.targets if x.kind == "llm"), None) or next(iter(self.outputs.get("variants") or {}), "")
            return [target(t.url + "/v1/jobs", {"variant": variant, "request": {"inputs": prompt_for(r), "parameters": {"max_new_tokens": n}}}) for r in self.rows]
        if t.kind == "rest-v1":
            return [target(t.url, {"instances": [s]}) for s in SENTENCES]
        return [target(t.url, {"inputs": [{"name": "input-0", "shape": [1], "datatype": "BYTES", "data": [s]}]}) for s in SENTENCES]

    def vegeta(self, t: Target, rate: float, step: str = "") -> dict[str, Any]:
        d = self.new_dir("vegeta", t, step)
        with open(os.path.join(d, "targets.jsonl"), "w", encoding="utf-8") as f:
            for x in self.vegeta_targets(t):
                f.write(json.dumps(x) + "\n")
        # Open loop: no -max-workers (a bound silently turns it into a closed loop).
        attack = ["vegeta", "attack", "-format=json", "-targets=targets.jsonl", f"-rate={rate:g}/s", f"-duration={self.a.duration_s}s",
                  f"-timeout={int(self.a.timeout)}s", "-output=results.bin"]
        self.scrape(t, d, "before")
        started = time.time()
        if t.kind == "async":
            # Submit and poll at once: a job polled only after the attack would look slower than it was.
            code = AsyncPoller(d, self.a.poll_interval_ms / 1000, self.a.timeout).attack_and_poll(attack[:-1], self.a.duration_s * 3 + self.a.timeout + 120)
        else:
            code = self.exec(attack, d)
            self.exec(["vegeta", "encode", "--to", "json", "-output", "results.jsonl", "results.bin"], d)
            os.remove(os.path.join(d, "results.bin"))
        ended = time.time()
        self.scrape(t, d, "after")
        self.exec(["vegeta", "report", "-type=json", "-output", "report.json", "results.jsonl"], d)
        report = json.load(open(os.path.join(d, "report.json")))
        success, p99 = report.get("success"), report.get("latencies", {}).get("99th", 0) / 1e6
        if t.kind == "async":
            # What a client of the async path waits for is completion, not the submit's answer.
            success, p99 = async_completion(d, report.get("requests", 0))
        return self.record(d, "vegeta", t, started, ended, code, rate=rate, durationS=self.a.duration_s, step=step or None, success=success, p99Ms=p99)

    def ghz(self, t: Target, rate: float, step: str = "") -> dict[str, Any]:
        d = self.new_dir("ghz", t, step)
        n = max(1, int(round(rate * self.a.duration_s)))
        data = {"model_name": t.info["model"], "inputs": [{"name": "input-0", "datatype": "BYTES", "shape": [1],
                                                         "contents": {"bytes_contents": [base64.b64encode(SENTENCES[0].encode()).decode()]}}]}
        # Open loop (--async --rps), bounded by -n: with -z, calls in flight at the end count as errors.
        cmd = ["ghz", "--insecure", "--proto", PROTO, "--call", "inference.GRPCInferenceService.ModelInfer", "-d", json.dumps(data),
               "--async", "--rps", f"{rate:g}", "-n", str(n), "-c", "50", "--timeout", f"{int(self.a.timeout)}s", "-O", "json", "-o", "ghz.json", t.url]
        if t.info.get("hostHeader"):
            cmd[1:1] = ["--authority", t.info["hostHeader"]]
        started = time.time()
        self.scrape(t, d, "before")
        code = self.exec(cmd, d)
        self.scrape(t, d, "after")
        ended = time.time()
        res = json.load(open(os.path.join(d, "ghz.json"))) if os.path.exists(os.path.join(d, "ghz.json")) else {}
        ok = (res.get("statusCodeDistribution") or {}).get("OK", 0)
        p99 = next((x["latency"] for x in res.get("latencyDistribution") or [] if x.get("percentage") == 99), 0)
        return self.record(d, "ghz", t, started, ended, code, rate=rate, count=n, durationS=n / rate, step=step or None, success=ok / n, p99Ms=p99 / 1e6)

    def open_loop(self, t: Target, rate: float, step: str = "") -> dict[str, Any]:
        return self.ghz(t, rate, step) if t.kind == "grpc-v2" else self.vegeta(t, rate, step)

    def warm_up(self, t: Target) -> None:
        """A few unrecorded requests first: connections, caches and a cold server's first calls
        (JIT, CUDA graphs, lazy loading) would otherwise land in the measured numbers."""
        n = int(self.a.warmup)
        if n <= 0 or t.key in self.warmed:
            return
        self.warmed.add(t.key)
        started = time.time()
        if t.kind == "grpc-v2":
            d = tempfile.mkdtemp(prefix="warmup-")
            data = {"model_name": t.info["model"], "inputs": [{"name": "input-0", "datatype": "BYTES", "shape": [1], "contents": {"bytes_contents": [base64.b64encode(SENTENCES[0].encode()).decode()]}}]}
            self.exec(["ghz", "--insecure", "--proto", PROTO, "--call", "inference.GRPCInferenceService.ModelInfer", "-d", json.dumps(data), "-n", str(n), "-c", "5", t.url], d)
            shutil.rmtree(d, ignore_errors=True)
        else:
            targets = self.vegeta_targets(t)

            def one(i: int) -> None:
                x = targets[i % len(targets)]
                req = urllib.request.Request(x["url"], data=base64.b64decode(x["body"]), method="POST", headers={k: v[0] for k, v in x["header"].items()})
                try:
                    with urllib.request.urlopen(req, timeout=self.a.timeout) as r:
                        body = json.load(r)
                    if t.kind == "async":
                        AsyncPoller("", self.a.poll_interval_ms / 1000, self.a.timeout).poll_one(t.url, 0, body["statusUrl"], body["jobId"], 0)
                except (OSError, ValueError, KeyError):
                    pass  # a warm-up failure shows again, and is counted, in the measured run

            with concurrent.futures.ThreadPoolExecutor(max_workers=5) as ex:
                list(ex.map(one, range(n)))
        self.log(event="warmup", target=t.key, requests=n, seconds=round(time.time() - started, 2))

    # --- profiles ------------------------------------------------------------------
    def run(self) -> None:
        for profile in self.a.profiles:
            self.run_profile(profile)

    def run_profile(self, profile: str) -> None:
        self.profile = profile
        for t in self.targets:
            self.warm_up(t)
            if profile == "seed":
                if t.kind == "llm":
                    self.locust(t)
                else:
                    self.open_loop(t, self.a.rate)
            elif profile == "rate":
                self.open_loop(t, self.a.rate)
            else:
                for i, rate in enumerate(self.a.rates_list):
                    run = self.open_loop(t, rate, f"step{i + 1:02d}")
                    run["sweep"] = True
                    saturated = (run.get("success") or 0) < self.a.sweep_min_success or (run.get("p99Ms") or 0) > self.a.sweep_max_p99_ms
                    if saturated:
                        run["saturated"] = True
                        self.log(event="saturated", target=t.key, rate=rate)
                        break


class AsyncPoller:
    """After an open-loop submit, polls each accepted job to completion; the completion
    time is when a poll first saw it finished (resolution: the poll interval)."""

    def __init__(self, d: str, interval_s: float, timeout_s: float):
        self.d = d
        self.interval = interval_s
        self.timeout = timeout_s
        self.lock = threading.Lock()

    def poll_one(self, base: str, submitted: float, status_url: str, job_id: str, seen: float) -> dict[str, Any]:
        deadline = time.time() + self.timeout
        polls = 0
        while time.time() < deadline:
            polls += 1
            try:
                with urllib.request.urlopen(base + status_url, timeout=10) as r:
                    body = json.load(r)
                if body.get("status") in ("done", "failed"):
                    return {"jobId": job_id, "submitted": submitted, "finished": time.time(), "status": body["status"], "polls": polls, "pollStartLagS": seen - submitted}
            except (OSError, ValueError):
                pass
            time.sleep(self.interval)
        return {"jobId": job_id, "submitted": submitted, "finished": None, "status": "timeout", "polls": polls, "pollStartLagS": seen - submitted}

    def attack_and_poll(self, attack: list[str], limit_s: float) -> int:
        """`vegeta attack | vegeta encode --to json`, read line by line: each accepted job is
        polled from the moment its submit result arrives."""
        log = open(os.path.join(self.d, "tool.log"), "a", encoding="utf-8")
        log.write("$ " + " ".join(attack) + " | vegeta encode --to json\n")
        log.flush()
        atk = subprocess.Popen(attack, cwd=self.d, stdout=subprocess.PIPE, stderr=log)
        enc = subprocess.Popen(["vegeta", "encode", "--to", "json"], cwd=self.d, stdin=atk.stdout, stdout=subprocess.PIPE, stderr=log)
        atk.stdout.close()  # type: ignore[union-attr]
        timer = threading.Timer(limit_s, lambda: (atk.kill(), enc.kill()))
        timer.start()
        futures = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=64) as ex, open(os.path.join(self.d, "results.jsonl"), "w", encoding="utf-8") as out:
            for line in enc.stdout:  # type: ignore[union-attr]
                out.write(line.decode())
                r = json.loads(line)
                if r.get("code") not in (200, 202):
                    continue
                body = json.loads(base64.b64decode(r.get("body") or "") or b"{}")
                # Submitted = when the gateway answered (vegeta's timestamp is when the request started).
                submitted = _rfc3339(r["timestamp"]) + r["latency"] / 1e9
                base = urllib.parse.urlsplit(r.get("url") or "")
                futures.append(ex.submit(self.poll_one, f"{base.scheme}://{base.netloc}", submitted, body["statusUrl"], body["jobId"], time.time()))
            results = [f.result() for f in futures]
        timer.cancel()
        code = atk.wait() or enc.wait()
        log.close()
        with open(os.path.join(self.d, "jobs.jsonl"), "w", encoding="utf-8") as f:
            for o in results:
                f.write(json.dumps(o) + "\n")
        return code


def async_completion(d: str, requests: int) -> tuple[float, float]:
    """Share of submitted jobs done, and the nearest-rank p99 (ms) from submit start to completion."""
    with open(os.path.join(d, "jobs.jsonl"), encoding="utf-8") as f:
        jobs = {j["jobId"]: j for j in map(json.loads, f) if j["status"] == "done"}
    times = []
    with open(os.path.join(d, "results.jsonl"), encoding="utf-8") as f:
        for r in map(json.loads, f):
            try:
                job = jobs.get(json.loads(base64.b64decode(r.get("body") or ""))["jobId"])
            except (ValueError, KeyError):
                continue
            if job:
                times.append((job["finished"] - _rfc3339(r["timestamp"])) * 1000)
    times.sort()
    p99 = times[max(0, -(-99 * len(times) // 100) - 1)] if times else float("inf")
    return (len(times) / requests if requests else 0.0), p99


def _rfc3339(ts: str) -> float:
    from datetime import datetime

    m = re.match(r"(.*?\.\d{1,6})\d*(.*)$", ts)
    s = (m.group(1) + m.group(2)) if m else ts
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def s3_prefix(out: str, run_id: str) -> tuple[str, str]:
    u = urllib.parse.urlsplit(out)
    return u.netloc, u.path.strip("/") or f"benchmarks/{run_id}"


def refuse_existing_s3(out: str, run_id: str) -> None:
    import boto3

    bucket, prefix = s3_prefix(out, run_id)
    if boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix + "/", MaxKeys=1).get("KeyCount", 0):
        raise SystemExit(f"s3://{bucket}/{prefix}/ already holds a run: use a new run id")


def upload(workdir: str, out: str, run_id: str) -> str:
    import boto3  # in the load-test image and the project venv (with moto)

    bucket, prefix = s3_prefix(out, run_id)
    s3 = boto3.client("s3")
    for root, _dirs, files in os.walk(workdir):
        for name in files:
            p = os.path.join(root, name)
            s3.upload_file(p, bucket, f"{prefix}/{os.path.relpath(p, workdir)}")
    return f"s3://{bucket}/{prefix}/"


def main(argv: list[str] | None = None, env: dict[str, str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    env = dict(os.environ) if env is None else env
    if argv[:1] == ["worker"]:
        # A locust worker pod: the same targets and selection as the master (they set the
        # locustfile's environment), plus --master-host; locust's own flags may follow "--".
        w = argparse.ArgumentParser(prog="run.py worker")
        w.add_argument("--master-host", required=True)
        known, rest = w.parse_known_args(argv[1:])
        extra = rest[rest.index("--") + 1:] if "--" in rest else []
        rest = rest[:rest.index("--")] if "--" in rest else rest
        a = parse_args(["--run-id", "worker", "--out", tempfile.gettempdir(), *rest], env)
        llm = [t for t in resolve_targets(load_targets(a.targets), a.select) if t.kind == "llm"]
        if len(llm) != 1:
            raise SystemExit("run.py worker: --select exactly one variant (the one the master measures)")
        t = llm[0]
        wenv = {**env, **locust_env(a, t, os.path.join(tempfile.gettempdir(), "samples-unused.jsonl"))}
        return subprocess.call([sys.executable, "-m", "locust", "-f", os.path.join(HERE, "locustfile.py"), "--worker", "--master-host", known.master_host, *extra], env=wenv)
    a = parse_args(argv, env)
    outputs = load_targets(a.targets)
    targets = resolve_targets(outputs, a.select)
    s3 = a.out.startswith("s3://")
    # Absolute: the tools run with their run directory as the working directory.
    workdir = tempfile.mkdtemp(prefix=f"mlserve-{a.run_id}-") if s3 else os.path.abspath(a.out)
    os.makedirs(workdir, exist_ok=True)
    if os.path.exists(os.path.join(workdir, "manifest.json")):
        raise SystemExit(f"{workdir} already holds a run (manifest.json): use a new directory or run id")
    if s3:
        refuse_existing_s3(a.out, a.run_id)
    runner = Runner(a, outputs, targets, workdir)
    manifest: dict[str, Any] = {
        "schema": 1, "runId": a.run_id, "profile": a.profile, "startedAt": time.time(), "host": platform.node(),
        "tools": tool_versions(), "gpuInstanceType": a.gpu_instance_type,
        "params": {k: getattr(a, k) for k in ("duration_s", "users", "spawn_rate", "rate", "rates_list", "max_new_tokens", "timeout",
                                               "sweep_max_p99_ms", "sweep_min_success", "locust_processes", "locust_expect_workers")},
        "dataset": {"source": a.dataset, "rows": len(runner.rows)},
        "targets": [{"key": t.key, "kind": t.kind, "url": t.url, **{k: v for k, v in t.info.items() if k != "routes"}} for t in targets],
    }
    runner.log(event="start", runId=a.run_id, profile=a.profile, targets=[t.key for t in targets])
    try:
        runner.run()
    finally:
        manifest["finishedAt"] = time.time()
        manifest["runs"] = runner.runs
        json.dump(manifest, open(os.path.join(workdir, "manifest.json"), "w"), indent=2)
    where = upload(workdir, a.out, a.run_id) if s3 else workdir
    runner.log(event="done", runId=a.run_id, results=where, runs=len(runner.runs), failed=sum(1 for r in runner.runs if r["exitCode"] != 0))
    return 0 if all(r["exitCode"] == 0 for r in runner.runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
