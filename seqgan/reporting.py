"""What a run reports: each evaluation of a generator, the final rows, samples, tables and plots.

``evaluate`` writes one line of ``metrics.jsonl`` (NLL-oracle on the synthetic task, NLL-test,
BLEU and Self-BLEU on real data, D's loss and accuracy), its TensorBoard scalars and one printed
line; ``finish`` writes the samples of every generator, the NLL plot and ``results.json``.
Under torchrun every rank evaluates its share and only rank 0 writes.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm.auto import tqdm

from . import corpus, metrics, tempered
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
    if phase == "pretrain" and run.valid is not None:  # pre-training keeps the epoch of lowest validation NLL
        record["nll_valid"] = metrics.nll_test(generator, run.valid)
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
    if run.master and (bar.disable or not _terminal(sys.stdout)):
        tqdm.write(f"[{desc} {done}/{bar.total}] {text} ({run.elapsed():.0f}s)")
        run.last_line = time.perf_counter()


HEARTBEAT_SECONDS = 60.0  # without a terminal, a unit of work longer than this prints a line this often


def every_minute(run: Run, text: str) -> None:
    """Inside a long unit of work (an MLE epoch of a large corpus), when the log (stdout) or the bars'
    stream (stderr) is not a terminal: a line when the log has had none for ``HEARTBEAT_SECONDS``."""
    now = time.perf_counter()
    if (
        run.master
        and now - run.last_line >= HEARTBEAT_SECONDS
        and not (_terminal(sys.stdout) and _terminal(sys.stderr))
    ):
        tqdm.write(f"{text} ({run.elapsed():.0f}s)")
        run.last_line = now


def _terminal(stream) -> bool:
    """tqdm's ``disable=None`` test: whether ``stream`` is a terminal (tqdm draws its bars on stderr)."""
    return hasattr(stream, "isatty") and stream.isatty()


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
        if phase == "pretrain" and run.best is not None and run.best.epoch is not None:  # the epoch kept
            rows = [r for r in rows if r["step"] == run.best.epoch]
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
    # the tempered start: the pre-trained G over temperature, read at SeqGAN's Self-BLEU-4 and NLL-test
    swept = None
    if run.master and cfg.sweeps_tempered_start and run.pretrained is not None and "SeqGAN" in final:
        swept = tempered_start(run, final["SeqGAN"])
    results = {
        "rows": final,
        **({"pretrain": pretrain_summary(run)} if run.best is not None else {}),
        **({"tempered_start": swept} if swept is not None else {}),
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


def pretrain_summary(run: Run) -> dict:
    """Which pre-training epoch adversarial training started from, and why (``train.pretrain_keep`` 'best')."""
    return {"keep": "best", **run.best.summary(), "epochs": run.cfg.train.pretrain_g_epochs}


def kept_epoch_line(run: Run) -> str:
    """One line: the pre-training epoch kept, its validation NLL and the last evaluation's."""
    b, epochs = run.best, run.cfg.train.pretrain_g_epochs
    ran = (
        f"stopped early at epoch {b.last_epoch} of {epochs} (patience {b.patience})"
        if b.patience_spent
        else f"ran its {epochs} epochs"
    )
    return (
        f"pre-training {ran}: adversarial training starts from epoch {b.epoch} "
        f"(lowest validation NLL {b.nll:.4f}; epoch {b.last_epoch}: {b.last_nll:.4f})"
    )


TEMPERED_BASES = ("self_bleu", "nll_test")  # where the tempered start is read: SeqGAN's Self-BLEU-4, its NLL-test


def tempered_start(run: Run, seqgan: dict) -> dict:
    """The run's pre-trained G (the one adversarial training started from) swept over
    ``eval.tempered_temperatures`` as ``evaluate`` scores a generator; its curve read at SeqGAN's
    Self-BLEU-4 and at SeqGAN's NLL-test (the cold branch), and SeqGAN's gap to each: SeqGAN minus the
    tempered start, negative better (``tempered.gap``: BLEU as 1 - BLEU). Writes each temperature's
    decoded samples to ``samples/tempered_T0.80.txt``."""
    cfg = run.cfg
    started = time.perf_counter()
    g = run.generator.copy().requires_grad_(False)
    g.load_state_dict(run.pretrained)
    points, decoded = tempered.sweep(
        g,
        cfg.eval.tempered_temperatures,
        cfg.eval.num_samples,
        cfg.seed,
        run.test,
        run.vocab,
        run.bleu_reference,
        run.reference_rows,
        cfg.eval.self_bleu_samples,
    )
    for point, hypotheses in zip(points, decoded):
        point["samples"] = f"samples/tempered_T{point['temperature']:.2f}.txt"
        write_decoded(cfg, run.run_dir / point["samples"], hypotheses)
    order = min(4, cfg.eval.bleu_max_n)
    at, gaps = {}, {}
    for base in TEMPERED_BASES:
        x_key = f"self_bleu{order}" if base == "self_bleu" else "nll_test"
        control = tempered.read_at(points, x_key, seqgan[x_key])
        at[x_key] = control
        gaps[x_key] = (
            None if control is None else {k: tempered.gap(k, seqgan[k], control[k]) for k in seqgan if k in control}
        )
    seconds = round(time.perf_counter() - started, 1)
    tqdm.write(f"tempered start: {len(points)} temperatures of the pre-trained generator in {seconds:.0f} s")
    return {
        "generator": "pretrained" + (f" (epoch {run.best.epoch})" if run.best is not None else ""),
        "temperatures": list(cfg.eval.tempered_temperatures),
        "num_samples": cfg.eval.num_samples,
        "sampling_seed": cfg.seed,
        "seconds": seconds,
        "points": points,
        "at": at,
        "gaps": gaps,
        "gap": "SeqGAN minus the tempered start, negative better: NLL-test and Self-BLEU as they are, "
        "BLEU as 1 - BLEU (the tempered start's BLEU minus SeqGAN's)",
    }


def _label(key: str) -> str:
    labels = {"nll_oracle": "NLL-oracle", "nll_test": "NLL-test", "pitch_mse": "pitch MSE"}
    return labels.get(key, key.replace("self_bleu", "Self-BLEU-").replace("bleu", "BLEU-"))


def results_table(results: dict) -> str:
    """A markdown table of the final rows, with the metrics they have. On text data also the tempered
    start's rows and SeqGAN's gap to each, with a line above the table on what a gap is, and below it
    how long the sweep took and which pre-training epoch was kept."""
    rows, swept, pre = results["rows"], results.get("tempered_start"), results.get("pretrain")
    keys = [k for k in FINAL_KEYS if any(k in r for r in rows.values())] or ["nll_oracle", "nll_test"]

    def line(name: str, values: dict, fmt: str = ".3f") -> str:
        return (
            f"| {name} | "
            + " | ".join(format(values[k], fmt) if values.get(k) is not None else "" for k in keys)
            + " |"
        )

    head, notes = [], []
    table = ["| model | " + " | ".join(_label(k) for k in keys) + " |", "| --- |" + " ---: |" * len(keys)]
    table += [line(name, row) for name, row in rows.items()]
    if swept is not None:
        temps = swept["temperatures"]
        head.append(
            "Tempered start: SeqGAN's own pre-trained generator sampled at the temperature where it matches "
            "SeqGAN. A gap is SeqGAN minus it, negative better: NLL-test and Self-BLEU as they are, BLEU as "
            "1 − BLEU (the tempered start's BLEU minus SeqGAN's)."
        )
        for x_key, control in swept["at"].items():
            where = f"SeqGAN's {_label(x_key)}"
            if control is None:
                table.append(line(f"tempered start at {where}: not reached at T {temps[0]:g}..{temps[-1]:g}", {}))
                continue
            table.append(line(f"tempered start at {where} (T {control['temperature']:.2f})", control))
            table.append(line(f"gap: SeqGAN − tempered start at {where}", swept["gaps"][x_key], "+.3f"))
        notes.append(
            f"tempered start: {swept['generator']} at T = {temps[0]:g}..{temps[-1]:g} ({len(temps)} temperatures, "
            f"{swept['num_samples']} samples each) took {swept['seconds']:.0f} s (results.json 'tempered_start'; "
            "--set eval.tempered_start=false skips it)"
        )
    if pre is not None and pre.get("kept_epoch") is not None:
        ran = (
            f"stopped early at epoch {pre['last_epoch']}" if pre["stopped_early"] else f"ran its {pre['epochs']} epochs"
        )
        notes.append(
            f"pre-training {ran}; the pretrained row and adversarial training start from epoch {pre['kept_epoch']} "
            f"(lowest validation NLL {pre['nll_valid']:.4f}; epoch {pre['last_epoch']}: {pre['last_nll_valid']:.4f})"
        )
    return "\n".join([*head, *([""] if head else []), *table, *([""] if notes else []), *notes])
