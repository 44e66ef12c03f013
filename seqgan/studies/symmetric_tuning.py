"""``seqgan experiment tuning-symmetric``: tuned SeqGAN against tuned MLE, searched alike (issue 26, item 4).

The first comparison (``seqgan experiment tuning``, results/tuning) was lopsided: the MLE study searched
pre-training (epochs, learning rate) and the sampling temperature, while SeqGAN's trials started from
one fixed pre-training and were scored at T = 1; equal trial counts hid a 3-4x difference in compute;
and its dominance rested on single-seed trials. Here, with ``scripts/tuning_symmetric.sh``'s studies:

* **the same pre-training search**: both spaces search ``train.pretrain_g_epochs`` and ``generator.lr``
  over the same ranges (configs/tune/symmetric_*.yaml); the SeqGAN space adds its adversarial keys;
* **the same temperature grid, at evaluation only**: the search sees T = 1 in both studies; afterwards
  every finished trial's generator is swept over one grid (``experiments.sweep``, one sampling seed),
  and a study's points are all its (trial, T) pairs. Neither study searches T, both are scored on it;
* **compute**: each trial's training CPU seconds (``results.json``'s ``cpu_seconds``, all threads of
  its process, across resumes) summed per study in CPU-hours; the fronts are compared with every
  trial, at equal trial counts (each study's first trials), and at equal compute (each study's first
  trials whose CPU-hours sum to at most the smaller study's total);
* **confirmation**: a front point is *said to dominate* when it dominates some point of the other
  study's front. Up to ``confirm_max`` trials a study with such points (those dominating the most other
  points first) are trained again on fresh seeds and swept at those points' temperatures; the claim
  holds for a point when the mean over the fresh seeds still dominates a point of the other front as
  found (single-seed points, the other study's luckiest: a conservative test of the claim).

Reads only committed files once the sweeps exist (``trial-NNNN/sweep.json``): the checkpoints are
needed to sweep, not to re-derive the tables.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from pathlib import Path

from ..jobs import run_all, train_command
from ..runtime.files import atomic_write_text
from ..runtime.hardware import machine
from .tuning_comparison import dominated_by

# 0.6, 0.65, ..., 1.2: the range the first MLE study searched for T (configs/tune/quick_mle.yaml)
DEFAULT_TEMPERATURES = [round(0.6 + 0.05 * i, 2) for i in range(13)]
SWEEP_FILE = "sweep.json"
Point = dict  # {"trial", "temperature", "nll_oracle", "nll_oracle_se", "nll_test"}


# -- fronts ------------------------------------------------------------------------------------------


def xy(p: Point) -> tuple[float, float]:
    return (p["nll_oracle"], p["nll_test"])


def pareto_front(points: list[Point]) -> list[Point]:
    """The points no other point dominates (both axes lower is better), by NLL-oracle."""
    coords = [xy(p) for p in points]
    front = [p for p in points if not dominated_by(xy(p), coords)]
    return sorted(front, key=lambda p: (p["nll_oracle"], p["nll_test"], p["trial"], p["temperature"]))


def dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[0] and a[1] <= b[1] and a != b


def compare(fronts: dict[str, list[Point]]) -> dict[str, dict]:
    """For each of two fronts: its points that no point of the other dominates, and for each point the
    points of the other front it dominates (the points *said to dominate* have some)."""
    (a, fa), (b, fb) = fronts.items()
    out = {}
    for label, front, other in ((a, fa, fb), (b, fb, fa)):
        other_xy = [xy(q) for q in other]
        out[label] = {
            "front": front,
            "not_dominated": [p for p in front if not dominated_by(xy(p), other_xy)],
            "dominating": [
                {"point": p, "dominates": [q for q in other if dominates(xy(p), xy(q))]}
                for p in front
                if any(dominates(xy(p), xy(q)) for q in other)
            ],
        }
    return out


def first_trials_within(trials: list[dict], cpu_hours: float) -> list[dict]:
    """The trials, by number, while their training CPU-hours sum to at most ``cpu_hours``."""
    kept, total = [], 0.0
    for t in trials:
        total += t["cpu_hours"]
        if total > cpu_hours + 1e-12:
            break
        kept.append(t)
    return kept


# -- trials and their sweeps ------------------------------------------------------------------------------


def finished_trials(study_dir: Path) -> list[Path]:
    """The study's ``trial-NNNN`` folders with results.json, by number."""
    if not study_dir.is_dir():
        raise ValueError(f"{study_dir}: no such study folder (run scripts/tuning_symmetric.sh first)")
    dirs = [d for d in study_dir.iterdir() if d.is_dir() and re.fullmatch(r"trial-\d+", d.name)]
    return sorted((d for d in dirs if (d / "results.json").is_file()), key=lambda d: int(d.name[6:]))


