"""The paper's synthetic experiments, one command each: Table 1, training strategies, temperature.

Each experiment is a set of ordinary ``seqgan train`` runs (subprocesses, so that seeds run side
by side on one thread each and any run can be resumed or re-run alone), then a summary written to
an output directory: markdown and CSV tables, JSON, figures, and the exact commands. Re-running an
experiment reuses finished runs and resumes interrupted ones.

* ``table1``: every row of the paper's Table 1 (Random, MLE, scheduled sampling, PG-BLEU,
  SeqGAN) over several seeds; mean +- std, and Welch's t-test of each row against SeqGAN over the
  per-seed means (the seed is the unit: pooling the sequences of several seeds would count one
  run's samples as independent replicates).
* ``strategies``: the paper's Figure 3, four settings of g-steps, d-steps and k.
* ``temperature``: quality (NLL-oracle) against coverage (NLL-test) of trained MLE and SeqGAN
  generators over a sweep of sampling temperatures (Caccia et al., ICLR 2020).

``budget`` scales the training of every run alike: MLE pre-training epochs, D pre-training sets
and adversarial rounds (strategies: generator updates) are multiplied by it; 1.0 is the config's.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import shlex
import time
from pathlib import Path

import torch

from .. import metrics
from ..config import load_config
from ..jobs import budget_overrides, run_all, train_command, wall_time
from ..runtime.hardware import machine
from ..stats import format_p, mean_std, welch_p

TABLE1_ROWS = ["Random", "MLE", "SS", "PG-BLEU", "SeqGAN"]  # the paper's order
# Figure 3 of the paper: (g-steps, d-steps, k)
PAPER_STRATEGIES = {"a": (100, 1, 10), "b": (30, 1, 30), "c": (1, 1, 10), "d": (1, 5, 3)}


# -- Table 1 ------------------------------------------------------------------------------------------


def table1(
    config: str, seeds: list[int], budget: float, out: Path, jobs: int, overrides: list[str], device: str | None = None
) -> dict:
    """Table 1 over ``seeds``, ``jobs`` runs at a time; ``device`` (cpu, cuda, cuda:N) is every run's
    ``--set device=...``. On one GPU the runs share it as separate processes: while one waits on the
    host (sampling's Python loop, BLEU, a log line) another's kernels run."""
    device_overrides = [f"device={device}"] if device else []
    cfg = load_config(config, [*overrides, *device_overrides])
    extra = [
        *overrides,
        *device_overrides,
        *budget_overrides(cfg, budget),
        "rows.names=[random, mle, scheduled_sampling, pg_bleu]",
    ]
    final_cfg = load_config(config, extra)  # fail here, not in every subprocess
    commands = [(out / f"seed{s}", train_command(config, out / f"seed{s}", s, extra)) for s in seeds]
    started = time.time()
    ran = run_all(commands, jobs)
    wall = wall_time(time.time() - started, ran, out / "table1.json")

    previous = json.loads((out / "table1.json").read_text()) if ran == 0 and (out / "table1.json").exists() else {}
    rows = table1_rows({s: json.loads((out / f"seed{s}" / "results.json").read_text()) for s in seeds})
    summary = {
        "command": f"seqgan experiment table1 --config {config} --seeds {','.join(map(str, seeds))} --budget {budget}"
        + (f" --device {device}" if device else "")
        + "".join(f" --set {o}" for o in overrides),
        "seeds": seeds,
        "budget": budget,
        # reused runs: what trained them, where their summary says (older summaries do not)
        "jobs": previous.get("jobs") if previous else jobs,
        "device": previous.get("device") if previous else final_cfg.device,
        # every run reused: the machine that trained them, as wall_time keeps their wall time
        "machine": previous.get("machine", _machine(final_cfg.device)),
        "wall_seconds": round(wall, 1),
        "note": previous.get("note", ""),
        "train": {k: getattr(final_cfg.train, k) for k in ("pretrain_g_epochs", "pretrain_d_steps", "rounds")},
        "samples_per_row_and_seed": final_cfg.eval.num_samples,
        "order_by_nll_oracle": [r["row"] for r in sorted(rows, key=lambda r: r["nll_oracle_mean"])],
        "rows": rows,
        "run_commands": [shlex.join(cmd) for _, cmd in commands],
    }
    _write_table1(out, summary)
    return summary


def _machine(device: str) -> str:
    """``machine()``, and the GPU when the runs use one."""
    if device.startswith("cuda") and torch.cuda.is_available():
        return f"{machine()}, {torch.cuda.get_device_name(torch.device(device))}"
    return machine()


def table1_rows(results: dict[int, dict]) -> list[dict]:
    """Mean +- std over seeds of each Table 1 row, and Welch's p against SeqGAN over the per-seed
    final NLL-oracle (``results``: seed -> that run's ``results.json``)."""
    seeds = sorted(results)
    seqgan_vals = [results[s]["rows"]["SeqGAN"]["nll_oracle"] for s in seeds]
    table = []
    for row in TABLE1_ROWS:
        oracle_vals = [results[s]["rows"][row]["nll_oracle"] for s in seeds]
        test_vals = [results[s]["rows"][row]["nll_test"] for s in seeds]
        m_o, s_o = mean_std(oracle_vals)
        m_t, s_t = mean_std(test_vals)
        table.append(
            {
                "row": row,
                "nll_oracle_mean": m_o,
                "nll_oracle_std": s_o,
                "nll_test_mean": m_t,
                "nll_test_std": s_t,
                "p_seeds": float("nan") if row == "SeqGAN" else welch_p(oracle_vals, seqgan_vals),
                "nll_oracle_per_seed": oracle_vals,
                "nll_test_per_seed": test_vals,
            }
        )
    return table


def _write_table1(out: Path, summary: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "table1.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    with open(out / "table1.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "row",
                "nll_oracle_mean",
                "nll_oracle_std",
                "nll_test_mean",
                "nll_test_std",
                "p_vs_seqgan_over_seeds",
                "seeds",
            ]
        )
        for r in summary["rows"]:
            w.writerow(
                [
                    r["row"],
                    f"{r['nll_oracle_mean']:.4f}",
                    f"{r['nll_oracle_std']:.4f}",
                    f"{r['nll_test_mean']:.4f}",
                    f"{r['nll_test_std']:.4f}",
                    r["p_seeds"],
                    len(summary["seeds"]),
                ]
            )
    n = len(summary["seeds"])
    lines = [
        f"| row | NLL-oracle (mean ± std, {n} seeds) | NLL-test | p vs SeqGAN (Welch, {n} seeds) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for r in summary["rows"]:
        lines.append(
            f"| {r['row']} | {r['nll_oracle_mean']:.3f} ± {r['nll_oracle_std']:.3f} | "
            f"{r['nll_test_mean']:.3f} ± {r['nll_test_std']:.3f} | {format_p(r['p_seeds'])} |"
        )
    text = "\n".join(
        [
            "# Table 1 (synthetic oracle)",
            "",
            f"Command: `{summary['command']}`  ",
            f"Seeds: {', '.join(map(str, summary['seeds']))}; budget {summary['budget']} "
            f"(MLE pre-training {summary['train']['pretrain_g_epochs']} epochs, "
            f"D pre-training {summary['train']['pretrain_d_steps']} sets, "
            f"{summary['train']['rounds']} adversarial rounds; "
            "every row trains for the same rounds from the same pre-trained G)  ",
            f"Machine: {summary['machine']}; "
            + (f"device {summary['device']}, {summary['jobs']} run(s) at a time; " if summary.get("device") else "")
            + f"wall time {summary['wall_seconds'] / 60:.1f} min"
            + (f" ({summary['note']})" if summary.get("note") else ""),
            "",
            *lines,
            "",
            f"Order by mean NLL-oracle (lower is better): {' < '.join(summary['order_by_nll_oracle'])}. "
            "The paper's: SeqGAN < PG-BLEU < SS < MLE < Random.",
            "",
            f"Each figure is a run's final evaluation ({summary['samples_per_row_and_seed']} samples a row and seed). "
            "p: Welch's t-test of the row's per-seed NLL-oracle against SeqGAN's; the seed is the unit, so with "
            f"{n} seeds a p-value is coarse. No test pools sequences over seeds.",
            "",
            "Per-seed runs (config, metrics, results; samples and checkpoints are not committed): `seed*/`; "
            "each was run as:",
            "",
            *[f"    {c}" for c in summary["run_commands"]],
            "",
        ]
    )
    (out / "table1.md").write_text(text, encoding="utf-8")


# -- training strategies (Figure 3) -----------------------------------------------------------------------


def strategies(
    config: str, seed: int, budget: float, out: Path, jobs: int, overrides: list[str], updates: int = 200
) -> dict:
    """Each strategy gets the same number of generator updates (``updates`` x ``budget``; the paper's
    protocol makes 200), so rounds = updates / g-steps. Pre-training is the config's, the same for
    all four (same seed), so the curves part only where adversarial training starts."""
    if budget <= 0:
        raise ValueError(f"--budget must be positive, got {budget}")
    base = [*overrides, "rows.names=[]", "eval.every=1"]
    total_updates = max(1, round(updates * budget))
    commands, settings = [], {}
    for name, (g, d, k) in PAPER_STRATEGIES.items():
        rounds = max(1, math.ceil(total_updates / g))
        extra = [*base, f"train.g_steps={g}", f"train.d_steps={d}", f"train.d_epochs={k}", f"train.rounds={rounds}"]
        load_config(config, extra)
        run_dir = out / f"strategy_{name}"
        commands.append((run_dir, train_command(config, run_dir, seed, extra)))
        settings[name] = {"g_steps": g, "d_steps": d, "k": k, "rounds": rounds}
    started = time.time()
    ran = run_all(commands, jobs)
    wall = wall_time(time.time() - started, ran, out / "strategies.json")
    curves = {}
    for name in PAPER_STRATEGIES:
        records = metrics.read_metrics(out / f"strategy_{name}" / "metrics.jsonl")
        pre = [(r["step"], r["nll_oracle"]) for r in records if r["phase"] == "pretrain"]
        adv = [r for r in records if r["phase"] == "adversarial"]
        g = settings[name]["g_steps"]
        curves[name] = {
            "pretrain": pre,
            "adversarial": [(r["round"] * g, r["nll_oracle"]) for r in adv],
            "final_nll_oracle": adv[-1]["nll_oracle"],
            "final_nll_test": adv[-1]["nll_test"],
        }
    summary = {
        "command": f"seqgan experiment strategies --config {config} --seed {seed} --budget {budget} --updates {updates}"
        + "".join(f" --set {o}" for o in overrides),
        "seed": seed,
        "budget": budget,
        "generator_updates": total_updates,
        "machine": machine(),
        "wall_seconds": round(wall, 1),
        "settings": settings,
        "curves": curves,
        "run_commands": [shlex.join(cmd) for _, cmd in commands],
    }
    (out / "strategies.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    _plot_strategies(summary, out / "strategies.png")
    lines = [
        "| setting | g-steps | d-steps | k | rounds | generator updates | D epochs | NLL-oracle at the start | "
        "final NLL-oracle | final NLL-test |",
        "| --- |" + " ---: |" * 9,
    ]
    for name, s in settings.items():
        c = curves[name]
        lines.append(
            f"| ({name}) | {s['g_steps']} | {s['d_steps']} | {s['k']} | {s['rounds']} | {s['rounds'] * s['g_steps']} | "
            f"{s['rounds'] * s['d_steps'] * s['k']} | "
            f"{c['adversarial'][0][1]:.3f} | {c['final_nll_oracle']:.3f} | {c['final_nll_test']:.3f} |"
        )
    (out / "strategies.md").write_text(
        "\n".join(
            [
                "# Training strategies (the paper's Figure 3)",
                "",
                f"Command: `{summary['command']}`  ",
                f"Seed {seed}; every setting makes at least {total_updates} generator updates, in whole rounds; "
                f"machine: {summary['machine']}; wall time {wall / 60:.1f} min",
                "",
                *lines,
                "",
                "![strategies](strategies.png)",
                "",
                "Runs:",
                "",
                *[f"    {c}" for c in summary["run_commands"]],
                "",
            ]
        ),
        encoding="utf-8",
    )
    return summary


def _plot_strategies(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharey=True)
    for ax, (name, s) in zip(axes.flat, summary["settings"].items()):
        c = summary["curves"][name]
        pre_x = [x for x, _ in c["pretrain"]]
        start = pre_x[-1] if pre_x else 0
        if c["pretrain"]:
            ax.plot(pre_x, [y for _, y in c["pretrain"]], color="tab:gray", label="MLE pre-training")
        xs = [start + x for x, _ in c["adversarial"]]
        ax.plot(xs, [y for _, y in c["adversarial"]], color="tab:red", marker=".", label="SeqGAN")
        ax.axvline(start, color="black", linestyle="--", linewidth=1)
        ax.set_title(f"({name}) g-steps {s['g_steps']}, d-steps {s['d_steps']}, k {s['k']}")
        ax.set_xlabel("pre-training epochs, then generator updates")
        ax.set_ylabel("NLL-oracle")
    axes.flat[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# -- quality against diversity ----------------------------------------------------------------------------

TEMPERATURE_ROWS = (("pretrained", "pretrained"), ("MLE", "mle"), ("SeqGAN", "seqgan"))  # label, checkpoint row


def curve_at_nll_test(curve: list[tuple[float, float]], nll_test: float) -> float | None:
    """The NLL-oracle of a temperature curve of (nll_test, nll_oracle) points at ``nll_test``, by
    linear interpolation along NLL-test; None where the curve does not reach that NLL-test."""
    pts = sorted(curve)
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x0 <= nll_test <= x1:
            y = y0 if x1 == x0 else y0 + (y1 - y0) * (nll_test - x0) / (x1 - x0)
            return y
    return None


def sweep(g, oracle, test: torch.Tensor, temperatures: list[float], num_samples: int, seed: int) -> list[dict]:
    """One generator's points of quality against coverage: at each temperature, the oracle's NLL of
    ``num_samples`` samples drawn with the sampling seed ``seed`` (the same draw of noise at every
    temperature), and the NLL of the held-out ``test`` sequences (num_test, seq_len) under the same
    tempered distribution."""
    points = []
    for tau in temperatures:
        torch.manual_seed(seed)
        samples = g.sample(num_samples, temperature=tau)
        seq_nll = oracle.token_nll(samples.cpu()).mean(dim=1)  # (num_samples,)
        points.append(
            {
                "temperature": tau,
                "nll_oracle": seq_nll.mean().item(),
                # the sampling noise of the point: standard error of the mean over sequences
                "nll_oracle_se": (seq_nll.std() / len(seq_nll) ** 0.5).item(),
                "nll_test": g.nll(test, temperature=tau),
            }
        )
    return points


def run_key(run_dir: Path) -> str:
    """What identifies the trained run a sweep was made from: the sha256 of its results.json (written
    once per run), first 16 hex digits. A path does not: runs are moved and studies cloned."""
    return hashlib.sha256((Path(run_dir) / "results.json").read_bytes()).hexdigest()[:16]


def _saved_sweeps(path: Path, temperatures: list[float], num_samples: int, seed: int) -> dict:
    """The per-run sweeps of a temperature.json written before with the same grid, sample count and
    sampling seed, by run key; {} when there is none. A sweep written before sweeps were keyed holds
    no ``run_key``: it is filed under its run's last two folders (``("seed12", "paper")``), so that
    a run made in another folder and moved (results/own_start's seeds 12-14 were swept as
    ``os_part12/seed12/paper``) is still found; writing the summary again keys it."""
    if not path.is_file():
        return {}
    saved = json.loads(path.read_text(encoding="utf-8"))
    same = (saved.get("temperatures"), saved.get("num_samples"), saved.get("sampling_seed"))
    if same != (temperatures, num_samples, seed):
        return {}
    found = {}
    for r in saved["per_run"]:
        r = {"machine": saved.get("machine"), **r}  # an older file records the machine once, for every run
        found[r["run_key"] if "run_key" in r else Path(r["run"]).parts[-2:]] = r
    return found


def _sweep_run(run_dir: Path, temperatures: list[float], num_samples: int, seed: int) -> dict[str, list[dict]]:
    """The pre-trained, MLE-row and SeqGAN generators of a finished run swept over ``temperatures``
    (needs the run's checkpoint)."""
    from ..data import oracle_corpus
    from ..lifecycle import MissingRow, load_run_models

    curves: dict[str, list[dict]] = {}
    test = None  # the run's held-out oracle data: drawn once, shared by its rows
    for label, name in TEMPERATURE_ROWS:
        try:
            _, cfg, oracle, _, g = load_run_models(run_dir, row=name)
        except MissingRow as e:
            # a run from an older seqgan saved no pre-trained G; a run with rows.names=[]
            # (a tuning trial, a confirmation run) has no MLE row: its sweep is the others'
            print(f"seqgan: {e}; its {label} curve is left out", flush=True)
            continue
        if oracle is None:
            raise ValueError(f"{run_dir}: a real-data run; the temperature sweep needs the synthetic oracle")
        if test is None:
            _, test = oracle_corpus(oracle, cfg.oracle.num_train, cfg.oracle.num_test, seed=cfg.oracle.seed)
        curves[label] = sweep(g, oracle, test, temperatures, num_samples, seed)
    return curves


def saved_sweep(out: Path, run_dir: Path, temperatures: list[float], num_samples: int, seed: int) -> dict | None:
    """The sweep of ``run_dir`` in ``out``/temperature.json with this grid, sample count and seed, or
    None: whether ``temperature`` would read it back instead of sampling (and needing the checkpoint)."""
    saved = _saved_sweeps(out / "temperature.json", temperatures, num_samples, seed)
    return saved.get(run_key(run_dir)) or saved.get(Path(run_dir).parts[-2:])


def temperature(run_dirs: list[Path], temperatures: list[float], num_samples: int, out: Path, seed: int = 0) -> dict:
    """NLL-oracle of samples at each temperature, and NLL-test under the same tempered distribution,
    for the pre-trained, MLE-row and SeqGAN generators of finished runs; and, per run, the gap of
    SeqGAN's T = 1 point to each tempered curve at equal NLL-test (Caccia et al. 2020): SeqGAN's
    NLL-oracle minus the curve's, the model minus its control, so negative is better.

    A run already swept into ``out``/temperature.json with the same grid, sample count and seed (keyed
    on its results.json) is read back, not sampled again: the summary re-derives without checkpoints.
    """
    saved = _saved_sweeps(out / "temperature.json", temperatures, num_samples, seed)
    per_run: list[dict] = []
    for run_dir in run_dirs:
        key = run_key(run_dir)
        previous = saved.get(key) or saved.get(Path(run_dir).parts[-2:])
        if previous is not None:
            curves, swept_on = previous["curves"], previous["machine"]
        else:
            curves, swept_on = _sweep_run(run_dir, temperatures, num_samples, seed), machine()
        seqgan_t1 = next((p for p in curves["SeqGAN"] if abs(p["temperature"] - 1.0) < 1e-9), None)
        gaps = {}
        if seqgan_t1 is not None:
            for label in ("pretrained", "MLE"):
                if label in curves:
                    y = curve_at_nll_test(
                        [(p["nll_test"], p["nll_oracle"]) for p in curves[label]], seqgan_t1["nll_test"]
                    )
                    gaps[label] = None if y is None else seqgan_t1["nll_oracle"] - y  # model - control
        per_run.append(
            {"run": str(run_dir), "run_key": key, "machine": swept_on, "curves": curves, "seqgan_t1": seqgan_t1,
             "gap": gaps}
        )  # fmt: skip
    table = []
    for label, _ in TEMPERATURE_ROWS:
        for tau in temperatures:
            points = [p for r in per_run for p in r["curves"].get(label, []) if p["temperature"] == tau]
            if points:
                table.append(
                    {
                        "row": label,
                        "temperature": tau,
                        "runs": len(points),
                        "nll_oracle": sum(p["nll_oracle"] for p in points) / len(points),
                        "nll_test": sum(p["nll_test"] for p in points) / len(points),
                    }
                )
    machines = list(dict.fromkeys(r["machine"] or "not recorded" for r in per_run))
    summary = {
        "command": f"seqgan experiment temperature --runs {' '.join(map(str, run_dirs))} "
        f"--temperatures {','.join(f'{t:g}' for t in temperatures)} --num {num_samples} --seed {seed}",
        "runs": [str(r) for r in run_dirs],
        "temperatures": temperatures,
        "num_samples": num_samples,
        "sampling_seed": seed,
        "machine": "; ".join(machines),  # where the sweeps were made, not where this summary was written
        "points": table,
        "per_run": per_run,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "temperature.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    _plot_temperature(table, out / "temperature.png")
    labels = [label for label, _ in TEMPERATURE_ROWS if any(p["row"] == label for p in table)]
    lines = [
        "| temperature | " + " | ".join(f"{label} NLL-oracle | {label} NLL-test" for label in labels) + " |",
        "| ---: |" + " ---: | ---: |" * len(labels),
    ]
    by = {(p["row"], p["temperature"]): p for p in table}
    for tau in temperatures:
        cells = [f"{by[(label, tau)]['nll_oracle']:.3f} | {by[(label, tau)]['nll_test']:.3f}" for label in labels]
        lines.append(f"| {tau:.2f} | " + " | ".join(cells) + " |")
    gap_lines = [
        "| run | SeqGAN at T = 1: NLL-oracle ± s.e. | NLL-test | gap: SeqGAN - pre-trained curve (negative: better) "
        "| gap: SeqGAN - MLE row's curve |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]

    def fmt(v):
        return "outside the curve's range" if v is None else f"{v:+.3f}"

    for r in per_run:
        p = r["seqgan_t1"]
        if p is not None:
            gap_lines.append(
                f"| {r['run']} | {p['nll_oracle']:.3f} ± {p['nll_oracle_se']:.3f} | {p['nll_test']:.3f} | "
                f"{fmt(r['gap'].get('pretrained')) if 'pretrained' in r['gap'] else 'n/a'} | "
                f"{fmt(r['gap'].get('MLE')) if 'MLE' in r['gap'] else 'n/a'} |"
            )
    (out / "temperature.md").write_text(
        "\n".join(
            [
                "# Quality against coverage: a temperature sweep",
                "",
                f"Command: `{summary['command']}`  ",
                f"Runs: {', '.join(summary['runs'])} (means over them); "
                f"{num_samples} samples a point, sampling seed {seed}; swept on: {summary['machine']}",
                "",
                *lines,
                "",
                "Gap: SeqGAN's NLL-oracle at T = 1 minus each tempered curve of the same run at SeqGAN's NLL-test "
                "(linear interpolation along NLL-test): the model minus its control, so negative is better, a "
                "lower NLL-oracle than the control at that coverage. The ± is the sampling noise of the point "
                "(standard error over its sequences).",
                "",
                *gap_lines,
                "",
                "![temperature](temperature.png)",
                "",
            ]
        ),
        encoding="utf-8",
    )
    return summary


def _plot_temperature(table: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for row, color in (("pretrained", "tab:green"), ("MLE", "tab:blue"), ("SeqGAN", "tab:red")):
        pts = sorted((p["temperature"], p["nll_test"], p["nll_oracle"]) for p in table if p["row"] == row)
        if not pts:
            continue
        ax.plot([p[1] for p in pts], [p[2] for p in pts], marker="o", color=color, label=row)
        for tau, x, y in pts:
            if abs(tau - 1.0) < 1e-9 or tau == pts[0][0] or tau == pts[-1][0]:
                ax.annotate(f"T={tau:g}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8, color=color)
    ax.set_xlabel("NLL-test (coverage; lower is better)")
    ax.set_ylabel("NLL-oracle (quality; lower is better)")
    ax.set_title("Temperature sweep: quality against coverage")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
