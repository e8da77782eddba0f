"""Command line and environment contract of the optimization Job.

Every option can also come from an environment variable (MLSERVE_OPT_<OPTION>, upper case,
'-' as '_'), which is how the Kubernetes Job passes them; a flag wins over the variable."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import torch

from . import artifacts, data, pipeline

DEFAULT_TEACHER = "distilbert/distilbert-base-uncased-finetuned-sst-2-english"


def _env(name: str, default):
    return os.environ.get("MLSERVE_OPT_" + name.upper().replace("-", "_"), default)


def build_parser() -> argparse.ArgumentParser:
    d = pipeline.RunConfig(run_id="x", teacher=DEFAULT_TEACHER)
    p = argparse.ArgumentParser(prog="python -m mlserve_optimize", description=__doc__,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)

    def opt(name, typ, default, help_):
        # A string default (the env value) is converted by argparse only when the flag is
        # absent, so a flag wins even over a malformed variable.
        p.add_argument("--" + name, type=typ, default=_env(name, default),
                       help=f"{help_} [env MLSERVE_OPT_{name.upper().replace('-', '_')}]")

    opt("run-id", str, None, "run id (DNS label); a new id is a new run")
    opt("output", str, None, "local directory, or s3://bucket/models/<run id>/ (must end with the run id)")
    opt("teacher", str, DEFAULT_TEACHER, "teacher / baseline: Hub id or local model directory")
    opt("student", str, d.student, "'teacher-layers:N' (teacher's layers, every k-th) or a Hub id / directory")
    opt("methods", str, d.methods, f"comma-separated chains of {'+'.join(pipeline.STEPS)} steps")
    opt("target-sparsity", float, d.target_sparsity, "share of encoder Linear weights zeroed by 'sparse'")
    opt("head-fraction", float, d.head_fraction, "share of attention heads removed by 'heads'")
    opt("ffn-fraction", float, d.ffn_fraction, "share of FFN neurons removed per layer by 'ffn'")
    opt("train-steps", int, d.train_steps, "distillation optimizer steps")
    opt("recovery-steps", int, d.recovery_steps, "distillation steps after each pruning step (0 = none)")
    opt("batch-size", int, d.batch_size, "training batch size")
    opt("lr", float, d.lr, "AdamW learning rate")
    opt("temperature", float, d.temperature, "distillation temperature T")
    opt("alpha", float, d.alpha, "weight of the soft-target loss (1 - alpha on the labels)")
    opt("max-length", int, d.max_length, "tokens per sentence at most")
    opt("latency-repeats", int, d.latency_repeats, "timed forward passes per batch size (median reported)")
    opt("threads", int, d.threads, "torch CPU threads (latency is measured with these)")
    opt("seed", int, d.seed, "random seed")
    opt("device", str, "auto", "training device: auto, cpu or cuda (latency is always CPU)")
    opt("dataset", str, "nyu-mll/glue", "Hugging Face dataset (loaded with `datasets`)")
    opt("dataset-config", str, "sst2", "dataset configuration")
    opt("train-split", str, "train", "split to distill on")
    opt("eval-split", str, "validation", "split to evaluate on")
    opt("train-file", str, None, "JSONL {text,label} to train on instead of the dataset")
    opt("eval-file", str, None, "JSONL {text,label} to evaluate on instead of the dataset")
    opt("train-limit", int, 0, "use at most this many training examples (0 = all)")
    opt("eval-limit", int, 0, "use at most this many evaluation examples (0 = all)")
    opt("work-dir", str, None, "local directory for an s3:// run (default: a temporary one)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.run_id or not args.output:
        print("error: --run-id and --output are required", file=sys.stderr)
        return 2
    if not pipeline.RUN_ID.match(args.run_id):
        print("error: run id must be a DNS label (lowercase letters, digits, '-')", file=sys.stderr)
        return 2
    s3 = args.output.startswith("s3://")
    if s3:
        _, prefix = artifacts.parse_s3_uri(args.output)
        # The Job's role is scoped to models/<run id>/: refuse to write anywhere else.
        if not prefix.rstrip("/").split("/")[-1] == args.run_id:
            print(f"error: {args.output} does not end with the run id {args.run_id}/", file=sys.stderr)
            return 2
    try:
        pipeline.parse_methods(args.methods)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device

    from transformers import AutoModelForSequenceClassification, AutoTokenizer  # noqa: PLC0415

    train = (data.load_jsonl(args.train_file, args.train_limit) if args.train_file
             else data.load_hf_dataset(args.dataset, args.dataset_config, args.train_split, args.train_limit))
    evaluation_set = (data.load_jsonl(args.eval_file, args.eval_limit) if args.eval_file
                      else data.load_hf_dataset(args.dataset, args.dataset_config, args.eval_split, args.eval_limit))
    teacher = AutoModelForSequenceClassification.from_pretrained(args.teacher, dtype=torch.float32)
    teacher_tok = AutoTokenizer.from_pretrained(args.teacher)

    def load_student(name: str):
        model = AutoModelForSequenceClassification.from_pretrained(
            name, num_labels=teacher.config.num_labels, dtype=torch.float32)
        return model, AutoTokenizer.from_pretrained(name)

    cfg = pipeline.RunConfig(
        run_id=args.run_id, teacher=args.teacher, student=args.student, methods=args.methods,
        target_sparsity=args.target_sparsity, head_fraction=args.head_fraction, ffn_fraction=args.ffn_fraction,
        train_steps=args.train_steps, recovery_steps=args.recovery_steps, batch_size=args.batch_size, lr=args.lr,
        temperature=args.temperature, alpha=args.alpha, max_length=args.max_length,
        latency_repeats=args.latency_repeats, threads=args.threads, seed=args.seed, device=device,
        eval_name=(args.eval_file or f"{args.dataset}/{args.dataset_config} {args.eval_split}"),
    )
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="mlserve-optimize-")) if s3 else Path(args.output)
    root = args.output if args.output.endswith("/") else args.output + "/"

    def on_saved(name: str, path: Path) -> None:
        if s3:  # each variant as soon as it is done: a Job that dies later keeps what it finished
            artifacts.upload_tree(path, f"{root}{name}/")

    summary = pipeline.run(cfg, teacher, teacher_tok, train, evaluation_set, work,
                           load_student=load_student, on_saved=on_saved)
    if s3:
        import boto3  # noqa: PLC0415

        bucket, prefix = artifacts.parse_s3_uri(root)
        boto3.client("s3").upload_file(str(work / "summary.json"), bucket, prefix + "summary.json")
    print(pipeline.markdown_table(summary))
    return 0
