"""A run: the teacher as baseline, then every method chain, each step saved and measured."""
from __future__ import annotations

import copy
import platform
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import transformers

from . import artifacts, distill, evaluation, prune
from .data import Example
from .quantize import quantize_int8

STEPS = ("distill", "heads", "ffn", "sparse", "int8")
RUN_ID = re.compile(r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$")


@dataclass
class RunConfig:
    run_id: str
    teacher: str
    student: str = "teacher-layers:3"
    methods: str = "distill,ffn,heads,sparse,int8,distill+ffn+int8"
    target_sparsity: float = 0.5
    head_fraction: float = 0.25
    ffn_fraction: float = 0.3
    train_steps: int = 2000
    recovery_steps: int = 300
    batch_size: int = 32
    lr: float = 5e-5
    temperature: float = 2.0
    alpha: float = 0.5
    max_length: int = 128
    calibration_examples: int = 512
    latency_repeats: int = 30
    latency_texts: int = 64
    threads: int = 2
    seed: int = 0
    device: str = "cpu"
    eval_name: str = "sst2 validation"
    extra: dict = field(default_factory=dict)


def parse_methods(spec: str) -> list[list[str]]:
    """"distill,ffn+int8" -> [["distill"], ["ffn", "int8"]]. int8 ends a chain (nothing trains
    or prunes an int8 model here); distill starts one (it makes the student)."""
    chains = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        chain = [s.strip() for s in part.split("+")]
        for s in chain:
            if s not in STEPS:
                raise ValueError(f"unknown method {s!r} in {part!r} (known: {', '.join(STEPS)})")
        if len(set(chain)) != len(chain):
            raise ValueError(f"method repeated in {part!r}")
        if "int8" in chain[:-1]:
            raise ValueError(f"int8 must be the last step of {part!r}")
        if "distill" in chain[1:]:
            raise ValueError(f"distill must be the first step of {part!r}")
        chains.append(chain)
    if not chains:
        raise ValueError("no methods given")
    return chains


def plan(chains: Sequence[Sequence[str]]) -> list[tuple[str, ...]]:
    """Every prefix of every chain, once, in order: each step of a combination is measured."""
    out: list[tuple[str, ...]] = []
    for chain in chains:
        for i in range(1, len(chain) + 1):
            if tuple(chain[:i]) not in out:
                out.append(tuple(chain[:i]))
    return out


def variant_name(steps: Sequence[str]) -> str:
    return "-".join(steps) if steps else "baseline"


@dataclass
class State:
    model: torch.nn.Module  # float model (the int8 one is derived from it)
    tokenizer: object
    int8: torch.nn.Module | None = None
    sparse: bool = False
    log: dict = field(default_factory=dict)


def machine(threads: int) -> dict:
    return {
        "cpu": evaluation.cpu_description(),
        "arch": platform.machine(),
        "torch_threads": threads,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "quantized_engine": torch.backends.quantized.engine,
    }


def run(cfg: RunConfig, teacher, teacher_tokenizer, train: Sequence[Example], evaluation_set: Sequence[Example],
        out_dir: str | Path, load_student: Callable[[str], tuple] | None = None,
        on_saved: Callable[[str, Path], None] | None = None, log: Callable[[str], None] = print) -> dict:
    """Evaluate and save the baseline and every planned variant under out_dir/<variant>/.
    Returns the run summary (also written as out_dir/summary.json)."""
    if not RUN_ID.match(cfg.run_id):
        raise ValueError("run id must be a DNS label: lowercase letters, digits and '-', at most 40")
    n_labels = teacher.config.num_labels
    seen = {y for _, y in [*train, *evaluation_set]}
    if seen != set(range(n_labels)):
        # Label ids must be the teacher's classes (SST-2: 0 negative, 1 positive); a 3-class
        # sentiment model (1 = neutral) on SST-2 would be scored wrongly, so it is refused.
        raise ValueError(f"data labels {sorted(seen)} are not the teacher's classes 0..{n_labels - 1}")
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    out = Path(out_dir)
    steps_plan = plan(parse_methods(cfg.methods))
    texts = [t for t, _ in evaluation_set[: cfg.latency_texts]]
    calib = list(train[: cfg.calibration_examples])
    dev = cfg.device
    teacher.eval()

    needs_teacher_targets = any(s[-1] == "distill" for s in steps_plan) or (
        cfg.recovery_steps > 0 and any(s[-1] in ("heads", "ffn", "sparse") for s in steps_plan))
    targets = None
    if needs_teacher_targets:
        log(f"teacher soft targets on {len(train)} training examples")
        targets = distill.teacher_soft_targets(teacher.to(dev), teacher_tokenizer, train, cfg.max_length, dev)
    teacher_eval_logits = evaluation.predict_logits(teacher.to(dev), teacher_tokenizer, evaluation_set,
                                                    cfg.max_length, device=dev)

    def fit(model, tokenizer, steps: int, keep_sparse: bool) -> dict:
        losses = distill.train(model, tokenizer, train, targets, steps=steps, batch_size=cfg.batch_size, lr=cfg.lr,
                               temperature=cfg.temperature, alpha=cfg.alpha, max_length=cfg.max_length,
                               seed=cfg.seed, device=dev, keep_sparse=keep_sparse)
        if not losses:  # --train-steps 0: the student as initialised
            return {"steps": 0}
        return {"steps": len(losses), "loss_first": losses[0], "loss_last": losses[-1]}

    def apply(step: str, st: State) -> State:
        if step == "int8":
            return State(st.model, st.tokenizer, quantize_int8(st.model), st.sparse, {})
        if step == "distill":
            if cfg.student.startswith("teacher-layers:"):
                model = distill.student_from_teacher(teacher.to("cpu"), int(cfg.student.split(":", 1)[1]))
                tok = teacher_tokenizer
            else:
                if load_student is None:
                    raise ValueError("a student given by name needs a loader")
                model, tok = load_student(cfg.student)
            return State(model, tok, None, False, {"distill": fit(model, tok, cfg.train_steps, False)})
        model = copy.deepcopy(st.model).to(dev)
        entry: dict = {}
        if step in ("heads", "ffn"):
            head_scores, neuron_scores = prune.importance(model, st.tokenizer, calib, cfg.max_length, device=dev)
            if step == "heads":
                chosen = prune.choose_heads(head_scores, cfg.head_fraction)
                prune.prune_heads(model, chosen)
                entry = {"pruned_heads": prune.pruned_heads_record(model), "fraction": cfg.head_fraction}
            else:
                width = prune.prune_ffn(model, neuron_scores, cfg.ffn_fraction)
                entry = {"ffn_width": width, "fraction": cfg.ffn_fraction}
        else:  # sparse
            entry = {"zeroed": prune.magnitude_prune(model, cfg.target_sparsity), "target": cfg.target_sparsity}
        sparse = st.sparse or step == "sparse"
        if cfg.recovery_steps > 0:
            entry["recovery"] = fit(model, st.tokenizer, cfg.recovery_steps, sparse)
        return State(model, st.tokenizer, None, sparse, {step: entry})

    baseline: dict = {}
    summary: dict = {"run_id": cfg.run_id, "teacher": cfg.teacher, "student": cfg.student, "methods": cfg.methods,
                     "machine": machine(cfg.threads), "variants": {}}

    def measure(name: str, steps: tuple[str, ...], st: State, history: dict) -> None:
        vdir = out / name
        meta = artifacts.save_variant(vdir, name, list(steps), st.model, st.tokenizer, st.int8)
        served = st.int8 if st.int8 is not None else st.model
        qdev = "cpu" if st.int8 is not None else dev  # int8 kernels are CPU-only
        logits = evaluation.predict_logits(served.to(qdev), st.tokenizer, evaluation_set, cfg.max_length, device=qdev)
        q = evaluation.accuracy_f1(logits.argmax(-1).tolist(), [y for _, y in evaluation_set])
        served.to("cpu")
        lat, base_lat = {}, {}
        for b in (1, 8):
            if name == "baseline":
                lat[f"batch_{b}"] = evaluation.latency_ms(served, st.tokenizer, texts, b, cfg.max_length,
                                                          cfg.latency_repeats)
                base_lat[f"batch_{b}"] = lat[f"batch_{b}"]
            else:
                lat[f"batch_{b}"], base_lat[f"batch_{b}"] = evaluation.paired_latency_ms(
                    served, st.tokenizer, teacher.to("cpu"), teacher_tokenizer, texts, b, cfg.max_length,
                    cfg.latency_repeats)
        # The file the measured model is loaded from (the one that would be shipped for it).
        weights = (artifacts.INT8_FILE if st.int8 is not None
                   else artifacts.COMPACT_FILE if meta["pruned_heads"] else "model.safetensors")
        m = {
            "variant": name,
            "steps": list(steps),
            "run_id": cfg.run_id,
            "teacher": cfg.teacher,
            "student": cfg.student if "distill" in steps else None,
            "eval": {"set": cfg.eval_name, "examples": len(evaluation_set)},
            "accuracy": q["accuracy"],
            "f1": q["f1"],
            "agreement_with_teacher": distill.agreement(logits, teacher_eval_logits.cpu()),
            "size_bytes": evaluation.dir_bytes(vdir, [weights]),
            "size_file": weights,
            "size_gzip_bytes": evaluation.gzip_bytes(vdir / weights),
            "parameters": sum(p.numel() for p in st.model.parameters()),
            "encoder_sparsity": prune.sparsity(st.model),
            "latency_ms": lat,
            # The baseline timed pass by pass alternately with this model (ratios use these).
            "baseline_latency_ms_paired": base_lat,
            "latency": {"median_of": cfg.latency_repeats, "max_length": cfg.max_length, "device": "cpu",
                        "method": "median of timed forward passes, alternating with the baseline"},
            "machine": summary["machine"],
            "steps_detail": history,
            "serving": {"kserve_huggingface_runtime": meta["kserve_huggingface_runtime"],
                        "kserve_as_measured": meta["kserve_as_measured"],
                        "loader": "mlserve_optimize.artifacts.load_model"},
        }
        if name == "baseline":
            baseline.update(m)
        m["vs_baseline"] = {
            "latency_batch_1": lat["batch_1"] / base_lat["batch_1"],
            "latency_batch_8": lat["batch_8"] / base_lat["batch_8"],
            "size": m["size_bytes"] / baseline["size_bytes"],
            "accuracy_delta": m["accuracy"] - baseline["accuracy"],
            "f1_delta": m["f1"] - baseline["f1"],
        }
        artifacts.write_json(vdir / artifacts.METRICS_FILE, m)
        summary["variants"][name] = {k: m[k] for k in ("steps", "accuracy", "f1", "agreement_with_teacher",
                                                      "size_bytes", "latency_ms", "vs_baseline")}
        log(f"{name}: accuracy {m['accuracy']:.4f} f1 {m['f1']:.4f} size {m['size_bytes']} "
            f"b1 {lat['batch_1']:.2f} ms b8 {lat['batch_8']:.2f} ms")
        if on_saved:
            on_saved(name, vdir)

    states: dict[tuple[str, ...], State] = {(): State(teacher, teacher_tokenizer)}
    histories: dict[tuple[str, ...], dict] = {(): {}}
    measure("baseline", (), states[()], {})
    for steps in steps_plan:
        parent = states[steps[:-1]]
        st = apply(steps[-1], parent)
        states[steps] = st
        histories[steps] = {**histories[steps[:-1]], **st.log}
        measure(variant_name(steps), steps, st, histories[steps])
    summary["config"] = {k: v for k, v in asdict(cfg).items() if k != "extra"}
    artifacts.write_json(out / "summary.json", summary, sort_keys=False)  # variants in run order
    return summary


def markdown_table(summary: dict) -> str:
    rows = ["| variant | accuracy | F1 | size (bytes) | size vs baseline | p50 ms b=1 | vs baseline (paired) | p50 ms b=8 | vs baseline (paired) |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, v in summary["variants"].items():
        r = v["vs_baseline"]
        rows.append(f"| {name} | {v['accuracy']:.3f} | {v['f1']:.3f} | {v['size_bytes']:,} | {r['size']:.2f}x "
                    f"| {v['latency_ms']['batch_1']:.2f} | {r['latency_batch_1']:.2f}x "
                    f"| {v['latency_ms']['batch_8']:.2f} | {r['latency_batch_8']:.2f}x |")
    return "\n".join(rows)