def swept(run_dir: Path, temperatures: list[float], num_samples: int, seed: int, data_dir: str | None = None) -> dict:
    """The run's final generator swept over ``temperatures`` (``experiments.sweep``), written to
    RUN_DIR/sweep.json with the CPU seconds it took; read back when a sweep with the same grid,
    sample count and seed is there (so the tables re-derive without the checkpoint)."""
    path = run_dir / SWEEP_FILE
    if path.is_file():
        saved = json.loads(path.read_text(encoding="utf-8"))
        if (saved.get("temperatures"), saved.get("num_samples"), saved.get("sampling_seed")) == (
            temperatures,
            num_samples,
            seed,
        ):
            return saved
    if not (run_dir / "checkpoint.pt").is_file():
        raise ValueError(
            f"{run_dir}: no {SWEEP_FILE} for this grid, sample count and seed, and no checkpoint.pt to sweep"
        )
    from ..data import oracle_corpus
    from ..lifecycle import load_run_models
    from .experiments import sweep

    start = time.process_time()
    _, cfg, oracle, _, g = load_run_models(run_dir / "checkpoint.pt", data_dir)
    if oracle is None:
        raise ValueError(f"{run_dir}: a real-data run; the sweep needs the synthetic oracle")
    _, test = oracle_corpus(oracle, cfg.oracle.num_train, cfg.oracle.num_test, seed=cfg.oracle.seed)
    points = sweep(g, oracle, test, temperatures, num_samples, seed)
    record = {
        "temperatures": temperatures,
        "num_samples": num_samples,
        "sampling_seed": seed,
        "points": points,
        "cpu_seconds": round(time.process_time() - start, 1),
        "machine": machine(),
    }
    atomic_write_text(path, json.dumps(record, indent=2) + "\n")
    return record


def study_trials(
    study_dir: Path, temperatures: list[float], num_samples: int, seed: int, data_dir: str | None = None
) -> list[dict]:
    """Every finished trial of a study: its number, training CPU-hours, machine and swept points."""
    trials = []
    for d in finished_trials(study_dir):
        results = json.loads((d / "results.json").read_text(encoding="utf-8"))
        cpu = results.get("cpu_seconds")
        if cpu is None:
            raise ValueError(
                f"{d / 'results.json'}: no cpu_seconds (a run from before they were counted); "
                "this comparison's compute is CPU time"
            )
        sweep = swept(d, temperatures, num_samples, seed, data_dir)
        number = int(d.name[6:])
        trials.append(
            {
                "trial": number,
                "dir": str(d),
                "cpu_hours": cpu / 3600,
                "sweep_cpu_hours": sweep["cpu_seconds"] / 3600,
                "machine": results.get("machine"),
                "points": [{"trial": number, **p} for p in sweep["points"]],
            }
        )
    if not trials:
        raise ValueError(f"{study_dir}: no finished trial (trial-NNNN/results.json)")
    return trials


