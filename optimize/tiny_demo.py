"""Make a tiny, locally trained DistilBERT teacher and synthetic sentiment data (the ones the
tests use) so the whole CLI can be run on this machine without downloading anything:

    .venv/bin/python optimize/tiny_demo.py /tmp/tiny      # then run the command it prints
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "tests"))
sys.path.insert(0, str(Path(__file__).parent))

import tiny  # noqa: E402

out = Path(sys.argv[1] if len(sys.argv) > 1 else "out/tiny")
out.mkdir(parents=True, exist_ok=True)
tok = tiny.tokenizer()
train, evaluation = tiny.sentences(2000, seed=1), tiny.sentences(500, seed=2)
teacher = tiny.train_on_labels(tiny.distilbert(seed=0, dim=64, layers=4, heads=4, ffn=256), tok, train, steps=400, seed=0, lr=1e-3)
teacher.save_pretrained(out / "teacher")
tok.save_pretrained(out / "teacher")
for name, rows in (("train", train), ("eval", evaluation)):
    (out / f"{name}.jsonl").write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in rows))
print(f"cd optimize && ../.venv/bin/python -m mlserve_optimize --run-id tiny --output {out}/run "
      f"--teacher {out}/teacher --student teacher-layers:2 --train-file {out}/train.jsonl --eval-file {out}/eval.jsonl "
      f"--max-length {tiny.MAX_LEN} --train-steps 300 --recovery-steps 50 --lr 0.001 --latency-repeats 200 --threads 1 --device cpu")
