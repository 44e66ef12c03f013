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
  holds for a point when the fresh seeds still dominate a point of the other front as found, beyond
  their noise: on both axes a one-sided t-test over the seeds puts their mean below that point at
  ``ALPHA`` (the point, single-seed and the other study's luckiest, is taken as fixed). A trial's
  points at several temperatures are one claim, made by one trained configuration: claims are
  counted per trial (``trial_claims``), a trial's holding when one of its points does;
* **the claim's source**: a retried trial with adversarial rounds is also scored by its fresh seeds'
  pre-trained generators at the same T (paired by seed): where the start alone dominates as many
  points, the claim belongs to the pre-training setting the search found, not to the adversarial phase.

Reads only committed files once the sweeps exist (``trial-NNNN/sweep.json``): the checkpoints are
needed to sweep, not to re-derive the tables.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import statistics
import time
from pathlib import Path

from ..config import load_config
from ..jobs import run_all, train_command
from ..runtime.files import atomic_write_text
from ..runtime.hardware import machine
from ..tuning.tune import describe_machines
from .tuning_comparison import dominated_by

# 0.6, 0.65, ..., 1.2: the range the first MLE study searched for T (configs/tune/quick_mle.yaml)
DEFAULT_TEMPERATURES = [round(0.6 + 0.05 * i, 2) for i in range(13)]
SWEEP_FILE = "sweep.json"
SWEEP_FILES = {"seqgan": SWEEP_FILE, "pretrained": "sweep_pretrained.json"}  # checkpoint row -> file
# a retried claim holds when the fresh seeds' mean is below the dominated point on both axes by a one-sided
# t-test at this level: with 3 seeds, by about 3 standard errors (t(0.95, 2) = 2.92), not by any margin
ALPHA = 0.05
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


def trial_folders(study_dir: Path) -> list[Path]:
    """The study's ``trial-NNNN`` folders, by number: finished (results.json) or not (a failed trial)."""
    if not study_dir.is_dir():
        raise ValueError(f"{study_dir}: no such study folder (run scripts/tuning_symmetric.sh first)")
    if (study_dir / "pretraining").is_dir():
        raise ValueError(
            f"{study_dir}: a study with a shared pre-training (--share-pretraining): each trial's CPU time "
            "holds that pre-training's again, and pre-training is what this comparison searches alike"
        )
    dirs = [d for d in study_dir.iterdir() if d.is_dir() and re.fullmatch(r"trial-\d+", d.name)]
    return sorted(dirs, key=lambda d: int(d.name[6:]))


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: unreadable ({str(e).splitlines()[0][:120]})") from None


def _run_key(run_dir: Path) -> str:
    """What identifies the trained run a sweep was made from: its results.json (written once per run)."""
    return hashlib.sha256((run_dir / "results.json").read_bytes()).hexdigest()[:16]


def swept(
    run_dir: Path,
    temperatures: list[float],
    num_samples: int,
    seed: int,
    data_dir: str | None = None,
    row: str = "seqgan",
) -> dict:
    """The run's final generator (``row`` "seqgan") or its pre-trained start ("pretrained") swept over
    ``temperatures`` (``experiments.sweep``), written to RUN_DIR/sweep.json (sweep_pretrained.json)
    with the CPU seconds it took; read back when a sweep with the same grid, sample count and seed of
    this run (its results.json) is there, so the tables re-derive without the checkpoint."""
    path = run_dir / SWEEP_FILES[row]
    key = (temperatures, num_samples, seed, _run_key(run_dir))
    if path.is_file():
        saved = read_json(path)
        # a sweep without "row" was written before pre-trained starts were swept: the final generator's
        fields = ("temperatures", "num_samples", "sampling_seed", "run")
        if tuple(saved.get(f) for f in fields) == key and saved.get("row", "seqgan") == row:
            return saved
    if not (run_dir / "checkpoint.pt").is_file():
        raise ValueError(
            f"{run_dir}: no {path.name} for this run, grid, sample count and seed, and no checkpoint.pt to sweep"
        )
    from ..data import oracle_corpus
    from ..lifecycle import load_run_models
    from .experiments import sweep

    start = time.process_time()
    _, cfg, oracle, _, g = load_run_models(run_dir / "checkpoint.pt", data_dir, row=row)
    if oracle is None:
        raise ValueError(f"{run_dir}: a real-data run; the sweep needs the synthetic oracle")
    _, test = oracle_corpus(oracle, cfg.oracle.num_train, cfg.oracle.num_test, seed=cfg.oracle.seed)
    points = sweep(g, oracle, test, temperatures, num_samples, seed)
    record = {
        "temperatures": temperatures,
        "num_samples": num_samples,
        "sampling_seed": seed,
        "run": key[3],  # the sha256 of the run's results.json, first 16 hex digits
        "row": row,  # which generator of the checkpoint: "seqgan" (the final one) or "pretrained"
        "points": points,
        "cpu_seconds": round(time.process_time() - start, 1),
        "machine": machine(),
    }
    atomic_write_text(path, json.dumps(record, indent=2) + "\n")
    return record


def study_trials(
    study_dir: Path, temperatures: list[float], num_samples: int, seed: int, data_dir: str | None = None
) -> list[dict]:
    """Every trial of a study, by number: its training CPU-hours, machine and swept points. A trial
    without results.json (failed, e.g. a NaN, or stopped) has no points, but its CPU time counts: read
    from its checkpoint once and kept as TRIAL/compute.json, so the total re-derives without it."""
    trials = []
    for d in trial_folders(study_dir):
        number = int(d.name[6:])
        if not (d / "results.json").is_file():
            trials.append({"trial": number, "dir": str(d), "finished": False, "cpu_hours": _unfinished_cpu(d) / 3600,
                           "sweep_cpu_hours": 0.0, "machine": None, "seed": None, "points": []})  # fmt: skip
            continue
        results = read_json(d / "results.json")
        cpu = results.get("cpu_seconds")
        if cpu is None:
            raise ValueError(
                f"{d / 'results.json'}: no cpu_seconds (a run from before they were counted); "
                "this comparison's compute is CPU time"
            )
        sweep = swept(d, temperatures, num_samples, seed, data_dir)
        trials.append(
            {
                "trial": number,
                "dir": str(d),
                "finished": True,
                "cpu_hours": cpu / 3600,
                "sweep_cpu_hours": sweep["cpu_seconds"] / 3600,
                "machine": results.get("machine"),
                "seed": results.get("seed"),
                "points": [{"trial": number, **p} for p in sweep["points"]],
            }
        )
    if not any(t["finished"] for t in trials):
        raise ValueError(f"{study_dir}: no finished trial (trial-NNNN/results.json)")
    return trials


def _unfinished_cpu(trial_dir: Path) -> float:
    path = trial_dir / "compute.json"
    if path.is_file():
        return float(read_json(path)["cpu_seconds"])
    if not (trial_dir / "checkpoint.pt").is_file():
        raise ValueError(f"{trial_dir}: neither results.json, compute.json nor checkpoint.pt: its compute is unknown")
    from ..runtime.checkpoint import load_checkpoint

    cpu = load_checkpoint(trial_dir / "checkpoint.pt").get("cpu_seconds")
    if cpu is None:
        raise ValueError(f"{trial_dir / 'checkpoint.pt'}: no cpu_seconds (written before they were counted)")
    record = {"cpu_seconds": round(cpu, 1), "state": "no results.json: failed or stopped", "machine": machine()}
    atomic_write_text(path, json.dumps(record, indent=2) + "\n")
    return float(cpu)


def _summary(trials: list[dict]) -> dict:
    return {
        "trials": len(trials),
        "unfinished": [t["trial"] for t in trials if not t["finished"]],
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
        f"equal compute: at most {budget:.2f} CPU-h each": {
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


def claims(compared: dict[str, dict]) -> list[dict]:
    """Every point said to dominate, in any of the comparisons (all trials, equal trials, equal
    compute), once, with the comparisons it was said in and the other fronts' points it dominated."""
    found: dict[tuple, dict] = {}
    for name, vs in compared.items():
        for label, r in vs.items():
            for d in r["dominating"]:
                p = d["point"]
                c = found.setdefault(
                    (label, p["trial"], p["temperature"]),
                    {
                        "study": label,
                        "trial": p["trial"],
                        "temperature": p["temperature"],
                        "found": list(xy(p)),
                        "comparisons": [],
                        "dominated_when_found": [],
                    },  # fmt: skip
                )
                c["comparisons"].append(name)
                for q in d["dominates"]:
                    if list(xy(q)) not in c["dominated_when_found"]:
                        c["dominated_when_found"].append(list(xy(q)))
    return sorted(found.values(), key=lambda c: (c["study"], c["trial"], c["temperature"]))


def to_confirm(claimed: list[dict], confirm_max: int) -> dict[str, list[int]]:
    """Per study, up to ``confirm_max`` trials with claims: the trial whose point dominated the most
    points first, then by trial number."""
    chosen = {}
    for label in dict.fromkeys(c["study"] for c in claimed):
        most: dict[int, int] = {}
        for c in claimed:
            if c["study"] == label:
                most[c["trial"]] = max(most.get(c["trial"], 0), len(c["dominated_when_found"]))
        chosen[label] = sorted(most, key=lambda n: (-most[n], n))[:confirm_max]
    return chosen


def confirm(
    study_dirs: dict[str, Path],
    claimed: list[dict],
    seeds: list[int],
    confirm_max: int,
    jobs: int,
    num_samples: int,
    sampling_seed: int,
    out: Path,
    data_dir: str | None = None,
    train_runs=None,
) -> list[dict]:
    """Train the chosen trials' configs on ``seeds`` as the trials ran (one thread; only the seed
    differs), in OUT/confirm/LABEL/trial-NNNN/seedS (finished runs reused, stopped ones resumed), sweep
    them at their claims' temperatures, and test each claim: it holds when the seeds still dominate one
    of the points it dominated when found, beyond their noise (``clears``). Claims of trials beyond
    ``confirm_max`` come back marked as not retried."""
    chosen = to_confirm(claimed, confirm_max)
    overrides = ["threads=1", *([f"data_dir={data_dir}"] if data_dir else [])]
    commands = []
    for label, numbers in chosen.items():
        for number in numbers:
            config = study_dirs[label] / f"trial-{number:04d}" / "config.yaml"
            for s in seeds:
                run_dir = out / "confirm" / label / f"trial-{number:04d}" / f"seed{s}"
                commands.append((run_dir, train_command(str(config), run_dir, s, overrides)))
    if commands:
        if train_runs is None:
            run_all(commands, jobs)
        else:  # a test's stand-in: the commands it would run
            train_runs(commands)
    rows, sweeps_of = [], {}
    for c in claimed:
        if c["trial"] not in chosen.get(c["study"], []):
            rows.append({**c, "retried": False, "holds": None})
            continue
        folder = out / "confirm" / c["study"] / f"trial-{c['trial']:04d}"
        temps = sorted({d["temperature"] for d in claimed if (d["study"], d["trial"]) == (c["study"], c["trial"])})
        if folder not in sweeps_of:  # every claim of a trial is read from one sweep of each run
            sweeps_of[folder] = [swept(folder / f"seed{s}", temps, num_samples, sampling_seed, data_dir) for s in seeds]
        if (folder, "start") not in sweeps_of:  # a trial with adversarial rounds: its pre-trained start too
            adversarial = load_config(study_dirs[c["study"]] / f"trial-{c['trial']:04d}" / "config.yaml").train.rounds
            sweeps_of[folder, "start"] = (
                [swept(folder / f"seed{s}", temps, num_samples, sampling_seed, data_dir, "pretrained") for s in seeds]
                if adversarial
                else None
            )
        fresh = _at(sweeps_of[folder], c["temperature"])
        mean, std = _mean_std(fresh)
        tests = [clears(fresh, q) for q in c["dominated_when_found"]]
        still = [q for q, t in zip(c["dominated_when_found"], tests) if t["clears"]]
        row = {
            **c,
            "retried": True,
            "seeds": seeds,
            "fresh": [list(xy(q)) for q in fresh],
            "mean": mean,
            "std": std,
            # the first reading, by the mean alone (any margin): kept to show what the test changes
            "mean_dominates": [q for q in c["dominated_when_found"] if dominates(tuple(mean), tuple(q))],
            "tests": tests,  # per point dominated when found, in its order
            "still_dominates": still,
            "holds": bool(still),
            "start": None,
        }
        if sweeps_of[folder, "start"] is not None:
            row["start"] = start = _against_start(fresh, _at(sweeps_of[folder, "start"], c["temperature"]), c)
            # the claim is its start's: it holds, and the start alone still dominates every point it does
            start["covers_claim"] = bool(still) and all(q in start["still_dominates"] for q in still)
        rows.append(row)
    return rows


def clears(fresh: list[Point], q: list[float]) -> dict:
    """Whether the fresh seeds dominate ``q`` (NLL-oracle, NLL-test) beyond their noise: on each axis the
    one-sided t-test over the seeds of "the mean is below q's coordinate" (H0: at or above it), both at
    ``ALPHA``. The unit is the seed; q, a single-seed point of the other front as found, is taken as fixed.

    Returns:
        {"p": [p NLL-oracle, p NLL-test], "clears": both below ALPHA}
    """
    from scipy import stats

    ps = []
    for key, bound in zip(("nll_oracle", "nll_test"), q):
        values = [p[key] for p in fresh]
        mean, sd = statistics.fmean(values), statistics.stdev(values)
        if sd == 0:  # no spread over the seeds: the mean is below the bound or it is not
            ps.append(0.0 if mean < bound else 1.0)
        else:
            ps.append(float(stats.t.sf((bound - mean) / (sd / math.sqrt(len(values))), len(values) - 1)))
    return {"p": ps, "clears": all(p < ALPHA for p in ps)}


def trial_claims(confirmation: list[dict]) -> list[dict]:
    """The claims counted per trial, not per temperature: a trial's points are one trained configuration
    read at several temperatures, so they are one claim, which holds when one of its points holds."""
    trials: dict[tuple, dict] = {}
    for c in confirmation:
        t = trials.setdefault(
            (c["study"], c["trial"]),
            {"study": c["study"], "trial": c["trial"], "points": 0, "retried": c["retried"], "points_holding": 0,
             "points_by_mean_alone": 0, "points_its_start_covers": 0},
        )  # fmt: skip
        t["points"] += 1
        if c["retried"]:
            t["points_holding"] += bool(c["holds"])
            t["points_by_mean_alone"] += bool(c["mean_dominates"])
            t["points_its_start_covers"] += bool(c["start"] and c["start"]["covers_claim"])
    for t in trials.values():
        t["holds"] = bool(t["points_holding"]) if t["retried"] else None
    return sorted(trials.values(), key=lambda t: (t["study"], t["trial"]))


def _at(sweeps: list[dict], temperature: float) -> list[Point]:
    """Each sweep's point at ``temperature``, in seed order."""
    points = []
    for sw in sweeps:
        at = [q for q in sw["points"] if q["temperature"] == temperature]
        if not at or not all(math.isfinite(at[0][k]) for k in ("nll_oracle", "nll_test")):
            what = "no point" if not at else "a point that is not finite"
            raise ValueError(
                f"a sweep of run {sw.get('run')} ({sw.get('row', 'seqgan')}) has {what} at T = {temperature}"
            )
        points.append(at[0])
    return points


def _mean_std(points: list[Point]) -> tuple[list[float], list[float]]:
    """Mean and standard deviation over seeds of (NLL-oracle, NLL-test)."""
    keys = ("nll_oracle", "nll_test")
    return [statistics.fmean(q[k] for q in points) for k in keys], [
        statistics.stdev(q[k] for q in points) for k in keys
    ]


def _against_start(fresh: list[Point], start: list[Point], claim: dict) -> dict:
    """A retried claim's generators against their own pre-trained starts at the same T, seed by seed:
    does the claimed point come from the adversarial phase, or was it there before it? The start's mean
    over seeds and the points it dominates, by the same test (``clears``), of those the claim dominated,
    and the paired difference (adversarial - start, the model minus its control: negative is better)
    over seeds with a paired t-test (the unit is the seed)."""
    from scipy import stats

    mean, std = _mean_std(start)
    out = {
        "fresh": [list(xy(q)) for q in start],
        "mean": mean,
        "std": std,
        "still_dominates": [q for q in claim["dominated_when_found"] if clears(start, q)["clears"]],
    }
    for k in ("nll_oracle", "nll_test"):
        diff = [a[k] - b[k] for a, b in zip(fresh, start, strict=True)]
        p = float(stats.ttest_rel([a[k] for a in fresh], [b[k] for b in start]).pvalue)
        out[f"{k}_diff"] = {
            "mean": statistics.fmean(diff),
            "std": statistics.stdev(diff),
            "p": p if math.isfinite(p) else None,  # None: no spread in the differences
        }
    return out


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
    for label in study_dirs:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", label):
            raise ValueError(f"--studies: a label is a name (letters, digits, - and _), got {label!r}")
    temps = temperatures or DEFAULT_TEMPERATURES
    if not all(math.isfinite(t) and t > 0 for t in temps):
        raise ValueError(f"--temperatures must be positive numbers, got {temps}")
    if num_samples < 2:
        raise ValueError(f"--num must be at least 2 (a point's standard error), got {num_samples}")
    if confirm_seeds is not None and (len(set(confirm_seeds)) < 3 or len(set(confirm_seeds)) < len(confirm_seeds)):
        raise ValueError(f"--confirm-seeds: at least 3 different seeds, got {confirm_seeds}")
    if jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {jobs}")
    if confirm_max < 1:
        raise ValueError(f"--confirm-max must be at least 1, got {confirm_max}")
    trials = {label: study_trials(d, temps, num_samples, sampling_seed, data_dir) for label, d in study_dirs.items()}
    compared = comparisons(trials)
    claimed = claims(compared)
    used = {t["seed"] for ts in trials.values() for t in ts if t["finished"]}
    if confirm_seeds and used & set(confirm_seeds):
        raise ValueError(f"--confirm-seeds: {sorted(used & set(confirm_seeds))} trained the trials; fresh seeds differ")
    confirmation = [{**c, "retried": False, "holds": None} for c in claimed]
    if confirm_seeds:
        confirmation = confirm(
            study_dirs,
            claimed,
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
                "machines": describe_machines(_machines(ts)),
                "sweep_cpu_hours": sum(t["sweep_cpu_hours"] for t in ts),
            }
            for label, ts in trials.items()
        },
        "temperatures": temps,
        "num_samples": num_samples,
        "sampling_seed": sampling_seed,
        "comparisons": compared,
        "confirmation": confirmation,
        "trial_claims": trial_claims(confirmation),
        "alpha": ALPHA,
        "confirm_seeds": confirm_seeds,
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


def _machines(trials: list[dict]) -> dict[str, list[int]]:
    machines: dict[str, list[int]] = {}
    for t in trials:
        machines.setdefault(t["machine"] or "unknown (failed or stopped)", []).append(t["trial"])
    return machines


def _target(study_dir: Path) -> int | None:
    path = study_dir / "summary.json"
    return json.loads(path.read_text(encoding="utf-8")).get("target_trials") if path.is_file() else None


def _claim_word(c: dict | None) -> str:
    if c is None:
        return "-"
    if not c["retried"]:
        return "not retried"
    return "holds" if c["holds"] else "fails"


def markdown(summary: dict) -> str:
    labels = list(summary["studies"])
    every = summary["comparisons"]["all trials"]
    partial = [
        f"{label} ({every[label]['trials']} of {s['target_trials']} trials)"
        for label, s in summary["studies"].items()
        if s["target_trials"] and every[label]["trials"] - len(every[label]["unfinished"]) < s["target_trials"]
    ]
    conf = summary["confirmation"]
    lines = [
        "# Tuned SeqGAN against tuned MLE, searched alike",
        "",
        *([f"**Partial:** {', '.join(partial)}; these fronts are not the answer.", ""] if partial else []),
        "Both studies search MLE pre-training (epochs, learning rate) over the same ranges; the search sees "
        "T = 1 in both; every finished trial is then swept over the same temperatures "
        f"({', '.join(f'{t:g}' for t in summary['temperatures'])}; {summary['num_samples']} samples a point, "
        f"sampling seed {summary['sampling_seed']}), and a study's points are all its (trial, T) pairs. "
        "Compute is training CPU time (all threads of each trial's process, failed trials included). "
        "The SeqGAN space has its adversarial keys besides the two it shares: with as many trials it "
        "searches pre-training more thinly, which the equal-compute comparison does not remove.",
        "",
        *(f"- {label} trials ran on: {s['machines']}" for label, s in summary["studies"].items()),
        *(
            f"- {label}: the sweeps took {s['sweep_cpu_hours']:.2f} CPU-h (not counted above)"
            for label, s in summary["studies"].items()
        ),
        f"- this comparison was written on: {summary['machine']}",
        "",
    ]
    for name, r in summary["comparisons"].items():
        lines += [
            f"## {name[0].upper() + name[1:]}",
            "",
            "| study | trials (failed or stopped) | training CPU-h | front points "
            "| front points the other does not dominate | front points that dominate a point of the other front |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for label in labels:
            s = r[label]
            lines.append(
                f"| {label} | {s['trials']} ({len(s['unfinished'])}) | {s['cpu_hours']:.2f} | {len(s['front'])} "
                f"| {len(s['not_dominated'])} | {len(s['dominating'])} |"
            )
        lines.append("")
    by_point = {(c["study"], c["trial"], c["temperature"]): c for c in conf}
    lines += [
        "## The fronts (all trials)",
        "",
        "| study | trial | T | NLL-oracle ± s.e. | NLL-test | dominated by the other front | its claim to dominate |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for label in labels:
        other = next(o for o in labels if o != label)
        other_xy = [xy(q) for q in every[other]["front"]]
        for p in every[label]["front"]:
            claim = by_point.get((label, p["trial"], p["temperature"]))
            lines.append(
                f"| {label} | {p['trial']} | {p['temperature']:g} | {p['nll_oracle']:.3f} ± {p['nll_oracle_se']:.3f} "
                f"| {p['nll_test']:.3f} | {'yes' if dominated_by(xy(p), other_xy) else 'no'} | {_claim_word(claim)} |"
            )
    lines.append("")
    seeds = summary["confirm_seeds"]
    lines += [
        "## Points said to dominate (in any comparison above), on fresh seeds",
        "",
        (
            f"Seeds {', '.join(map(str, seeds))}; at most {summary['confirm_max']} trials a study retried (the "
            "trials whose points dominated the most first). A point's claim holds when the fresh seeds still "
            "dominate a point it dominated when found, beyond their noise: on both axes, a one-sided t-test over "
            f"the seeds puts their mean below that point at p < {summary.get('alpha', ALPHA):g} (the point, "
            "single-seed as found, taken as fixed). 'By the mean alone' counts the points the mean dominates by "
            "any margin, the first reading of this comparison."
            if seeds
            else "**No claim was retried** (no --confirm-seeds): every domination above rests on single-seed trials."
        ),
        "",
        *_trial_table(summary.get("trial_claims", [])),
        "| study | trial | T | found: NLL-oracle, NLL-test | said in | other-front points dominated "
        "| fresh mean NLL-oracle ± std | fresh mean NLL-test ± std | still dominated: by the mean alone, "
        "by the test | claim |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for c in conf:
        fresh = (
            [
                f"{c['mean'][0]:.3f} ± {c['std'][0]:.3f}",
                f"{c['mean'][1]:.3f} ± {c['std'][1]:.3f}",
                f"{len(c['mean_dominates'])}, {len(c['still_dominates'])}",
            ]  # fmt: skip
            if c["retried"]
            else ["-", "-", "-"]
        )
        lines.append(
            f"| {c['study']} | {c['trial']} | {c['temperature']:g} | {c['found'][0]:.3f}, {c['found'][1]:.3f} "
            f"| {'; '.join(c['comparisons'])} | {len(c['dominated_when_found'])} | "
            + " | ".join(fresh)
            + f" | {_claim_word(c)} |"
        )
    if not conf:
        lines.append("| (no front point dominates a point of the other front) | | | | | | | | | |")
    lines += _start_table(conf)
    lines += [
        "",
        "![fronts](fronts.png)",
        "",
        "Command (the studies: scripts/tuning_symmetric.sh):",
        "",
        f"    {summary['command']}",
        "",
    ]
    return "\n".join(lines)


def _trial_table(trials: list[dict]) -> list[str]:
    """The claims counted per trial: a trial's points at several temperatures are one claim."""
    if not trials:
        return []
    lines = [
        "Per trial (one claim a trial, holding when one of its points does):",
        "",
        "| study | trial | points said to dominate | retried | points holding | by the mean alone | trial's claim |",
        "| --- | ---: | ---: | --- | ---: | ---: | --- |",
    ]
    for t in trials:
        retried = t["retried"]
        lines.append(
            f"| {t['study']} | {t['trial']} | {t['points']} | {'yes' if retried else 'no'} | "
            f"{t['points_holding'] if retried else '-'} | {t['points_by_mean_alone'] if retried else '-'} | "
            f"{_claim_word(t)} |"
        )
    return [*lines, "", "Per point:", ""]


def _p(d: dict) -> str:
    mean = f"{d['mean']:+.3f}".replace("-", "\u2212")
    return f"{mean} ± {d['std']:.3f} (p = {d['p']:.2g})" if d["p"] is not None else mean


def _start_table(conf: list[dict]) -> list[str]:
    """The retried claims of trials with adversarial rounds, against the same seeds' pre-trained starts."""
    rows = [c for c in conf if c.get("start")]
    if not rows:
        return []
    alone = sum(c["start"]["covers_claim"] for c in rows)
    held = sum(bool(c["holds"]) for c in rows)
    lines = [
        "",
        "## The retried claims against their own pre-trained start",
        "",
        "A trial with adversarial rounds is also scored before them: each fresh seed's pre-trained generator, "
        "swept at the claim's T. Adversarial − start (the model minus its control: negative is better) is "
        "paired by seed (t-test over seeds). Where a claim holds and the start alone still dominates, by the "
        "same test, every point the trained generator does, the claim is the pre-training setting's, not the "
        "adversarial phase's.",
        "",
        f"**{alone} of {len(rows)}** such claims ({held} of them hold): the pre-trained start alone still "
        "dominates every point the trained generator does.",
        "",
        "| study | trial | T | fresh mean NLL-oracle, NLL-test | start's fresh mean | adversarial − start NLL-oracle "
        "(negative: better) | adversarial − start NLL-test | points still dominated: trained, start alone |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for c in rows:
        st = c["start"]
        lines.append(
            f"| {c['study']} | {c['trial']} | {c['temperature']:g} | {c['mean'][0]:.3f}, {c['mean'][1]:.3f} "
            f"| {st['mean'][0]:.3f}, {st['mean'][1]:.3f} | {_p(st['nll_oracle_diff'])} | {_p(st['nll_test_diff'])} "
            f"| {len(c['still_dominates'])}, {len(st['still_dominates'])} |"
        )
    return lines


def _plot(trials: dict[str, list[dict]], vs: dict[str, dict], confirmation: list[dict], path: Path) -> None:
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
        for c in confirmation:
            if c["study"] == label and c["retried"]:
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