def _summary(trials: list[dict]) -> dict:
    return {
        "trials": len(trials),
        "trial_numbers": [t["trial"] for t in trials],
        "cpu_hours": sum(t["cpu_hours"] for t in trials),
        "front": pareto_front([p for t in trials for p in t["points"]]),
    }


def comparisons(trials: dict[str, list[dict]]) -> dict[str, dict]:
    """The two studies compared with all their trials, at equal trial counts and at equal compute."""
    n = min(len(t) for t in trials.values())
    budget = min(sum(x["cpu_hours"] for x in t) for t in trials.values())
    subsets = {
        "all trials": trials,
        f"the first {n} trials each": {label: t[:n] for label, t in trials.items()},
        f"equal compute: {budget:.2f} CPU-h each": {
            label: first_trials_within(t, budget) for label, t in trials.items()
        },
    }
    out = {}
    for name, subset in subsets.items():
        summaries = {label: _summary(t) for label, t in subset.items()}
        vs = compare({label: s["front"] for label, s in summaries.items()})
        out[name] = {label: {**summaries[label], **vs[label]} for label in summaries}
    return out


# -- confirmation on fresh seeds -----------------------------------------------------------------------------


def to_confirm(vs: dict[str, dict], confirm_max: int) -> dict[str, dict[int, list[Point]]]:
    """Per study, up to ``confirm_max`` trials with points said to dominate (the trial whose point
    dominates the most points of the other front first, then by trial number), each with those points."""
    chosen = {}
    for label, r in vs.items():
        by_trial: dict[int, list[dict]] = {}
        for d in r["dominating"]:
            by_trial.setdefault(d["point"]["trial"], []).append(d)
        ranked = sorted(by_trial, key=lambda n: (-max(len(d["dominates"]) for d in by_trial[n]), n))
        chosen[label] = {n: [d["point"] for d in by_trial[n]] for n in ranked[:confirm_max]}
    return chosen


def confirm(
    study_dirs: dict[str, Path],
    vs: dict[str, dict],
    seeds: list[int],
    confirm_max: int,
    jobs: int,
    num_samples: int,
    sampling_seed: int,
    out: Path,
    data_dir: str | None = None,
) -> list[dict]:
    """Train the chosen trials' configs on ``seeds`` (OUT/confirm/LABEL/trial-NNNN/seedS; finished runs are
    reused, stopped ones resumed), sweep them at their points' temperatures, and test each point."""
    chosen = to_confirm(vs, confirm_max)
    overrides = [f"data_dir={data_dir}"] if data_dir else []
    commands = []
    for label, trials in chosen.items():
        for number in trials:
            config = study_dirs[label] / f"trial-{number:04d}" / "config.yaml"
            for s in seeds:
                run_dir = out / "confirm" / label / f"trial-{number:04d}" / f"seed{s}"
                commands.append((run_dir, train_command(str(config), run_dir, s, overrides)))
    if commands:
        run_all(commands, jobs)
    rows = []
    for label, trials in chosen.items():
        other = next(o for o in vs if o != label)
        for number, points in trials.items():
            temps = sorted({p["temperature"] for p in points})
            sweeps = {
                s: swept(
                    out / "confirm" / label / f"trial-{number:04d}" / f"seed{s}", temps, num_samples, sampling_seed
                )
                for s in seeds
            }
            for p in points:
                fresh = [next(q for q in sweeps[s]["points"] if q["temperature"] == p["temperature"]) for s in seeds]
                mean = (
                    statistics.fmean(q["nll_oracle"] for q in fresh),
                    statistics.fmean(q["nll_test"] for q in fresh),
                )
                std = [
                    statistics.stdev(q[k] for q in fresh) if len(fresh) > 1 else float("nan")
                    for k in ("nll_oracle", "nll_test")
                ]
                still = [q for q in vs[other]["front"] if dominates(mean, xy(q))]
                rows.append(
                    {
                        "study": label,
                        "trial": number,
                        "temperature": p["temperature"],
                        "found": list(xy(p)),
                        "seeds": seeds,
                        "fresh": [list(xy(q)) for q in fresh],
                        "mean": list(mean),
                        "std": std,
                        "dominated_when_found": [
                            list(xy(q)) for d in vs[label]["dominating"] if d["point"] is p for q in d["dominates"]
                        ],
                        "still_dominates": [list(xy(q)) for q in still],
                        "holds": bool(still),
                    }
                )
    return rows


