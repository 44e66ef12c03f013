"""What a run reports: each evaluation of a generator, the final rows, samples, tables and plots.

``evaluate`` writes one line of ``metrics.jsonl`` (NLL-oracle on the synthetic task, NLL-test,
BLEU and Self-BLEU on real data, D's loss and accuracy), its TensorBoard scalars and one printed
line; ``finish`` writes the samples of every generator, the NLL plot and ``results.json``.
Under torchrun every rank evaluates its share and only rank 0 writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm.auto import tqdm

from . import corpus, metrics
from .data import write_token_file
from .generator import Generator
from .lifecycle import save
from .rows import TABLE1_ROWS
from .runtime import distributed
from .runtime.files import atomic_write_text
from .runtime.hardware import code_version, machine

if TYPE_CHECKING:  # annotations only: train imports this module
    from .run import Run


def evaluate(run: Run, phase: str, step: int, generator: Generator, extra: dict | None = None) -> dict:
    cfg = run.cfg
    samples = distributed.gather(
        generator.sample(distributed.share(cfg.eval.num_samples), temperature=cfg.eval.temperature)
    )  # each rank its share
    d_loss, d_acc = metrics.discriminator_metrics(run.discriminator, run.test[: len(samples)], samples, bf16=run.bf16)
    record = {"phase": phase, "step": step}
    if run.oracle is not None:
        record["nll_oracle"] = metrics.nll_oracle(run.oracle, samples)
    record["nll_test"] = metrics.nll_test(generator, run.test, cfg.eval.temperature)
    if run.vocab is not None:  # real data: BLEU against the test split, Self-BLEU, readable samples
        hypotheses = [run.vocab.decode(row) for row in samples.tolist()]
        record.update(
            metrics.real_data_metrics(
                run.bleu_reference,
                run.reference_rows,
                hypotheses,
                cfg.eval.self_bleu_samples,
                cfg.data.source == "midi",
            )
        )
        if run.master:
            write_decoded(run.cfg, run.run_dir / "samples" / f"{phase}_{step:05d}.txt", hypotheses)
    record.update({"d_loss": d_loss, "d_acc": d_acc, **(extra or {}), "seconds": round(run.elapsed(), 3)})
    run.progress["metrics_lines"] += 1
    if not run.master:
        return record
    with open(run.run_dir / "metrics.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
    tag = "seqgan" if phase == "adversarial" else phase
    for key, value in record.items():
        if key not in ("step", "round", "seconds") and isinstance(value, (int, float)):
            run.writer.add_scalar(f"{tag}/{key}", value, step)
    fields = " ".join(f"{k}={v:.4f}" for k, v in record.items() if isinstance(v, float) and k != "seconds")
    tqdm.write(f"[{phase} {step}] {fields} ({record['seconds']:.0f}s)")
    if run.report is not None and phase in ("pretrain", "adversarial"):
        run.report(step, record)
    return record


def heartbeat(run: Run, bar: tqdm, desc: str, done: int, text: str) -> None:
    """Without a terminal tqdm draws no bar; a log file gets a plain line per unit instead."""
    if bar.disable and run.master:
        tqdm.write(f"[{desc} {done}/{bar.total}] {text} ({run.elapsed():.0f}s)")


def write_decoded(cfg, path: Path, hypotheses: list[list[str]]) -> None:
    """Samples as text (real data), one a line, atomically."""
    kind = "ids" if cfg.data.source == "midi" else cfg.data.tokenizer
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "".join(corpus.detokenize(h, kind) + "\n" for h in hypotheses))


FINAL_KEYS = (
    "nll_oracle",
    "nll_test",
    "bleu2",
    "bleu3",
    "bleu4",
    "bleu5",
    "self_bleu2",
    "self_bleu3",
    "self_bleu4",
    "self_bleu5",
    "pitch_mse",
)


def finish(run: Run) -> dict:
    cfg = run.cfg
    records = metrics.read_metrics(run.run_dir / "metrics.jsonl") if run.master else []
    final = {}
    for phase, name in TABLE1_ROWS.items():
        rows = [r for r in records if r["phase"] == phase]
        if rows:
            final[name] = {k: rows[-1][k] for k in FINAL_KEYS if k in rows[-1]} | {"step": rows[-1]["step"]}
    generators = {"": run.generator} | {f"_{name}": row.generator for name, row in run.rows.items()}
    for suffix, generator in generators.items():
        samples = distributed.gather(generator.sample(distributed.share(cfg.eval.num_samples))).cpu()
        if not run.master:
            continue
        write_token_file(run.run_dir / f"samples{suffix}.txt", samples)
        if run.vocab is not None:
            decoded = [run.vocab.decode(row) for row in samples.tolist()]
            write_decoded(cfg, run.run_dir / f"samples{suffix}_text.txt", decoded)
            if cfg.data.source == "midi":  # a few melodies to listen to
                from .midi import write_midi

                folder = run.run_dir / "midi"
                folder.mkdir(exist_ok=True)
                label = suffix.lstrip("_") or "seqgan"
                for i, melody in enumerate(decoded[: cfg.eval.midi_files]):
                    write_midi(
                        [int(t) for t in melody if t.isdigit()],
                        folder / f"{label}_{i:02d}.mid",
                        step=cfg.data.midi_step,
                    )
    if run.master and run.oracle is not None:
        metrics.plot_nll_oracle(
            records,
            cfg.train.pretrain_g_epochs,
            run.run_dir / "nll_oracle.png",
            title=f"oracle {cfg.oracle.source}, seed {cfg.seed}",
        )
    elif run.master:
        metrics.plot_nll_oracle(
            records,
            cfg.train.pretrain_g_epochs,
            run.run_dir / "nll_test.png",
            title=f"{cfg.data.train}, seed {cfg.seed}",
            key="nll_test",
        )
    results = {
        "rows": final,
        "seconds": round(run.elapsed(), 1),
        "cpu_seconds": None if run.cpu_elapsed() is None else round(run.cpu_elapsed(), 1),
        "seed": cfg.seed,
        "machine": machine(),
        "d_precision": "bf16" if run.bf16 else "fp32",
        "code": code_version(),
    }  # where it finished (the log has each part)
    if run.master:
        atomic_write_text(run.run_dir / "results.json", json.dumps(results, indent=2) + "\n")
    results = distributed.from_master(results)  # every rank returns rank 0's results
    run.progress["finished"] = True
    save(run)
    return results


def results_table(results: dict) -> str:
    """A markdown table of the final rows, with the metrics they have."""
    labels = {"nll_oracle": "NLL-oracle", "nll_test": "NLL-test", "pitch_mse": "pitch MSE"}
    rows = results["rows"]
    keys = [k for k in FINAL_KEYS if any(k in r for r in rows.values())] or ["nll_oracle", "nll_test"]
    header = [labels.get(k, k.replace("self_bleu", "Self-BLEU-").replace("bleu", "BLEU-")) for k in keys]
    lines = ["| model | " + " | ".join(header) + " |", "| --- |" + " ---: |" * len(keys)]
    for name, row in rows.items():
        cells = [f"{row[k]:.3f}" if k in row else "" for k in keys]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
