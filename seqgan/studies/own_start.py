"""Tuned SeqGAN against its own tempered start (issue 26, item 3): is a SeqGAN generator better than
its own pre-trained generator, sharpened or flattened by a sampling temperature, at equal coverage?

The runs are ``scripts/own_start.sh``'s: per fresh seed, ``OUT/seedS/pretraining`` (MLE pre-training)
and two adversarial arms started from it, ``paper`` (the paper's settings) and ``tuned`` (the tuning
study's best). Each arm's checkpoint holds the shared pre-trained generator and its SeqGAN one.

Per seed, with ``experiments.temperature`` (Caccia et al., ICLR 2020: quality, NLL-oracle of samples,
against coverage, NLL-test, over a temperature sweep):

* the pre-trained generator is swept twice, with two sampling seeds (sweep A beside the paper arm,
  sweep B beside the tuned arm), so that the curve's own sampling noise is measured: A - B;
* each arm's SeqGAN generator is swept once; its T = 1 point is the trained model as it is used;
* the gap of an arm: its NLL-oracle at T = 1 minus the mean of A and B at its NLL-test (linear
  interpolation, ``experiments.curve_at_nll_test``): the model minus its control, so negative is
  below (better than) its own tempered start. The curve gap: the mean vertical distance of the arm's
  whole tempered curve from that mean over the NLL-test range they share. Tuned - paper: the tuned
  arm's gap minus the paper arm's (the paper's settings are its control);
* each gap's sampling standard error, from the standard errors of the points it is read from.

Over seeds (the unit is the seed; no test pools sequences): mean gap, 95 % t-interval, one-sample
t-test against 0 and Wilcoxon's signed-rank test as a check, for each arm and for tuned - paper.
The grid, the number of samples and the sampling seeds are fixed here, before any result is seen.

Once the sweeps exist (``own_start_sweeps/seedS/ARM/temperature.json``, keyed on each run's
results.json) the study reads no checkpoint: ``seqgan experiment own-start`` on a fresh clone writes
own_start.md again byte for byte.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import torch

from ..stats import format_p
from .experiments import curve_at_nll_test, saved_sweep, temperature

# 0.7, 0.75, ..., 1.5: finer than the temperature study's 0.5..1.5 by 0.1, over the range where the
# quick runs' T = 1 points meet the pre-trained curve (NLL-test 7.4-7.7 there: T 0.85-1.0)
DEFAULT_TEMPERATURES = [round(0.7 + 0.05 * i, 2) for i in range(17)]
ARMS = ("paper", "tuned")
STATISTICS = (("gap_t1", "gap at T = 1"), ("gap_curve", "mean gap of the tempered curve"))
Curve = list[tuple[float, float]]  # (nll_test, nll_oracle) points


# -- the gap at equal NLL-test ----------------------------------------------------------------------


def _branch(points: list[dict]) -> list[dict]:
    pts = sorted(points, key=lambda p: p["temperature"])
    return pts[: min(range(len(pts)), key=lambda i: pts[i]["nll_test"]) + 1]


def quality_branch(points: list[dict]) -> Curve:
    """(nll_test, nll_oracle) of a sweep's points at temperatures up to the one of lowest NLL-test.

    NLL-test is convex in 1/T (each test token costs -z_y/T + logsumexp(z/T) under teacher forcing),
    so it falls to one minimum and rises again: past the minimum, heating costs both quality and
    coverage, and the curve would fold back on itself. Below it, cooling trades coverage for quality,
    and NLL-oracle is a function of NLL-test that ``curve_at_nll_test`` can interpolate.
    """
    branch = [(p["nll_test"], p["nll_oracle"]) for p in _branch(points)]
    assert all(a[0] >= b[0] for a, b in zip(branch, branch[1:])), f"NLL-test rises before its minimum: {branch}"
    return branch


def se_branch(points: list[dict]) -> Curve:
    """(nll_test, nll_oracle_se) on ``quality_branch``'s branch: each point's sampling standard error
    (over its sequences), to be read along NLL-test as the curve is."""
    return [(p["nll_test"], p["nll_oracle_se"]) for p in _branch(points)]


def mean_over(curve: Curve, lo: float, hi: float) -> float:
    """The mean of a piecewise-linear ``curve`` over NLL-test ``lo``..``hi`` (trapezoid rule on its
    breakpoints, exact); ``lo`` and ``hi`` must lie within its range."""
    xs = sorted({lo, hi} | {x for x, _ in curve if lo < x < hi})
    ys = [curve_at_nll_test(curve, x) for x in xs]
    assert None not in ys, f"the curve does not cover [{lo}, {hi}]: {curve}"
    if hi == lo:
        return ys[0]
    return sum((y0 + y1) / 2 * (x1 - x0) for x0, x1, y0, y1 in zip(xs, xs[1:], ys, ys[1:])) / (hi - lo)


def gap_at(point: tuple[float, float], references: list[Curve]) -> float | None:
    """NLL-oracle of ``point`` (nll_test, nll_oracle) minus the mean of the ``references`` at its
    NLL-test; None where a reference does not reach that NLL-test."""
    ys = [curve_at_nll_test(c, point[0]) for c in references]
    if any(y is None for y in ys):
        return None
    return point[1] - sum(ys) / len(ys)


def mean_vertical_gap(curve: Curve, references: list[Curve]) -> dict | None:
    """The mean over the NLL-test range all curves share of ``curve`` minus the mean of the
    ``references``: the integral of a piecewise-linear difference (exact by the trapezoid rule on
    every curve's breakpoints) over the range's length. None when the range is a point or empty.

    Returns:
        {"gap": mean vertical gap, "nll_test_range": [low, high]}
    """
    curves = [curve, *references]
    lo = max(min(x for x, _ in c) for c in curves)
    hi = min(max(x for x, _ in c) for c in curves)
    if not hi > lo:
        return None
    xs = sorted({lo, hi} | {x for c in curves for x, _ in c if lo < x < hi})
    gaps = [gap_at((x, curve_at_nll_test(curve, x)), references) for x in xs]
    assert None not in gaps, f"a curve misses a point of the shared range [{lo}, {hi}]: {gaps}"
    area = sum((g0 + g1) / 2 * (x1 - x0) for x0, x1, g0, g1 in zip(xs, xs[1:], gaps, gaps[1:]))
    return {"gap": area / (hi - lo), "nll_test_range": [lo, hi]}


# -- statistics over seeds ------------------------------------------------------------------------------


def over_seeds(values: list[float]) -> dict:
    """Mean, sample std, 95 % t-interval of the mean, and two-sided p-values against 0: the one-sample
    t-test (the paired test of two arms, given their per-seed differences) and Wilcoxon's signed-rank
    test (exact for small n; with 5 seeds its smallest two-sided p is 1/16 = 0.0625). nan where
    undefined (fewer than 2 values)."""
    from scipy import stats

    n = len(values)
    nan = float("nan")
    if n < 2:
        return {"n": n, "mean": values[0] if n else nan, "std": nan, "ci95": [nan, nan], "t_p": nan, "wilcoxon_p": nan}
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(stats.t.ppf(0.975, n - 1)) * std / math.sqrt(n)
    # no spread (identical gaps, up to rounding): the t-test is undefined, not p = 0
    t_p = float(stats.ttest_1samp(values, 0.0).pvalue) if std > 1e-12 * max(1.0, abs(mean)) else nan
    wilcoxon_p = float(stats.wilcoxon(values).pvalue) if any(v != 0 for v in values) else nan
    return {"n": n, "mean": mean, "std": std, "ci95": [mean - half, mean + half], "t_p": t_p, "wilcoxon_p": wilcoxon_p}


# -- the runs ----------------------------------------------------------------------------------------------


def finished_seeds(runs: Path) -> list[Path]:
    """The ``seedS`` folders under ``runs`` whose two arms have finished (results.json), by seed;
    one printed line for each that has not."""
    folders = sorted(
        (d for d in runs.iterdir() if d.is_dir() and re.fullmatch(r"seed\d+", d.name)), key=lambda d: int(d.name[4:])
    )
    done = []
    for d in folders:
        missing = [arm for arm in ARMS if not (d / arm / "results.json").is_file()]
        if missing:
            print(f"own-start: {d.name} skipped, unfinished (no results.json in {', '.join(missing)})", flush=True)
        else:
            done.append(d)
    return done


def _same_pretraining(seed_dir: Path) -> None:
    from ..lifecycle import load_run_models

    weights = [load_run_models(seed_dir / arm, row="pretrained")[4].state_dict() for arm in ARMS]
    same = weights[0].keys() == weights[1].keys() and all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    if not same:
        raise ValueError(f"{seed_dir}: the arms' pre-trained generators differ; they must start from one pre-training")


def seed_result(seed_dir: Path, temperatures: list[float], num_samples: int, sampling_seed: int, sweeps: Path) -> dict:
    """One seed's sweeps (kept under ``sweeps``), gaps, their standard errors and the curve noise. Sweep
    A of the pre-trained generator and the paper arm use ``sampling_seed``; sweep B and the tuned arm
    ``sampling_seed + 1``. A sweep kept before is read back; only a missing one loads a checkpoint."""
    seeds = {arm: sampling_seed + i for i, arm in enumerate(ARMS)}
    if any(saved_sweep(sweeps / arm, seed_dir / arm, temperatures, num_samples, seeds[arm]) is None for arm in ARMS):
        _same_pretraining(seed_dir)  # sampling needs the checkpoints: they must hold one pre-training
    curves, t1, runs, swept_on = {}, {}, {}, {}
    for i, arm in enumerate(ARMS):
        (run,) = temperature([seed_dir / arm], temperatures, num_samples, sweeps / arm, seed=seeds[arm])["per_run"]
        curves["pretrained_" + "AB"[i]] = run["curves"]["pretrained"]
        curves[arm] = run["curves"]["SeqGAN"]
        t1[arm] = run["seqgan_t1"]
        swept_on[arm] = run["machine"]
        results = json.loads((seed_dir / arm / "results.json").read_text(encoding="utf-8"))
        runs[arm] = {k: results.get(k) for k in ("machine", "seconds", "d_precision")}
    ref_a, ref_b = quality_branch(curves["pretrained_A"]), quality_branch(curves["pretrained_B"])
    se_a, se_b = se_branch(curves["pretrained_A"]), se_branch(curves["pretrained_B"])
    arms = {}
    for arm in ARMS:
        point = (t1[arm]["nll_test"], t1[arm]["nll_oracle"])
        at_a, at_b = curve_at_nll_test(ref_a, point[0]), curve_at_nll_test(ref_b, point[0])
        gap = gap_at(point, [ref_a, ref_b])
        curve = mean_vertical_gap(quality_branch(curves[arm]), [ref_a, ref_b])
        # sampling s.e.: the point, sweep A and sweep B are independent draws; the reference is their mean
        ref_se = [curve_at_nll_test(c, point[0]) for c in (se_a, se_b)]
        curve_se = None
        if curve is not None:  # a curve's points share one draw of noise: the mean gap's s.e. is that of
            lo, hi = curve["nll_test_range"]  # fully correlated errors, each curve's mean s.e. over the range
            means = [mean_over(c, lo, hi) for c in (se_branch(curves[arm]), se_a, se_b)]
            curve_se = math.sqrt(means[0] ** 2 + (means[1] ** 2 + means[2] ** 2) / 4)
        arms[arm] = {
            "t1": t1[arm],
            "pretrained_A_at_nll_test": at_a,
            "pretrained_B_at_nll_test": at_b,
            "gap_t1": gap,
            "gap_t1_se": None
            if gap is None
            else math.sqrt(t1[arm]["nll_oracle_se"] ** 2 + sum(x**2 for x in ref_se) / 4),
            "noise": None if at_a is None or at_b is None else at_a - at_b,  # the curve's own noise: A - B
            "curve": curve,
            "gap_curve": None if curve is None else curve["gap"],
            "gap_curve_se": curve_se,
            "curve_point_se": None if curve is None else means[0],
        }
    diff = {}
    for key in ("gap_t1", "gap_curve"):
        paper, tuned = arms["paper"][key], arms["tuned"][key]
        diff[key] = None if paper is None or tuned is None else tuned - paper
    # tuned - paper: the arms' own draws are independent; both read sweeps A and B at nearby NLL-test,
    # where a sweep's error is one draw, so the curve's error cancels from the difference
    own = {
        "gap_t1": [arms[a]["t1"]["nll_oracle_se"] for a in ARMS],
        "gap_curve": [arms[a]["curve_point_se"] for a in ARMS],
    }
    for key, ses in own.items():
        diff[f"{key}_se"] = None if diff[key] is None else math.sqrt(sum(x**2 for x in ses))
    curve_noise = mean_vertical_gap(ref_a, [ref_b])
    return {
        "seed": int(seed_dir.name[4:]),
        "dir": str(seed_dir),
        "runs": runs,
        "swept_on": swept_on,
        "sampling_seeds": {
            "pretrained_A": sampling_seed,
            "paper": sampling_seed,
            "pretrained_B": sampling_seed + 1,
            "tuned": sampling_seed + 1,
        },
        "curves": curves,
        "arms": arms,
        "tuned_minus_paper": diff,
        "curve_noise": None if curve_noise is None else curve_noise["gap"],  # mean A - B over their range
    }


def summarize(seeds: list[dict]) -> dict:
    """Over seeds, for each arm and for tuned - paper: the statistics of each gap, the seeds it leaves
    out (outside a curve's range) and a seed's sampling standard error (root mean square over seeds)."""
    summary = {}
    for key, _ in STATISTICS:
        for label in (*ARMS, "tuned - paper"):
            per = [(s["seed"], s["tuned_minus_paper"] if label == "tuned - paper" else s["arms"][label]) for s in seeds]
            values = [p[key] for _, p in per if p[key] is not None]
            ses = [p[f"{key}_se"] for _, p in per if p[f"{key}_se"] is not None]
            stats = over_seeds(values)
            summary[f"{key}/{label}"] = {
                **stats,
                "seeds_left_out": [seed for seed, p in per if p[key] is None],
                "se_rms": math.sqrt(sum(x**2 for x in ses) / len(ses)) if ses else float("nan"),
                "ci95_half_width": (stats["ci95"][1] - stats["ci95"][0]) / 2,
                "ci_excludes_0": bool(stats["ci95"][0] > 0 or stats["ci95"][1] < 0),
            }
    return summary


def verdict(stat: dict) -> str:
    """The plain sentence, from the tuned arm's gap at T = 1 by a rule fixed before the runs: below
    when the whole 95 % interval is below 0."""
    if stat["n"] < 2:
        return (
            f"tuned SeqGAN cannot be judged against its own tempered start at the quick budget: "
            f"{stat['n']} seed(s) with a gap, at least 2 are needed."
        )
    lo, hi = stat["ci95"]
    numbers = (
        f"gap at equal NLL-test {stat['mean']:+.3f} nats (95 % CI [{lo:+.3f}, {hi:+.3f}], t-test p = "
        f"{format_p(stat['t_p'])}, Wilcoxon p = {format_p(stat['wilcoxon_p'])}, {stat['n']} seeds)"
    )
    if hi < 0:
        return f"tuned SeqGAN is below its own tempered start at the quick budget: {numbers}."
    if lo > 0:
        return f"tuned SeqGAN is above its own tempered start at the quick budget: {numbers}."
    return (
        "tuned SeqGAN is not shown to be below its own tempered start at the quick budget (the interval holds 0, "
        f"and gains as large as {-lo:.3f} nats): {numbers}."
    )


def run(runs: Path, temperatures: list[float] | None, num_samples: int, sampling_seed: int, out: Path) -> dict:
    """The study on the finished seeds under ``runs``; writes own_start.{md,json,png} to ``out`` and
    each seed's sweeps under ``out/own_start_sweeps``."""
    temperatures = DEFAULT_TEMPERATURES if temperatures is None else temperatures
    if not any(abs(t - 1.0) < 1e-9 for t in temperatures) or min(temperatures) <= 0:
        raise ValueError(f"--temperatures must be positive and hold 1.0 (the arms' own point), got {temperatures}")
    if num_samples < 2:
        raise ValueError(f"--num must be at least 2 (a point's standard error), got {num_samples}")
    if not runs.is_dir():
        raise ValueError(f"--runs {runs}: not a directory (scripts/own_start.sh's OUT, holding seedS folders)")
    folders = finished_seeds(runs)
    if not folders:
        raise ValueError(f"--runs {runs}: no seedS folder with both arms finished (paper/, tuned/ with results.json)")
    sweeps = out / "own_start_sweeps"
    seeds = [seed_result(d, temperatures, num_samples, sampling_seed, sweeps / d.name) for d in folders]
    grid = ",".join(f"{t:g}" for t in temperatures)
    summary = {
        "command": f"seqgan experiment own-start --runs {runs} --temperatures {grid} "
        f"--num {num_samples} --seed {sampling_seed} --out {out}",
        "runs": str(runs),
        "seeds": [s["seed"] for s in seeds],
        "temperatures": temperatures,
        "num_samples": num_samples,
        "sampling_seed": sampling_seed,
        # where the sweeps were made (read from them), so that a rebuild elsewhere writes the same bytes
        "machine": "; ".join(dict.fromkeys(m or "not recorded" for s in seeds for m in s["swept_on"].values())),
        "per_seed": seeds,
        "summary": summarize(seeds),
    }
    summary["verdict"] = verdict(summary["summary"]["gap_t1/tuned"])
    out.mkdir(parents=True, exist_ok=True)
    (out / "own_start.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (out / "own_start.md").write_text(markdown(summary), encoding="utf-8")
    _plot(seeds, out / "own_start.png")
    return summary


# -- the report ---------------------------------------------------------------------------------------------


def cell(v: float | None, signed: bool = True) -> str:
    if v is None:
        return "outside the curve's range"
    return "n/a" if math.isnan(v) else (f"{v:+.3f}" if signed else f"{v:.3f}")


def cell_pm(v: float | None, se: float | None) -> str:
    return cell(v) if v is None or se is None else f"{cell(v)} ± {se:.3f}"


def markdown(summary: dict) -> str:
    """own_start.md: the per-seed table, the summary over seeds, the verdict, the command and the machines."""
    seed_lines = [
        "| seed | arm | T = 1: NLL-oracle ± s.e. | NLL-test | sweep A there | sweep B there | "
        "gap at T = 1, arm - tempered start ± s.e. (negative: better) | noise A - B | "
        "curve gap, arm - tempered start ± s.e. | curve's NLL-test range |",
        "| ---: | --- |" + " ---: |" * 8,
    ]
    for s in summary["per_seed"]:
        for arm in ARMS:
            a = s["arms"][arm]
            rng = "n/a" if a["curve"] is None else "{:.3f}-{:.3f}".format(*a["curve"]["nll_test_range"])
            seed_lines.append(
                f"| {s['seed']} | {arm} | {a['t1']['nll_oracle']:.3f} ± {a['t1']['nll_oracle_se']:.3f} | "
                f"{a['t1']['nll_test']:.3f} | {cell(a['pretrained_A_at_nll_test'], False)} | "
                f"{cell(a['pretrained_B_at_nll_test'], False)} | {cell_pm(a['gap_t1'], a['gap_t1_se'])} | "
                f"{cell(a['noise'])} | "
                f"{cell_pm(a['gap_curve'], a['gap_curve_se'])} | {rng} |"
            )
        d = s["tuned_minus_paper"]
        seed_lines.append(
            f"| {s['seed']} | tuned - paper | | | | | {cell_pm(d['gap_t1'], d['gap_t1_se'])} | | "
            f"{cell_pm(d['gap_curve'], d['gap_curve_se'])} | |"
        )
    stat_lines = [
        "| statistic (negative: better than the control) | arm | seeds | mean | 95 % CI | t-test p | Wilcoxon p | "
        "a seed's sampling s.e. (rms) | CI excludes 0 |",
        "| --- | --- | ---: |" + " ---: |" * 6,
    ]
    for key, name in STATISTICS:
        for label in (*ARMS, "tuned - paper"):
            st = summary["summary"][f"{key}/{label}"]
            left = f" (left out: {', '.join(map(str, st['seeds_left_out']))})" if st["seeds_left_out"] else ""
            stat_lines.append(
                f"| {name} | {label} | {st['n']}{left} | {cell(st['mean'])} | "
                f"[{cell(st['ci95'][0])}, {cell(st['ci95'][1])}] | "
                f"{format_p(st['t_p'])} | {format_p(st['wilcoxon_p'])} | {cell(st['se_rms'], False)} | "
                f"{'yes' if st['ci_excludes_0'] else 'no'} |"
            )
    machines = [
        f"- seed {s['seed']} {arm}: {s['runs'][arm]['machine'] or 'not recorded'}"
        f" (D {s['runs'][arm]['d_precision'] or 'precision not recorded'}, "
        f"{(s['runs'][arm]['seconds'] or 0) / 60:.1f} min)"
        for s in summary["per_seed"]
        for arm in ARMS
    ]
    temps, n = summary["temperatures"], len(summary["seeds"])
    return "\n".join(
        [
            "# Tuned SeqGAN against its own tempered start",
            "",
            f"Command: `{summary['command']}`  ",
            f"Seeds: {', '.join(map(str, summary['seeds']))}; "
            f"temperatures {temps[0]:g}..{temps[-1]:g} ({len(temps)} points), "
            f"{summary['num_samples']} samples a point; "
            f"sampling seeds {summary['sampling_seed']} (sweep A, paper arm) and "
            f"{summary['sampling_seed'] + 1} (sweep B, tuned arm); sweeps made on: {summary['machine']}",
            "",
            f"**{summary['verdict']}**",
            "",
            "Gap: an arm's NLL-oracle at T = 1 minus the pre-trained generator's tempered curve at the same NLL-test "
            "(the mean of sweeps A and B, linear interpolation along NLL-test on the branch T <= the temperature of "
            "lowest NLL-test): the model minus its control, so negative is better, below its own tempered start. "
            "Curve gap: the arm's tempered curve minus that mean, averaged over the NLL-test range they share. "
            "Tuned - paper: the tuned arm's gap minus the paper arm's. s.e.: the gap's sampling standard error, from "
            "the standard errors (over sequences) of the points it is read from: the arm's point and sweeps A and B, "
            "independent draws; a curve gap's points share one draw, so its s.e. is that of fully correlated errors; "
            "in tuned - paper the two arms' draws are independent and the tempered start, read at nearby NLL-test, "
            "cancels. Noise: sweep A minus sweep B at the arm's NLL-test, two draws of the same curve. Each seed's "
            "gap carries this sampling noise, so the interval over seeds includes it.",
            "",
            *seed_lines,
            "",
            "Over seeds (the unit is the seed): 95 % t-interval of the mean; p two-sided, one-sample t-test of the "
            "per-seed gaps against 0 (for tuned - paper, the paired t-test) and Wilcoxon's signed-rank test as a check "
            f"(exact; with {n} seeds it cannot go below 2 / 2^{n} = {2 / 2**n:.3g}).",
            "",
            *stat_lines,
            "",
            "![own start](own_start.png)",
            "",
            "Machines of the runs (from each run's results.json):",
            "",
            *machines,
            "",
            "Each seed's sweeps, as `seqgan experiment temperature` writes them: "
            "`own_start_sweeps/seedS/{paper,tuned}/`.",
            "",
        ]
    )


def _plot(seeds: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(3, len(seeds))
    rows = math.ceil(len(seeds) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.2 * rows), squeeze=False)
    styles = {
        "pretrained_A": ("tab:green", "-", "pre-trained, sweep A"),
        "pretrained_B": ("tab:olive", "--", "pre-trained, sweep B"),
        "paper": ("tab:blue", "-", "SeqGAN, paper settings"),
        "tuned": ("tab:red", "-", "SeqGAN, tuned"),
    }
    for ax, s in zip(axes.flat, seeds):
        for name, (color, style, label) in styles.items():
            pts = sorted((p["temperature"], p["nll_test"], p["nll_oracle"]) for p in s["curves"][name])
            ax.plot([p[1] for p in pts], [p[2] for p in pts], style, marker=".", color=color, label=label)
        for arm in ARMS:
            t1 = s["arms"][arm]["t1"]
            ax.plot(
                t1["nll_test"],
                t1["nll_oracle"],
                "*",
                markersize=14,
                color=styles[arm][0],
                markeredgecolor="black",
                label=f"{arm} at T = 1",
            )
        ax.set_title(f"seed {s['seed']}")
        ax.set_xlabel("NLL-test (coverage; lower is better)")
        ax.set_ylabel("NLL-oracle (quality; lower is better)")
    for ax in list(axes.flat)[len(seeds) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
