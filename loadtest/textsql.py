"""Text-to-SQL rows (the columns of gretelai/synthetic_text_to_sql), prompts, and
answer quality: execution accuracy in SQLite and exact match after normalisation.

Standard library only, so the quality step runs wherever the load tools run
(Node 20 has no built-in SQLite; this is why quality is computed here).
"""
from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from collections import Counter
from typing import Any, Iterable

COLUMNS = ("id", "domain", "sql_complexity", "sql_task_type", "sql_prompt", "sql_context", "sql")
HF_PREFIX = "hf:"

SYSTEM = "You translate questions into SQL. Answer with one SQLite query and nothing else."


def load_rows(source: str, split: str = "test", limit: int | None = None) -> list[dict[str, Any]]:
    """Rows from a local .jsonl/.json/.parquet file, or `hf:<repo id>` (downloads the split's
    parquet files from the Hugging Face Hub at run time: in the cluster, not in tests)."""
    if source.startswith(HF_PREFIX):
        rows = _load_hub(source[len(HF_PREFIX):], split)
    elif source.endswith(".parquet"):
        import pyarrow.parquet as pq  # only in the load-test image

        rows = pq.read_table(source).to_pylist()
    elif source.endswith(".jsonl"):
        with open(source, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
    else:
        with open(source, encoding="utf-8") as f:
            rows = json.load(f)
    missing = [c for c in COLUMNS if rows and c not in rows[0]]
    if missing:
        raise ValueError(f"{source}: rows lack the columns {missing} (expected those of gretelai/synthetic_text_to_sql)")
    if not rows:
        raise ValueError(f"{source}: no rows")
    return rows[:limit] if limit else rows


def _load_hub(repo_id: str, split: str) -> list[dict[str, Any]]:
    from huggingface_hub import hf_hub_download, list_repo_files  # only in the load-test image
    import pyarrow.parquet as pq

    files = [f for f in list_repo_files(repo_id, repo_type="dataset") if f.endswith(".parquet") and split in os.path.basename(f)]
    if not files:
        raise ValueError(f"{repo_id}: no parquet file for split {split!r}")
    rows: list[dict[str, Any]] = []
    for f in sorted(files):
        rows.extend(pq.read_table(hf_hub_download(repo_id, f, repo_type="dataset")).to_pylist())
    return rows


def prompt_for(row: dict[str, Any]) -> str:
    """Schema context + question, in the Phi-3.5 chat format the reference model expects."""
    return f"<|system|>\n{SYSTEM}<|end|>\n<|user|>\nSchema:\n{row['sql_context']}\n\nQuestion: {row['sql_prompt']}<|end|>\n<|assistant|>\n"


class RowPicker:
    """Rows in turn (thread- and greenlet-safe): every row gets an equal share of requests."""

    def __init__(self, rows: list[dict[str, Any]]):
        self.rows = rows
        self._i = 0
        self._lock = threading.Lock()

    def next(self) -> dict[str, Any]:
        with self._lock:
            row = self.rows[self._i % len(self.rows)]
            self._i += 1
        return row


_FENCE = re.compile(r"```(?:sql)?\s*(.*?)```", re.S | re.I)


def extract_sql(text: str) -> str:
    """The query in a model's answer: inside a code fence if there is one, up to the first ';'."""
    m = _FENCE.search(text)
    body = (m.group(1) if m else text).strip()
    return body.split(";")[0].strip()


def normalise(sql: str) -> str:
    """Lower case outside string literals, one space between tokens, no trailing ';'."""
    parts = re.split(r"('(?:[^']|'')*')", extract_sql(sql))
    out = "".join(p if p.startswith("'") else p.lower() for p in parts)
    out = re.sub(r"\s+", " ", out)
    out = re.sub(r"\s*([(),=<>])\s*", r"\1", out)
    return out.strip()


def exact_match(answer: str, reference: str) -> bool:
    return normalise(answer) == normalise(reference)


def _rows(db: sqlite3.Connection, sql: str) -> list[tuple]:
    return db.execute(sql).fetchall()


def execution_result(row: dict[str, Any], answer: str) -> str:
    """'match', 'mismatch', 'error' (the answer fails), or 'reference_error' (the row's own
    schema or SQL does not run in SQLite: such rows are left out of the accuracy)."""
    db = sqlite3.connect(":memory:")
    try:
        try:
            db.executescript(row["sql_context"])
            want = _rows(db, row["sql"])
        except sqlite3.Error:
            return "reference_error"
        try:
            got = _rows(db, extract_sql(answer))
        except (sqlite3.Error, sqlite3.Warning):
            return "error"
        # Order matters only when the reference asks for one.
        ordered = re.search(r"\border\s+by\b", row["sql"], re.I) is not None
        same = got == want if ordered else Counter(map(repr, got)) == Counter(map(repr, want))
        return "match" if same else "mismatch"
    finally:
        db.close()


def quality(samples: Iterable[dict[str, Any]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per variant: answers scored, execution accuracy and normalised exact match."""
    by_id = {str(r["id"]): r for r in rows}
    per: dict[str, dict[str, int]] = {}
    for s in samples:
        if not s.get("ok") or s.get("text") is None or str(s.get("row")) not in by_id:
            continue
        row = by_id[str(s["row"])]
        c = per.setdefault(s.get("target", ""), Counter())
        result = execution_result(row, s["text"])
        c[result] += 1
        c["answers"] += 1
        c["exact"] += exact_match(s["text"], row["sql"])
    out = {}
    for target, c in per.items():
        scored = c["answers"] - c["reference_error"]
        out[target] = {
            "answers": c["answers"],
            "scored": scored,
            "referenceErrors": c["reference_error"],
            "answerErrors": c["error"],
            "executionAccuracy": c["match"] / scored if scored else None,
            "exactMatch": c["exact"] / c["answers"] if c["answers"] else None,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(description="Score LLM answers in a samples file against text-to-SQL rows.")
    p.add_argument("samples", help="samples.jsonl written by the locustfile")
    p.add_argument("dataset", help="the rows the prompts came from (.jsonl/.json/.parquet or hf:<repo>)")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    with open(a.samples, encoding="utf-8") as f:
        samples = [json.loads(line) for line in f if line.strip()]
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(quality(samples, load_rows(a.dataset)), f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
