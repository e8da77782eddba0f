"""Closed-loop load on one LLM variant (TGI or vLLM) with text-to-SQL prompts.

Users (pick on the command line; run.py does):
  StreamingUser  TGI /generate_stream or vLLM /v1/completions (stream): entries
                 "TTFT" (first SSE event), "TPOT" ((e2e - TTFT) / (tokens - 1)) and
                 "e2e", each its own locust entry.
  GenerateUser   TGI /generate: the built-in entry, plus TGI's timing headers
                 (x-validation-time, x-queue-time, x-inference-time, x-time-per-token,
                 x-total-time) kept per request. x-time-per-token includes prefill: it is
                 not TPOT.

Every request is also kept as a raw sample (locust's percentiles are rounded to
buckets): standalone, the process writes them; with --master/--worker, workers
send theirs with each stats report and the master writes them all.

Environment (run.py sets it): MLSERVE_ENGINE (tgi|vllm), MLSERVE_TARGET (name in
the samples), MLSERVE_MODEL (vLLM's model field), MLSERVE_DATASET, MLSERVE_SAMPLES
(output .jsonl), MLSERVE_MAX_NEW_TOKENS (default 128), MLSERVE_DATASET_LIMIT.
"""
from __future__ import annotations

import json
import os
import time

from locust import HttpUser, constant, events, task
from locust.runners import MasterRunner, WorkerRunner

from textsql import RowPicker, load_rows, prompt_for

ENGINE = os.environ.get("MLSERVE_ENGINE", "tgi")
TARGET = os.environ.get("MLSERVE_TARGET", "llm")
MODEL = os.environ.get("MLSERVE_MODEL", "")
MAX_NEW = int(os.environ.get("MLSERVE_MAX_NEW_TOKENS", "128"))
TIMING_HEADERS = ("x-validation-time", "x-queue-time", "x-inference-time", "x-time-per-token", "x-total-time")

_rows = None
_picker = None
_samples: list[dict] = []


def picker() -> RowPicker:
    global _rows, _picker
    if _picker is None:
        _rows = load_rows(os.environ["MLSERVE_DATASET"], limit=int(os.environ.get("MLSERVE_DATASET_LIMIT", "0")) or None)
        _picker = RowPicker(_rows)
    return _picker


def keep(sample: dict) -> None:
    sample["target"] = TARGET
    _samples.append(sample)


@events.report_to_master.add_listener
def _to_master(client_id, data, **_kw):
    # Workers ship their samples with each stats report; the master writes them.
    data["mlserve_samples"] = _samples[:]
    _samples.clear()


@events.worker_report.add_listener
def _from_worker(client_id, data, **_kw):
    _samples.extend(data.get("mlserve_samples", []))


@events.quitting.add_listener
def _write(environment, **_kw):
    if isinstance(environment.runner, WorkerRunner):
        return
    path = os.environ.get("MLSERVE_SAMPLES")
    if not path:
        return
    with open(path, "w", encoding="utf-8") as f:
        for s in _samples:
            f.write(json.dumps(s) + "\n")


@events.init.add_listener
def _init(environment, **_kw):
    # Load rows before the first user starts, so the first requests do not pay for it.
    if not isinstance(environment.runner, MasterRunner):
        picker()


def _fire(env, name: str, ms: float, ok: bool = True, exc: Exception | None = None) -> None:
    env.events.request.fire(request_type="LLM", name=name, response_time=ms, response_length=0, exception=None if ok else exc, context={})


class StreamingUser(HttpUser):
    wait_time = constant(0)

    @task
    def stream(self) -> None:
        row = picker().next()
        prompt = prompt_for(row)
        if ENGINE == "tgi":
            path, body = "/generate_stream", {"inputs": prompt, "parameters": {"max_new_tokens": MAX_NEW}}
        else:
            path = "/v1/completions"
            body = {"model": MODEL, "prompt": prompt, "max_tokens": MAX_NEW, "stream": True, "stream_options": {"include_usage": True}}
        start_wall = time.time()
        t0 = time.perf_counter()
        first = None
        tokens = 0
        text: list[str] = []
        usage_tokens = None
        error = None
        status = 0
        # The built-in entry times only the response headers with stream=True: it is named so.
        with self.client.post(path, json=body, stream=True, catch_response=True, name=f"{path} (headers)") as resp:
            status = resp.status_code
            if status != 200:
                error = f"HTTP {status}"
                resp.failure(error)
            else:
                try:
                    for line in resp.iter_lines():
                        if not line or not line.startswith(b"data:"):
                            continue
                        data = line[5:].strip()
                        if data == b"[DONE]":
                            break
                        event = json.loads(data)
                        if ENGINE == "tgi":
                            if event.get("token", {}).get("special"):
                                continue
                            piece = event["token"]["text"]
                        else:
                            if event.get("usage"):
                                usage_tokens = event["usage"].get("completion_tokens")
                            if not event.get("choices"):
                                continue
                            piece = event["choices"][0].get("text", "")
                        if first is None:
                            first = time.perf_counter()
                        tokens += 1
                        text.append(piece)
                    resp.success()
                except Exception as e:  # a broken stream is a failed request, not a crash
                    error = f"stream: {e}"
                    resp.failure(error)
        end = time.perf_counter()
        n = usage_tokens or tokens
        e2e = (end - t0) * 1000
        ok = error is None and first is not None
        ttft = (first - t0) * 1000 if first is not None else None
        tpot = (e2e - ttft) / (n - 1) if ok and n > 1 else None
        if ok:
            _fire(self.environment, "TTFT", ttft)
            if tpot is not None:
                _fire(self.environment, "TPOT", tpot)
        _fire(self.environment, "e2e", e2e, ok, Exception(error or "no tokens"))
        keep({"kind": "stream", "t": start_wall, "ok": ok, "status": status, "e2eMs": e2e, "ttftMs": ttft, "tpotMs": tpot,
              "outputTokens": n if ok else 0, "row": row["id"], "text": "".join(text) if ok else None, "error": error})


class GenerateUser(HttpUser):
    wait_time = constant(0)

    @task
    def generate(self) -> None:
        row = picker().next()
        start_wall = time.time()
        t0 = time.perf_counter()
        with self.client.post("/generate", json={"inputs": prompt_for(row), "parameters": {"max_new_tokens": MAX_NEW}}, catch_response=True) as resp:
            e2e = (time.perf_counter() - t0) * 1000
            ok = resp.status_code == 200
            headers = {h: float(resp.headers[h]) for h in TIMING_HEADERS if h in resp.headers}
            text = None
            if ok:
                try:
                    text = resp.json()["generated_text"]
                except Exception as e:
                    ok = False
                    resp.failure(f"bad body: {e}")
            else:
                resp.failure(f"HTTP {resp.status_code}")
            generated = resp.headers.get("x-generated-tokens")
            keep({"kind": "generate", "t": start_wall, "ok": ok, "status": resp.status_code, "e2eMs": e2e, "headers": headers,
                  "outputTokens": int(generated) if generated and ok else 0, "row": row["id"], "text": text,
                  "error": None if ok else f"HTTP {resp.status_code}"})