# -- the study ---------------------------------------------------------------------------------------------


def run(
    study_dirs: dict[str, Path],
    temperatures: list[float] | None,
    num_samples: int,
    sampling_seed: int,
    out: Path,
    confirm_seeds: list[int] | None = None,
    confirm_max: int = 3,
    jobs: int = 2,
    data_dir: str | None = None,
) -> dict:
    if len(study_dirs) != 2:
        raise ValueError(f"tuning-symmetric compares two studies, got {len(study_dirs)}: {', '.join(study_dirs)}")
    temps = temperatures or DEFAULT_TEMPERATURES
    trials = {label: study_trials(d, temps, num_samples, sampling_seed, data_dir) for label, d in study_dirs.items()}
    compared = comparisons(trials)
    confirmation = None
    if confirm_seeds:
        confirmation = confirm(
            study_dirs,
            compared["all trials"],
            confirm_seeds,
            confirm_max,
            jobs,
            num_samples,
            sampling_seed,
            out,
            data_dir,
        )
    summary = {
        "studies": {
            label: {
                "dir": str(study_dirs[label]),
                "target_trials": _target(study_dirs[label]),
                "machines": sorted({t["machine"] for t in ts if t["machine"]}),
                "sweep_cpu_hours": sum(t["sweep_cpu_hours"] for t in ts),
            }
            for label, ts in trials.items()
        },
        "temperatures": temps,
        "num_samples": num_samples,
        "sampling_seed": sampling_seed,
        "comparisons": compared,
        "confirmation": confirmation,
        "confirm_max": confirm_max,
        "machine": machine(),
        "command": "seqgan experiment tuning-symmetric --studies "
        + " ".join(f"{label}={d}" for label, d in study_dirs.items())
        + f" --num {num_samples} --seed {sampling_seed}"
        + (f" --temperatures {','.join(f'{t:g}' for t in temps)}" if temperatures else "")
        + (f" --confirm-seeds {','.join(map(str, confirm_seeds))} --confirm-max {confirm_max}" if confirm_seeds else "")
        + f" --out {out}",
    }
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "symmetric.json", json.dumps(summary, indent=2) + "\n")
    atomic_write_text(out / "symmetric.md", markdown(summary))
    _plot(trials, compared["all trials"], confirmation, out / "fronts.png")
    return summary


def _target(study_dir: Path) -> int | None:
    path = study_dir / "summary.json"
    return json.loads(path.read_text(encoding="utf-8")).get("target_trials") if path.is_file() else None


