"""Real data over seeds, with a tempered control (issue 26, item 5): Poems, Obama and Nottingham at
today's defaults, SeqGAN against the MLE row over seeds, and against what sharpening alone gives.

The runs are ``scripts/real_seeds.sh``'s: ``OUT/TASK/seedS``, each an ordinary ``seqgan train`` run
of ``configs/TASK.yaml`` with its MLE row. For every finished run (``results.json``):

* the final BLEU-2..n, Self-BLEU-2..n and NLL-test of SeqGAN and of the MLE row (``results.json``,
  the last evaluation in ``metrics.jsonl``); per task, mean ± std over seeds and Welch's p of SeqGAN
  against MLE over the per-seed values (the unit is the seed; ``seqgan.stats``), with the paired
  t-test beside it, since both rows of a seed start from one pre-trained generator;
* the tempered control: the run's pre-trained generator (the one both rows start from) sampled at
  each temperature, with BLEU against the run's own test references, Self-BLEU and NLL-test under
  the tempered distribution, computed as ``reporting.evaluate`` does for the run. The curve's BLEU
  at SeqGAN's NLL-test (on the cold branch, T up to the one of lowest NLL-test: sharpening) and at
  SeqGAN's Self-BLEU, and the gap to it: the gain beyond what a temperature gives;
* every gap is the model minus its control, negative better (``gap``): BLEU, where higher is
  better, is taken as 1 - BLEU, so a BLEU gap is the control's BLEU minus SeqGAN's;
* the updates of each row over the run: SeqGAN's ``rounds x g_steps`` policy-gradient batches
  against the MLE row's ``rounds x mle_epochs_per_round`` epochs of the training set.

Each sweep's decoded samples are written beside its numbers, so every BLEU can be computed again.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import torch

from .. import corpus, metrics
from ..bleu import BleuReference
from ..build import data_dir_of
from ..reporting import write_decoded
from ..runtime.hardware import machine
from ..stats import format_p, mean_std, welch_p
from ..tempered import curve_at, gap
from .own_start import over_seeds

DEFAULT_TEMPERATURES = [round(0.7 + 0.1 * i, 1) for i in range(7)]  # 0.7..1.3
ROWS = ("SeqGAN", "MLE")
BASES = ("nll_test", "self_bleu")  # where the tempered curve is read: at SeqGAN's NLL-test, at its Self-BLEU


# -- the runs --------------------------------------------------------------------------------------------


def finished_runs(runs: Path) -> dict[str, list[Path]]:
    """The finished ``TASK/seedS`` run folders under ``runs`` (results.json), by task and seed; one
    printed line for each that has not finished."""
    done: dict[str, list[Path]] = {}
    for task in sorted(d for d in runs.iterdir() if d.is_dir() and d.name != "real_sweeps"):
        seeds = [d for d in task.iterdir() if d.is_dir() and re.fullmatch(r"seed\d+", d.name)]
        for d in sorted(seeds, key=lambda d: int(d.name[4:])):
            if (d / "results.json").is_file():
                done.setdefault(task.name, []).append(d)
            else:
                print(f"real: {task.name}/{d.name} skipped, unfinished (no results.json)", flush=True)
    return done


def updates(cfg, train_rows: int) -> dict:
    """Generator updates over the adversarial rounds: SeqGAN's policy-gradient batches against the MLE
    row's minibatches (``rows.mle_epochs_per_round`` epochs of ``train_rows`` rows a round); both
    start after the same ``pretrain_g_epochs`` of MLE pre-training."""
    tc = cfg.train
    per_epoch = math.ceil(train_rows / tc.batch_size)  # data.batches keeps the last, partial batch
    return {
        "rounds": tc.rounds,
        "seqgan_pg_batches": tc.rounds * tc.g_steps,
        "mle_epochs": tc.rounds * cfg.rows.mle_epochs_per_round,
        "mle_batches": tc.rounds * cfg.rows.mle_epochs_per_round * per_epoch,
        "pretrain_batches": tc.pretrain_g_epochs * per_epoch,
        "batches_per_epoch": per_epoch,
        "batch_size": tc.batch_size,
    }


# -- the tempered control ----------------------------------------------------------------------------------


def _read_sweep(path: Path, key: dict) -> list[dict] | None:
    """A sweep written before with the same run, grid, sample count and seed, else None (a re-run
    resumes: runs swept before are read back)."""
    if not path.is_file():
        return None
    saved = json.loads(path.read_text(encoding="utf-8"))
    return saved["points"] if {k: saved.get(k) for k in key} == key else None


def sweep(run_dir: Path, temperatures: list[float], num_samples: int, seed: int, folder: Path) -> list[dict]:
    """The pre-trained generator of ``run_dir`` at each temperature: BLEU-2..n against the run's test
    references, Self-BLEU-2..n of the first ``eval.self_bleu_samples`` samples and NLL-test under the
    tempered distribution, as ``reporting.evaluate`` computes them for the run. Writes each point's
    decoded samples (``pretrained_T1.00.txt``) and ``sweep.json`` to ``folder``.

    Returns:
        [{"temperature", "nll_test", "bleu2", ..., "self_bleu2", ..., "samples"}] in the order of ``temperatures``
    """
    from ..lifecycle import load_run_models

    key = {"run": str(run_dir), "temperatures": temperatures, "num_samples": num_samples, "sampling_seed": seed}
    points = _read_sweep(folder / "sweep.json", key)
    if points is not None:
        return points
    _, cfg, _, vocab, g = load_run_models(run_dir, row="pretrained")
    if vocab is None:
        raise ValueError(f"{run_dir}: a synthetic-task run; this study is for real data (seqgan experiment own-start)")
    # the run's data and BLEU references, built as run.Run builds them
    data = corpus.load_corpus(cfg.data, data_dir_of(cfg))
    reference_rows = corpus.cut_sequences(data.test_tokens, cfg.data.max_len, cfg.data.overflow)
    reference = BleuReference(reference_rows, max_n=cfg.eval.bleu_max_n)
    points = []
    for tau in temperatures:
        torch.manual_seed(seed)
        samples = g.sample(num_samples, temperature=tau)  # (num, T)
        hypotheses = [vocab.decode(row) for row in samples.tolist()]
        name = f"pretrained_T{tau:.2f}.txt"
        write_decoded(cfg, folder / name, hypotheses)
        point = {"temperature": tau, "nll_test": metrics.nll_test(g, data.test, tau)}
        point.update(
            metrics.real_data_metrics(
                reference, reference_rows, hypotheses, cfg.eval.self_bleu_samples, cfg.data.source == "midi"
            )
        )
        points.append(point | {"samples": name})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sweep.json").write_text(json.dumps(key | {"points": points}, indent=2) + "\n", encoding="utf-8")
    return points


# -- one task over seeds ----------------------------------------------------------------------------------


def run_result(run_dir: Path, temperatures: list[float], num_samples: int, seed: int, folder: Path) -> dict:
    """One finished run: its final rows, updates, machine, sweep and SeqGAN's gaps to the curve."""
    from ..config import load_config

    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    missing = [r for r in ("SeqGAN", "MLE", "pretrained") if r not in results["rows"]]
    if missing:
        raise ValueError(f"{run_dir}/results.json: no {', '.join(missing)} row (the runs need rows.names=[mle])")
    cfg = load_config(run_dir / "config.yaml", [])
    stats = json.loads((run_dir / "data_stats.json").read_text(encoding="utf-8"))
    points = sweep(run_dir, temperatures, num_samples, seed, folder)
    seqgan = results["rows"]["SeqGAN"]
    orders = [int(k[4:]) for k in seqgan if re.fullmatch(r"bleu\d+", k)]
    gaps = {}
    for n in orders:
        for base in BASES:
            x_key = "nll_test" if base == "nll_test" else f"self_bleu{n}"
            at = curve_at(points, x_key, f"bleu{n}", seqgan[x_key])
            gaps[f"bleu{n}@{base}"] = {
                "curve": at,
                "gap": None if at is None else gap(f"bleu{n}", seqgan[f"bleu{n}"], at),
            }
    return {
        "seed": int(run_dir.name[4:]),
        "dir": str(run_dir),
        "rows": {r: results["rows"][r] for r in ("pretrained", "MLE", "SeqGAN")},
        "machine": results.get("machine"),
        "d_precision": results.get("d_precision"),
        "code": results.get("code"),
        "seconds": results.get("seconds"),
        "updates": updates(cfg, stats["train"]["rows"][0]),
        "sweep": points,
        "sweep_dir": str(folder),
        "gaps": gaps,
    }


