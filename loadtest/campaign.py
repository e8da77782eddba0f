"""A benchmark campaign: the LLM variants one at a time on one GPU node. For each variant in
order: scale Deployment llm-<variant> to 1, wait until it is Ready, run run.py on it alone
(warm-up and measurement; run id <run id>-<variant>), and scale it back to 0, whatever happened.

    python3 /app/loadtest/campaign.py --namespace llm --variants fp16,eetq --ready-timeout 1800 \\
        -- --targets /config/outputs.json --profile seed --run-id 2026-12-01-a --out s3://<bucket>

Everything after `--` goes to run.py (its flags, or their MLSERVE_* variables), plus
`--select variant:<variant>`, `--run-id <run id>-<variant>` and `--out <out>/<variant>` (run.py
never overwrites a run, so each variant is its own run, in its own directory or S3 prefix; a bare
s3://bucket stands for s3://bucket/benchmarks/<run id>, as in run.py).

Kubernetes: in-cluster only (the service account's token and CA, the API at
https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT), through the standard library. It
needs get/list on deployments and get/patch on deployments/scale in the namespace. Every LLM
variant (label mlserve.io/variant) already running when the campaign starts is scaled to 0 first,
and nothing is restored at the end: parked is the safe state. SIGTERM scales the current variant
back to 0 and exits 143.

Exit code: 0 when every variant became Ready and its run exited 0; 1 otherwise; 2 for a bad
invocation (no `--`, an unknown variant, bad run.py flags), before anything is scaled.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402  (run.py's own flag parsing and target loading: one contract, one parser)

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
VARIANT_LABEL = "mlserve.io/variant"  # components/workloads/llm/spec.ts
VARIANT_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
SCALE_ATTEMPTS = 5


def log(**kw: Any) -> None:
    print(json.dumps({"mlserve": "campaign", "at": round(time.time(), 3), **kw}), flush=True)


class Terminated(Exception):
    """SIGTERM (the Job deleted, the pod evicted): unwinds to the current variant's scale-back."""


class KubeError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}" if status else message)
        self.status = status