def markdown(summary: dict) -> str:
    labels = list(summary["studies"])
    partial = [
        f"{label} ({summary['comparisons']['all trials'][label]['trials']} of {s['target_trials']} trials)"
        for label, s in summary["studies"].items()
        if s["target_trials"] and summary["comparisons"]["all trials"][label]["trials"] < s["target_trials"]
    ]
    lines = [
        "# Tuned SeqGAN against tuned MLE, searched alike",
        "",
        *([f"**Partial:** {', '.join(partial)}; these fronts are not the answer.", ""] if partial else []),
        "Both studies search MLE pre-training (epochs, learning rate) over the same ranges; the search sees "
        "T = 1 in both; every finished trial is then swept over the same temperatures "
        f"({', '.join(f'{t:g}' for t in summary['temperatures'])}; {summary['num_samples']} samples a point, "
        f"sampling seed {summary['sampling_seed']}), and a study's points are all its (trial, T) pairs. "
        "Compute is training CPU time (all threads of each trial's process).",
        "",
        *(f"- {label} trials ran on: {', '.join(s['machines'])}" for label, s in summary["studies"].items()),
        f"- this comparison was written on: {summary['machine']}",
        "",
    ]
    for name, r in summary["comparisons"].items():
        lines += [
            f"## {name[0].upper() + name[1:]}",
            "",
            "| study | trials | training CPU-h | front points | front points the other front does not dominate "
            "| front points that dominate a point of the other front |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for label in labels:
            s = r[label]
            lines.append(
                f"| {label} | {s['trials']} | {s['cpu_hours']:.2f} | {len(s['front'])} | {len(s['not_dominated'])} "
                f"| {len(s['dominating'])} |"
            )
        lines.append("")
    front = summary["comparisons"]["all trials"]
    lines += [
        "## The fronts (all trials)",
        "",
        "| study | trial | T | NLL-oracle ± s.e. | NLL-test | dominated by the other front |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for label in labels:
        other = next(o for o in labels if o != label)
        other_xy = [xy(q) for q in front[other]["front"]]
        for p in front[label]["front"]:
            lines.append(
                f"| {label} | {p['trial']} | {p['temperature']:g} | {p['nll_oracle']:.3f} ± {p['nll_oracle_se']:.3f} "
                f"| {p['nll_test']:.3f} | {'yes' if dominated_by(xy(p), other_xy) else 'no'} |"
            )
    lines.append("")
    conf = summary["confirmation"]
    if conf is not None:
        lines += [
            f"## Points said to dominate, on fresh seeds (at most {summary['confirm_max']} trials a study)",
            "",
            "| study | trial | T | found: NLL-oracle, NLL-test | fresh seeds | mean NLL-oracle ± std "
            "| mean NLL-test ± std | other-front points dominated when found | still dominated | holds |",
            "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |",
        ]
        for c in conf:
            lines.append(
                f"| {c['study']} | {c['trial']} | {c['temperature']:g} | {c['found'][0]:.3f}, {c['found'][1]:.3f} "
                f"| {', '.join(map(str, c['seeds']))} | {c['mean'][0]:.3f} ± {c['std'][0]:.3f} "
                f"| {c['mean'][1]:.3f} ± {c['std'][1]:.3f} | {len(c['dominated_when_found'])} "
                f"| {len(c['still_dominates'])} | {'yes' if c['holds'] else 'no'} |"
            )
        if not conf:
            lines.append("| (no front point dominates a point of the other front) | | | | | | | | | |")
        lines.append("")
    lines += [
        "![fronts](fronts.png)",
        "",
        "Command (the studies: scripts/tuning_symmetric.sh):",
        "",
        f"    {summary['command']}",
        "",
    ]
    return "\n".join(lines)


def _plot(trials: dict[str, list[dict]], vs: dict[str, dict], confirmation: list[dict] | None, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    for (label, ts), color in zip(trials.items(), ["tab:red", "tab:blue"]):
        points = [xy(p) for t in ts for p in t["points"]]
        ax.scatter([p[0] for p in points], [p[1] for p in points], color=color, alpha=0.15, s=10)
        front = [xy(p) for p in vs[label]["front"]]
        ax.plot(
            [p[0] for p in front],
            [p[1] for p in front],
            color=color,
            marker="o",
            drawstyle="steps-post",
            label=f"{label}: front over {len(ts)} trials x T",
        )
        for c in confirmation or []:
            if c["study"] == label:
                ax.errorbar(
                    c["mean"][0],
                    c["mean"][1],
                    xerr=c["std"][0],
                    yerr=c["std"][1],
                    color=color,
                    marker="*",
                    markersize=11,
                    linestyle="none",
                )
    ax.set_xlabel("NLL-oracle (quality; lower is better)")
    ax.set_ylabel("NLL-test (coverage; lower is better)")
    ax.set_title("stars: points said to dominate, mean ± std over fresh seeds", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