def metric_keys(runs: list[dict]) -> list[str]:
    """The metrics every run of a task reports, in the table's order."""
    keys = ["nll_test", *(f"bleu{n}" for n in range(2, 6)), *(f"self_bleu{n}" for n in range(2, 6)), "pitch_mse"]
    return [k for k in keys if all(k in r["rows"][row] for r in runs for row in ROWS)]


def task_summary(runs: list[dict]) -> dict:
    """Per metric: each row's mean ± std over seeds, Welch's p of SeqGAN against MLE and the paired
    t-test; per gap to the tempered curve: mean, std, 95 % interval and t-test against 0."""
    rows = {}
    for key in metric_keys(runs):
        values = {row: [r["rows"][row][key] for r in runs] for row in ("pretrained", *ROWS)}
        paired = over_seeds([s - m for s, m in zip(values["SeqGAN"], values["MLE"])])
        rows[key] = {
            **{f"{row}_per_seed": values[row] for row in values},
            **{f"{row}_mean": mean_std(values[row])[0] for row in values},
            **{f"{row}_std": mean_std(values[row])[1] for row in values},
            "gap": gap(key, mean_std(values["SeqGAN"])[0], mean_std(values["MLE"])[0]),  # SeqGAN - MLE
            "welch_p": welch_p(values["SeqGAN"], values["MLE"]),
            "paired_p": paired["t_p"],
        }
    gaps = {}
    for name in runs[0]["gaps"]:
        per = [(r["seed"], r["gaps"][name]["gap"]) for r in runs]
        values = [g for _, g in per if g is not None]
        gaps[name] = {**over_seeds(values), "per_seed": dict(per), "seeds_left_out": [s for s, g in per if g is None]}
    return {"metrics": rows, "gaps": gaps}