class Kube:
    """The few Kubernetes API calls the campaign makes, over urllib with the pod's credentials."""

    def __init__(self, base: str, token_file: str, ca_file: str, timeout: float = 10):
        self.base = base.rstrip("/")
        self.token_file = token_file
        self.timeout = timeout
        self.ctx = None
        if self.base.startswith("https://"):
            self.ctx = ssl.create_default_context(cafile=ca_file if ca_file and os.path.exists(ca_file) else None)

    def call(self, method: str, path: str, body: Any = None, content_type: str = "application/json", query: dict[str, str] | None = None) -> Any:
        url = self.base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        headers = {"Accept": "application/json"}
        # Read each time: projected service-account tokens are rotated in place (about hourly).
        if self.token_file and os.path.exists(self.token_file):
            with open(self.token_file, encoding="utf-8") as f:
                headers["Authorization"] = "Bearer " + f.read().strip()
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self.ctx) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            text = e.read().decode(errors="replace")
            try:
                text = json.loads(text).get("message", text)
            except ValueError:
                pass
            raise KubeError(e.code, text) from None
        except (OSError, ValueError) as e:  # connection refused/reset, timeout, TLS, bad JSON
            raise KubeError(0, str(e)) from None

    def deployment(self, ns: str, name: str) -> dict[str, Any]:
        return self.call("GET", f"/apis/apps/v1/namespaces/{ns}/deployments/{name}")

    def variants(self, ns: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/apis/apps/v1/namespaces/{ns}/deployments", query={"labelSelector": VARIANT_LABEL}).get("items") or []

    def scale(self, ns: str, name: str, replicas: int) -> None:
        self.call("PATCH", f"/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale", {"spec": {"replicas": replicas}}, "application/merge-patch+json")


def ready(d: dict[str, Any]) -> bool:
    st, meta = d.get("status") or {}, d.get("metadata") or {}
    return (st.get("readyReplicas") or 0) >= 1 and (st.get("observedGeneration") or 0) >= (meta.get("generation") or 0)


def default_api(env: dict[str, str]) -> str:
    host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT")
    if not host or not port:
        return ""
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"


def parse(argv: list[str], env: dict[str, str]) -> tuple[argparse.Namespace, list[str], argparse.Namespace]:
    """(campaign options, run.py arguments, run.py's parse of them); SystemExit(2) on a bad invocation."""
    p = argparse.ArgumentParser(prog="campaign.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                usage="campaign.py --variants a,b [options] -- <run.py arguments>")
    p.add_argument("--namespace", default="llm", help="namespace of the llm-<variant> Deployments (default llm)")
    p.add_argument("--variants", required=True, help="comma list, run in this order: fp16,eetq,...")
    p.add_argument("--ready-timeout", type=float, default=1800, help="seconds to wait for a variant to be Ready (node join, image pull, model load); then it fails and the next runs (default 1800)")
    p.add_argument("--poll-interval", type=float, default=5, help="seconds between readiness polls (default 5)")
    p.add_argument("--api-server", default=env.get("MLSERVE_KUBE_API") or default_api(env),
                   help="Kubernetes API base URL [MLSERVE_KUBE_API] (default https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT)")
    p.add_argument("--token-file", default=env.get("MLSERVE_KUBE_TOKEN_FILE", f"{SA_DIR}/token"),
                   help="bearer token file, re-read for every call; none sent if it does not exist [MLSERVE_KUBE_TOKEN_FILE]")
    p.add_argument("--ca-file", default=env.get("MLSERVE_KUBE_CA_FILE", f"{SA_DIR}/ca.crt"), help="CA bundle for an https API server [MLSERVE_KUBE_CA_FILE]")
    p.add_argument("--runner", default=env.get("MLSERVE_CAMPAIGN_RUNNER", ""),
                   help="command run per variant instead of `python3 run.py` (shell words; the run.py arguments follow) [MLSERVE_CAMPAIGN_RUNNER]; for tests")
    i = argv.index("--") if "--" in argv else len(argv)
    c = p.parse_args(argv[:i])
    if i == len(argv):
        p.error("missing `--` before the run.py arguments")
    rest = argv[i + 1:]
    c.variant_list = [v.strip() for v in c.variants.split(",") if v.strip()]
    bad = [v for v in c.variant_list if not VARIANT_RE.fullmatch(v)]
    if not c.variant_list or bad:
        p.error(f"--variants: a comma list of variant names (lower-case letters, digits, '-'), not {c.variants!r}")
    if len(set(c.variant_list)) != len(c.variant_list):
        p.error(f"--variants: {c.variants!r} names a variant twice")
    if c.ready_timeout <= 0 or c.poll_interval <= 0:
        p.error("--ready-timeout and --poll-interval must be > 0")
    if not c.api_server:
        p.error("no Kubernetes API: not in a cluster (KUBERNETES_SERVICE_HOST unset); give --api-server or MLSERVE_KUBE_API")
    a = run.parse_args(rest, env)  # run.py's own checks (exits 2, with run.py's usage)
    if any(len(t.split("=")[0]) >= 4 and "--select".startswith(t.split("=")[0]) for t in rest):  # argparse takes abbreviations
        p.error("leave --select out of the run.py arguments: the campaign selects one variant per run")
    try:
        outputs = run.load_targets(a.targets)
    except (OSError, ValueError) as e:
        p.error(f"--targets {a.targets!r}: {e}")
    known = sorted((outputs.get("variants") or {}).keys())
    unknown = [v for v in c.variant_list if v not in known]
    if unknown:
        p.error(f"--variants: {unknown} not among the targets' variants {known}")
    for v in c.variant_list:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}", f"{a.run_id}-{v}"):
            p.error(f"run id {a.run_id}-{v}: too long for run.py (63 characters at most)")
        out = variant_out(a.out, a.run_id, v)
        if not out.startswith("s3://") and os.path.exists(os.path.join(out, "manifest.json")):
            p.error(f"{out} already holds a run: use a new run id")
    return c, rest, a


def variant_out(out: str, campaign_run_id: str, variant: str) -> str:
    """--out for one variant's run: <out>/<variant> (a bare s3://bucket: benchmarks/<campaign run id>/<variant>)."""
    if out.startswith("s3://"):
        bucket, prefix = run.s3_prefix(out, campaign_run_id)
        return f"s3://{bucket}/{prefix}/{variant}"
    return os.path.join(out, variant)


def results_at(out: str) -> str:
    """Where run.py puts a run given this --out (with a prefix: the prefix itself)."""
    return out.rstrip("/") + "/" if out.startswith("s3://") else os.path.abspath(out)


def strip_flags(args: list[str], flags: tuple[str, ...]) -> list[str]:
    """args without `--flag value` / `--flag=value` for the given flags (the campaign sets them)."""
    out, i = [], 0
    while i < len(args):
        t = args[i]
        if t in flags:
            i += 2
            continue
        if t.split("=", 1)[0] in flags and "=" in t:
            i += 1
            continue
        out.append(t)
        i += 1
    return out


class Campaign:
    def __init__(self, c: argparse.Namespace, rest: list[str], a: argparse.Namespace, kube: Kube):
        self.c, self.rest, self.a, self.kube = c, rest, a, kube
        self.ns = c.namespace
        self.current: str | None = None  # the Deployment the campaign may have scaled up
        self.child: subprocess.Popen[bytes] | None = None
        self.results: dict[str, dict[str, Any]] = {}
        self.runner = shlex.split(c.runner) if c.runner else [sys.executable, os.path.join(HERE, "run.py")]

    def scale(self, name: str, replicas: int, why: str) -> None:
        """Scale, retrying transient failures (API unavailable, 5xx, 429); raises KubeError."""
        for attempt in range(1, SCALE_ATTEMPTS + 1):
            try:
                self.kube.scale(self.ns, name, replicas)
                log(event="scale", deployment=name, replicas=replicas, reason=why)
                return
            except KubeError as e:
                transient = e.status in (0, 429) or e.status >= 500
                log(event="scale-error", deployment=name, replicas=replicas, reason=why, attempt=attempt, error=str(e))
                if not transient or attempt == SCALE_ATTEMPTS:
                    raise
                time.sleep(min(2 ** attempt, 10))

    def park_running(self) -> None:
        """Only one variant on the GPU: scale every running LLM variant to 0 before the first."""
        names = {d["metadata"]["name"]: d for d in self.kube.variants(self.ns)}
        for v in self.c.variant_list:  # also a listed Deployment that lost its label
            name = run_name(v)
            if name not in names:
                names[name] = self.kube.deployment(self.ns, name)
        for name, d in sorted(names.items()):
            if ((d.get("spec") or {}).get("replicas") or 0) > 0:
                self.scale(name, 0, "parked before the campaign")

    def wait_ready(self, name: str) -> bool:
        deadline = time.monotonic() + self.c.ready_timeout
        last_error = ""
        while True:
            try:
                d = self.kube.deployment(self.ns, name)
                if ready(d):
                    return True
                last_error = ""
            except KubeError as e:  # keep polling through API hiccups until the deadline
                if str(e) != last_error:
                    log(event="poll-error", deployment=name, error=str(e))
                last_error = str(e)
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(self.c.poll_interval, max(0.0, deadline - time.monotonic())) or 0.01)

    def run_variant(self, v: str) -> dict[str, Any]:
        name = run_name(v)
        run_id = f"{self.a.run_id}-{v}"
        out = variant_out(self.a.out, self.a.run_id, v)
        res: dict[str, Any] = {"variant": v, "deployment": name, "runId": run_id, "results": results_at(out), "status": "not-run", "exitCode": None}
        self.results[v] = res
        started = time.monotonic()
        self.current = name  # before the PATCH: a lost answer may still have scaled it
        try:
            self.scale(name, 1, "campaign")
            if not self.wait_ready(name):
                res["status"] = "not-ready"
                log(event="not-ready", deployment=name, variant=v, timeoutS=self.c.ready_timeout)
                return res
            log(event="ready", deployment=name, variant=v, seconds=round(time.monotonic() - started, 1))
            args = strip_flags(self.rest, ("--run-id", "--out", "--select"))
            cmd = [*self.runner, *args, "--run-id", run_id, "--out", out, "--select", f"variant:{v}"]
            log(event="run-start", variant=v, runId=run_id, out=out, cmd=cmd)
            t0 = time.monotonic()
            self.child = subprocess.Popen(cmd)
            code = self.child.wait()
            self.child = None
            res["exitCode"] = code
            res["status"] = "ok" if code == 0 else "run-failed"
            log(event="run-end", variant=v, runId=run_id, exitCode=code, seconds=round(time.monotonic() - t0, 1), results=res["results"])
            return res
        except KubeError as e:
            res["status"] = "error"
            res["error"] = str(e)
            log(event="error", deployment=name, variant=v, error=str(e))
            return res
        finally:
            if sys.exc_info()[0] is Terminated:
                res["status"] = "terminated"
            if self.child is not None:
                self.child.terminate()  # SIGTERM mid-run: stop the run, and free the GPU below
            try:
                self.scale(name, 0, "after the run" if res["status"] in ("ok", "run-failed") else res["status"])
                self.current = None
            finally:
                if self.child is not None:
                    try:
                        self.child.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        self.child.kill()
                        self.child.wait()
                    res["exitCode"] = self.child.returncode
                    self.child = None

    def run(self) -> int:
        log(event="start", namespace=self.ns, variants=self.c.variant_list, runId=self.a.run_id, out=self.a.out,
            readyTimeoutS=self.c.ready_timeout, api=self.kube.base)
        for v in self.c.variant_list:  # an unknown Deployment is a bad invocation: nothing scaled yet
            try:
                self.kube.deployment(self.ns, run_name(v))
            except KubeError as e:
                log(event="error", deployment=run_name(v), error=str(e))
                return 2 if e.status == 404 else 1
        try:
            self.park_running()
        except KubeError as e:
            log(event="error", stage="park", error=str(e))
            return 1
        aborted = False
        for v in self.c.variant_list:
            if aborted:
                self.results[v] = {"variant": v, "deployment": run_name(v), "status": "not-run", "exitCode": None}
                continue
            try:
                self.run_variant(v)
            except KubeError as e:
                # The scale-back failed after retries: scaling the next one up would put two on the GPU.
                self.results[v]["status"] = "scale-back-failed"
                log(event="abort", deployment=run_name(v), error=str(e))
                aborted = True
        ok = all(r["status"] == "ok" for r in self.results.values())
        # Where each variant's results went (npm run report -- <results>); none for a variant that did not run.
        log(event="done", ok=ok, variants={v: {"status": r["status"], "exitCode": r.get("exitCode"), "runId": r.get("runId"),
                                                "results": r.get("results") if r.get("exitCode") is not None else None} for v, r in self.results.items()})
        return 0 if ok else 1


def run_name(variant: str) -> str:
    return f"llm-{variant}"


def main(argv: list[str] | None = None, env: dict[str, str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    env = dict(os.environ) if env is None else env
    try:
        c, rest, a = parse(argv, env)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 2
    campaign = Campaign(c, rest, a, Kube(c.api_server, c.token_file, c.ca_file))

    def on_term(signum: int, _frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: the cleanup below must not be interrupted
        raise Terminated()

    signal.signal(signal.SIGTERM, on_term)
    try:
        return campaign.run()
    except Terminated:
        # run_variant's finally has scaled the current variant back, unless the signal cut that
        # very call short: then once more (SIGTERM is ignored from now on).
        if campaign.current is not None:
            try:
                campaign.scale(campaign.current, 0, "terminated")
                campaign.current = None
            except KubeError:
                pass  # logged by scale()
        log(event="terminated", scaledBack=campaign.current is None, variants={v: r.get("status") for v, r in campaign.results.items()})
        return 143


if __name__ == "__main__":
    raise SystemExit(main())