def run(runs: Path, temperatures: list[float] | None, num_samples: int, sampling_seed: int, out: Path) -> dict:
    """The study on the finished runs under ``runs``; writes real.{md,json,png} to ``out`` and each
    run's sweep (numbers and decoded samples) under ``out/real_sweeps/TASK/seedS``."""
    temperatures = DEFAULT_TEMPERATURES if temperatures is None else temperatures
    if min(temperatures) <= 0 or not any(abs(t - 1.0) < 1e-9 for t in temperatures):
        raise ValueError(f"--temperatures must be positive and hold 1.0 (the generator as trained), got {temperatures}")
    if num_samples < 2:
        raise ValueError(f"--num must be at least 2 (Self-BLEU needs two samples), got {num_samples}")
    if not runs.is_dir():
        raise ValueError(f"--runs {runs}: not a directory (scripts/real_seeds.sh's OUT, holding TASK/seedS runs)")
    folders = finished_runs(runs)
    if not folders:
        raise ValueError(f"--runs {runs}: no finished TASK/seedS run (with results.json)")
    tasks = {}
    for task, dirs in folders.items():
        per_run = [
            run_result(d, temperatures, num_samples, sampling_seed, out / "real_sweeps" / task / d.name) for d in dirs
        ]
        tasks[task] = {"seeds": [r["seed"] for r in per_run], "runs": per_run, **task_summary(per_run)}
    grid = ",".join(f"{t:g}" for t in temperatures)
    summary = {
        "command": f"seqgan experiment real --runs {runs} --temperatures {grid} --num {num_samples} "
        f"--seed {sampling_seed} --out {out}",
        "runs": str(runs),
        "temperatures": temperatures,
        "num_samples": num_samples,
        "sampling_seed": sampling_seed,
        "machine": machine(),
        "tasks": tasks,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "real.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (out / "real.md").write_text(markdown(summary), encoding="utf-8")
    _plot(summary, out / "real.png")
    return summary


# -- the report ---------------------------------------------------------------------------------------------


def _label(key: str) -> str:
    labels = {"nll_test": "NLL-test", "pitch_mse": "pitch MSE"}
    return labels.get(key, key.replace("self_bleu", "Self-BLEU-").replace("bleu", "BLEU-"))


def _f(v: float | None, fmt: str = ".3f") -> str:
    if v is None:
        return "outside the curve"
    return "n/a" if math.isnan(v) else format(v, fmt)


def _pm(mean: float, std: float, fmt: str = ".3f") -> str:
    return f"{_f(mean, fmt)} ± {_f(std)}"


def markdown(summary: dict) -> str:
    """real.md: per task the rows over seeds with p-values, the tempered curve, the gaps, the updates,
    the machines; the command at the top."""
    temps = summary["temperatures"]
    lines = [
        "# Real data over seeds: SeqGAN, the MLE row and the tempered pre-trained generator",
        "",
        f"Command: `{summary['command']}`  ",
        f"Tempered control: temperatures {temps[0]:g}..{temps[-1]:g} ({len(temps)} points), "
        f"{summary['num_samples']} samples a point, sampling seed {summary['sampling_seed']}; "
        f"analysis machine: {summary['machine']}",
        "",
        "Rows: the final evaluation of each run (results.json; BLEU against the run's test split, Self-BLEU on "
        "its first eval.self_bleu_samples samples). Over seeds (the unit is the seed): mean ± sample std; "
        "Welch p: Welch's t-test of SeqGAN against MLE over the per-seed values; paired p: the paired t-test "
        "(both rows of a seed start from one pre-trained generator). Every gap is the model minus its control "
        "(the MLE row, or the tempered pre-trained generator), negative better: BLEU, where higher is better, "
        "is taken as 1 - BLEU, so its gap is the control's BLEU minus SeqGAN's.",
        "",
    ]
    for task, t in summary["tasks"].items():
        runs = t["runs"]
        lines += [f"## {task}", "", f"Seeds: {', '.join(map(str, t['seeds']))}", ""]
        lines += [
            "| metric | pre-trained | MLE | SeqGAN | gap SeqGAN - MLE (BLEU as 1 - BLEU; negative: better) "
            "| Welch p | paired p |",
            "| --- |" + " ---: |" * 6,
        ]
        for key, m in t["metrics"].items():
            lines.append(
                f"| {_label(key)} | {_pm(m['pretrained_mean'], m['pretrained_std'])} | "
                f"{_pm(m['MLE_mean'], m['MLE_std'])} | {_pm(m['SeqGAN_mean'], m['SeqGAN_std'])} | "
                f"{_f(m['gap'], '+.3f')} | {format_p(m['welch_p'])} | "
                f"{format_p(m['paired_p'])} |"
            )
        lines += [
            "",
            "Tempered control: the gap of SeqGAN to the pre-trained generator's tempered curve, read at SeqGAN's "
            "NLL-test (cold branch: T up to the lowest NLL-test) or at its Self-BLEU of the same order, in 1 - BLEU: "
            "the curve's BLEU there minus SeqGAN's. Negative: SeqGAN gains more than sharpening alone. Over seeds: "
            "mean ± std, 95 % t-interval, t-test against 0.",
            "",
            "| BLEU | read at SeqGAN's | seeds | curve there | SeqGAN | gap, SeqGAN - curve in 1 - BLEU "
            "(negative: better) | 95 % CI | p |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, g in t["gaps"].items():
            bleu, base = name.split("@")
            curve = [r["gaps"][name]["curve"] for r in runs if r["gaps"][name]["curve"] is not None]
            left = f" (outside: {', '.join(map(str, g['seeds_left_out']))})" if g["seeds_left_out"] else ""
            lines.append(
                f"| {_label(bleu)} | {'NLL-test' if base == 'nll_test' else 'Self-BLEU'} | {g['n']}{left} | "
                f"{_f(sum(curve) / len(curve)) if curve else 'outside the curve'} | "
                f"{_f(t['metrics'][bleu]['SeqGAN_mean'])} | {_pm(g['mean'], g['std'], '+.3f')} | "
                f"[{_f(g['ci95'][0], '+.3f')}, {_f(g['ci95'][1], '+.3f')}] | {format_p(g['t_p'])} |"
            )
        keys = ["nll_test", *[k for k in runs[0]["sweep"][0] if re.fullmatch(r"(self_)?bleu\d+", k)]]
        lines += ["", "The pre-trained generator over temperature (mean over seeds):", ""]
        lines += ["| T | " + " | ".join(_label(k) for k in keys) + " |", "| ---: |" + " ---: |" * len(keys)]
        for i, tau in enumerate(temps):
            cells = [_f(sum(r["sweep"][i][k] for r in runs) / len(runs)) for k in keys]
            lines.append(f"| {tau:.2f} | " + " | ".join(cells) + " |")
        u = runs[0]["updates"]
        lines += [
            "",
            f"Updates over the {u['rounds']} adversarial rounds, after {u['pretrain_batches']} MLE pre-training "
            f"batches shared by both rows: SeqGAN {u['seqgan_pg_batches']} policy-gradient batches of "
            f"{u['batch_size']} samples (train.g_steps a round); the MLE row {u['mle_epochs']} epochs of the "
            f"training set (rows.mle_epochs_per_round a round), {u['mle_batches']} minibatches of {u['batch_size']} "
            f"rows: {u['mle_batches'] / max(u['seqgan_pg_batches'], 1):.0f} times as many generator updates.",
            "",
            "Runs (machine, D precision, training time, code, from each run's results.json):",
            "",
        ]
        for r in runs:
            lines.append(
                f"- seed {r['seed']}: {r['machine'] or 'machine not recorded'}, D {r['d_precision'] or 'n/a'}, "
                f"{(r['seconds'] or 0) / 60:.1f} min, {r['code'] or 'code not recorded'}; decoded samples: "
                f"`{r['dir']}/samples_text.txt`, `samples_mle_text.txt`, `samples/`; sweep: `{r['sweep_dir']}/`"
            )
        lines.append("")
    lines += ["![real data](real.png)", ""]
    return "\n".join(lines)


def _plot(summary: dict, path: Path) -> None:
    """Per task: BLEU (the lowest order) against NLL-test, the pre-trained curve of each seed and the
    SeqGAN and MLE points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = summary["tasks"]
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.2 * len(tasks), 4.2), squeeze=False)
    for ax, (task, t) in zip(axes[0], tasks.items()):
        bleu = next(k for k in t["metrics"] if k.startswith("bleu"))
        for i, r in enumerate(t["runs"]):
            pts = sorted(r["sweep"], key=lambda p: p["temperature"])
            label = "pre-trained, tempered" if i == 0 else None
            ax.plot([p["nll_test"] for p in pts], [p[bleu] for p in pts], color="tab:green", marker=".", label=label)
            for row, color in (("SeqGAN", "tab:red"), ("MLE", "tab:blue")):
                ax.scatter(r["rows"][row]["nll_test"], r["rows"][row][bleu], color=color, label=row if i == 0 else None)
        ax.set_xlabel("NLL-test (nats / token)")
        ax.set_ylabel(_label(bleu))
        ax.set_title(f"{task}, {len(t['runs'])} seed(s)")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
