"""Re-derive the figures of the README, docs/results.md, remedies.md and real_data.md from raw files, and
check the words that carry a claim.

A second, independent reading (STYLE.md, "Studies and the claims they make"). It imports nothing from
``seqgan`` and reads no summary a study wrote (``comparison.json``, ``symmetric.json``, ``own_start.json``,
``real.json``, ``table1.json``, Optuna's ``summary.json``): only the runs' ``results.json``, ``config.yaml``
and ``compute.json``, and the sweeps' points (``sweep.json``, ``sweep_pretrained.json``, the curves of a
``temperature.json``). It interpolates, cuts curves, finds fronts, counts claims and computes its tests
on its own (scipy.stats gives the t distribution only), so that a bug in a study shows up as a mismatch.

* **Figures.** Each check is (description, document, pattern, files, function, format): the pattern is
  the text around the figure as the document writes it, with the figure as one regex group ``(...)``;
  the function computes it from files under ``--results``; the format writes it as the document should.
  Every gap is a model minus its control, negative better (BLEU as 1 - BLEU), so a figure with the
  other sign is a mismatch.
* **Words** (README.md, docs/results.md, docs/real_data.md): a "not significant" whose nearest p-value in
  its sentence is below 0.05 fails, and so does a "significant" whose sentence names neither Welch's nor
  the paired test; an "always", "every seed" or "all N seeds" fails unless a check below verifies it seed
  by seed and it holds; a difference written control - model ("MLE − SeqGAN") or a signed figure after
  "below/above ... by" fails as a sign against the convention.

A mismatch, or a pattern the document no longer holds, is one line naming the figure, the files and both
values, and the exit status is 1.

    python scripts/check_results.py [--results DIR] [--readme README.md] [--results-doc docs/results.md] ...
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import statistics
import subprocess
import sys
from pathlib import Path

import yaml
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"  # --results sets it before any check runs
TABLE1_SEEDS = (0, 1, 2)
CONFIRM_SEEDS = (3, 4, 5)
OWN_START_SEEDS = (10, 11, 12, 13, 14)
REAL_TASKS = ("poems", "obama", "nottingham", "coco")
ALPHA = 0.05  # a retried claim's one-sided test, on each axis
CONFIRM_MAX = 3  # trials retried per study (docs/results.md: "the three trials whose strongest claim ...")
MINUS = "\u2212"  # the documents write a minus sign


# -- reading files ---------------------------------------------------------------------------------------


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def results(run: str) -> dict:
    return load(RESULTS / run / "results.json")


def row(run: str, name: str, metric: str) -> float:
    return results(run)["rows"][name][metric]


# -- statistics, our own -----------------------------------------------------------------------------------


def mean(values: list[float]) -> float:
    return statistics.fmean(values)


def sd(values: list[float]) -> float:
    return statistics.stdev(values)


def t_p(values: list[float]) -> float:
    """Two-sided p of the one-sample t-test of ``values`` against 0 (the paired test, given differences)."""
    n = len(values)
    t = mean(values) / (sd(values) / math.sqrt(n))
    return 2 * float(stats.t.sf(abs(t), n - 1))


def ci95(values: list[float]) -> tuple[float, float]:
    n = len(values)
    half = float(stats.t.ppf(0.975, n - 1)) * sd(values) / math.sqrt(n)
    return mean(values) - half, mean(values) + half


def welch_p(a: list[float], b: list[float]) -> float:
    """Two-sided p of Welch's t-test: the t statistic with unpooled variances, Welch-Satterthwaite df."""
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    t = (mean(a) - mean(b)) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return 2 * float(stats.t.sf(abs(t), df))


def wilcoxon_p(values: list[float]) -> float:
    """Exact two-sided p of Wilcoxon's signed-rank test, by enumerating every sign pattern of the ranks
    of |value| (no zeros or ties among the values we test)."""
    order = sorted(range(len(values)), key=lambda i: abs(values[i]))
    ranks = {i: r + 1 for r, i in enumerate(order)}
    w = sum(ranks[i] for i, v in enumerate(values) if v > 0)
    sums = [
        sum(r for r, s in zip(ranks.values(), signs) if s) for signs in itertools.product((0, 1), repeat=len(values))
    ]
    low = sum(s <= w for s in sums) / len(sums)
    high = sum(s >= w for s in sums) / len(sums)
    return min(1.0, 2 * min(low, high))


def one_sided_below(values: list[float], bound: float) -> float:
    """p of the one-sided t-test that the mean of ``values`` is below ``bound`` (H0: at or above it)."""
    if sd(values) == 0:
        return 0.0 if mean(values) < bound else 1.0
    return float(stats.t.sf((bound - mean(values)) / (sd(values) / math.sqrt(len(values))), len(values) - 1))


# -- formats, as the documents write them -------------------------------------------------------------------


def fmt_p(p: float) -> str:
    return f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}"


def signed(x: float) -> str:
    return f"{x:+.3f}".replace("-", MINUS)


def pm(values: list[float]) -> str:
    return f"{mean(values):.3f} ± {sd(values):.3f}"


def signed_pm(values: list[float]) -> str:
    return f"{signed(mean(values))} ± {sd(values):.3f}"


def interval(values: list[float]) -> str:
    lo, hi = ci95(values)
    return f"[{signed(lo)}, {signed(hi)}]"


def span(values: list[float], fmt=signed) -> str:
    """A range as the prose gives it: from the lowest value to the highest."""
    return f"{fmt(min(values))} to {fmt(max(values))}"


# -- curves: interpolation along NLL-test ---------------------------------------------------------------------


def interpolate(points: list[tuple[float, float]], x: float) -> float | None:
    """y at ``x`` on the polyline through ``points`` (x, y), sorted by x; None outside its range."""
    pts = sorted(points)
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x0 <= x <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return None


def cold_branch(points: list[dict]) -> list[dict]:
    """A sweep's points up to the temperature of lowest NLL-test: past it a curve folds back."""
    pts = sorted(points, key=lambda p: p["temperature"])
    lowest = min(range(len(pts)), key=lambda i: pts[i]["nll_test"])
    return pts[: lowest + 1]


def oracle_at(points: list[dict], nll_test: float, cut: bool = True) -> float | None:
    """A tempered curve's NLL-oracle at ``nll_test`` (on its cold branch when ``cut``)."""
    pts = cold_branch(points) if cut else points
    return interpolate([(p["nll_test"], p["nll_oracle"]) for p in pts], nll_test)


def t1_point(points: list[dict]) -> dict:
    return next(p for p in points if abs(p["temperature"] - 1.0) < 1e-9)


# -- Table 1 and the temperature sweep (finding 1) -----------------------------------------------------------


def table1(name: str, metric: str) -> list[float]:
    return [row(f"table1/seed{s}", name, metric) for s in TABLE1_SEEDS]


def table1_gap() -> list[float]:
    """SeqGAN minus the MLE row (its control) in NLL-oracle, per seed."""
    return [g - m for g, m in zip(table1("SeqGAN", "nll_oracle"), table1("MLE", "nll_oracle"))]


def temperature_runs() -> list[dict]:
    return load(RESULTS / "temperature" / "temperature.json")["per_run"]


def temperature_gaps(curve: str = "pretrained") -> list[float]:
    """SeqGAN's T = 1 point minus each run's tempered ``curve`` at its NLL-test (the whole sweep)."""
    gaps = []
    for run in temperature_runs():
        t1 = t1_point(run["curves"]["SeqGAN"])
        gaps.append(t1["nll_oracle"] - oracle_at(run["curves"][curve], t1["nll_test"], cut=False))
    return gaps


def tempered_seqgan_gaps(seed: int, min_t: float = 0.0) -> list[float]:
    """SeqGAN's tempered curve minus the pre-trained curve at each SeqGAN temperature >= ``min_t``."""
    run = temperature_runs()[TABLE1_SEEDS.index(seed)]
    gaps = []
    for p in run["curves"]["SeqGAN"]:
        at = oracle_at(run["curves"]["pretrained"], p["nll_test"], cut=False)
        if at is not None and p["temperature"] >= min_t - 1e-9:
            gaps.append(p["nll_oracle"] - at)
    return gaps


# -- the first tuning comparison (finding 2's last sentence, docs/results.md) ---------------------------------


def tuning_trials(study: str) -> list[dict]:
    """Finished trials of results/tuning/STUDY (a folder set aside as .unfinished is no trial)."""
    dirs = [d for d in (RESULTS / "tuning" / study).glob("trial-*") if re.fullmatch(r"trial-\d+", d.name)]
    return [load(d / "results.json") for d in sorted(dirs) if (d / "results.json").is_file()]


def dominated(p: tuple, others: list[tuple]) -> bool:
    return any(q[0] <= p[0] and q[1] <= p[1] and q != p for q in others)


def front(points: list[tuple]) -> list[tuple]:
    return sorted(p for p in points if not dominated(p, points))


def tuning_front(study: str) -> list[tuple]:
    return front([(r["rows"]["SeqGAN"]["nll_oracle"], r["rows"]["SeqGAN"]["nll_test"]) for r in tuning_trials(study)])


def tuning_undominated() -> str:
    seqgan, mle = tuning_front("seqgan"), tuning_front("mle")
    return f"{sum(not dominated(p, mle) for p in seqgan)} of {len(seqgan)}"


def wall_hours(study: str) -> float:
    return sum(r["seconds"] for r in tuning_trials(study)) / 3600


def confirmed(study: str, metric: str) -> list[float]:
    return [row(f"tuning/{study}/confirm/seed{s}", "SeqGAN", metric) for s in CONFIRM_SEEDS]


# -- tuned SeqGAN against its own tempered start (findings 3 and 5) -------------------------------------------


def own_sweep(seed: int, arm: str) -> dict:
    """An arm's sweep: the pre-trained generator (sweep A beside the paper arm, B beside the tuned one)
    and the arm's SeqGAN generator."""
    path = RESULTS / "own_start" / "own_start_sweeps" / f"seed{seed}" / arm / "temperature.json"
    return load(path)["per_run"][0]["curves"]


def own_gaps(arm: str) -> list[float]:
    """Per seed, ``arm``'s T = 1 point minus the mean of sweeps A and B at its NLL-test (cold branches),
    or for "tuned - paper" the tuned arm's gap minus the paper arm's."""
    out = []
    for s in OWN_START_SEEDS:
        sweeps = {a: own_sweep(s, a) for a in ("paper", "tuned")}
        refs = [sweeps[a]["pretrained"] for a in ("paper", "tuned")]
        gap = {}
        for a in ("paper", "tuned"):
            t1 = t1_point(sweeps[a]["SeqGAN"])
            gap[a] = t1["nll_oracle"] - mean([oracle_at(r, t1["nll_test"]) for r in refs])
        out.append(gap["tuned"] - gap["paper"] if arm == "tuned - paper" else gap[arm])
    return out


def own_raw_diff() -> list[float]:
    """Per seed, the tuned arm's NLL-oracle at T = 1 minus the paper arm's (the sweeps' T = 1 points)."""
    return [
        t1_point(own_sweep(s, "tuned")["SeqGAN"])["nll_oracle"]
        - t1_point(own_sweep(s, "paper")["SeqGAN"])["nll_oracle"]
        for s in OWN_START_SEEDS
    ]


# -- real data over seeds (finding 4) ------------------------------------------------------------------------------

REAL = "real_seeds"


def real_seeds(task: str) -> list[int]:
    folder = RESULTS / REAL / task
    return sorted(int(d.name[4:]) for d in folder.glob("seed*") if (d / "results.json").is_file())


def real_rows(task: str, name: str, metric: str) -> list[float]:
    return [row(f"{REAL}/{task}/seed{s}", name, metric) for s in real_seeds(task)]


def lower_better(metric: str, model: float, control: float) -> float:
    """The model minus its control on a scale where lower is better: BLEU-n as 1 - BLEU-n."""
    return control - model if re.fullmatch(r"bleu\d+", metric) else model - control


def real_vs_mle(task: str, metric: str) -> list[float]:
    """Per seed, SeqGAN minus the MLE row (lower is better)."""
    return [
        lower_better(metric, s, m)
        for s, m in zip(real_rows(task, "SeqGAN", metric), real_rows(task, "MLE", metric), strict=True)
    ]


def real_welch(task: str, metric: str) -> float:
    return welch_p(real_rows(task, "SeqGAN", metric), real_rows(task, "MLE", metric))


def real_curve_at(points: list[dict], x_key: str, y_key: str, x: float) -> float | None:
    """``y_key`` of a sweep at ``x_key`` = ``x``: between the first two neighbouring temperatures, from the
    coldest, that bracket ``x``; for NLL-test on the cold branch only."""
    pts = cold_branch(points) if x_key == "nll_test" else sorted(points, key=lambda p: p["temperature"])
    for p0, p1 in zip(pts, pts[1:]):
        x0, x1 = p0[x_key], p1[x_key]
        if min(x0, x1) <= x <= max(x0, x1):
            return p0[y_key] if x1 == x0 else p0[y_key] + (p1[y_key] - p0[y_key]) * (x - x0) / (x1 - x0)
    return None


def real_vs_tempered(task: str, at_key: str = "nll_test") -> list[float]:
    """Per seed, SeqGAN minus the tempered pre-trained generator in 1 - BLEU-4, read at SeqGAN's NLL-test
    or Self-BLEU-4 (``at_key``); seeds whose value lies outside the curve are left out."""
    gaps = []
    for s in real_seeds(task):
        seqgan = results(f"{REAL}/{task}/seed{s}")["rows"]["SeqGAN"]
        points = load(RESULTS / REAL / "real_sweeps" / task / f"seed{s}" / "sweep.json")["points"]
        at = real_curve_at(points, at_key, "bleu4", seqgan[at_key])
        if at is not None:
            gaps.append(lower_better("bleu4", seqgan["bleu4"], at))
    return gaps


def real_tasks() -> list[str]:
    return [t for t in REAL_TASKS if (RESULTS / REAL / t).is_dir() and len(real_seeds(t)) >= 2]


def self_bleu_words() -> str:
    """'11 of 12 seeds (Nottingham seed 0: 0.902 against 0.905)': the seeds where SeqGAN's Self-BLEU-4 is
    above the MLE row's, of all, and each other one with both values."""
    pairs = [(t, s, a, b) for t in real_tasks() for s, a, b in
             zip(real_seeds(t), real_rows(t, "SeqGAN", "self_bleu4"), real_rows(t, "MLE", "self_bleu4"))]  # fmt: skip
    rest = [f"{t.capitalize()} seed {s}: {a:.3f} against {b:.3f}" for t, s, a, b in pairs if not a > b]
    return f"{sum(a > b for *_, a, b in pairs)} of {len(pairs)} seeds ({'; '.join(rest)})"


def real_one(task: str, name: str, metric: str) -> float:
    return row(f"real/{task}", name, metric)


# -- the symmetric tuning comparison (finding 2) -----------------------------------------------------------------

SYM = "tuning_symmetric"
_sym: dict = {}


def sym_trials(study: str) -> list[dict]:
    """Every trial folder of a study, by number: CPU-hours (results.json, or compute.json for a failed one),
    wall hours and its swept points (trial, T, NLL-oracle, NLL-test)."""
    folder = RESULTS / SYM / study
    trials = []
    for d in sorted((d for d in folder.iterdir() if re.fullmatch(r"trial-\d+", d.name)), key=lambda d: d.name):
        n = int(d.name[6:])
        if (d / "results.json").is_file():
            r = load(d / "results.json")
            sweep = load(d / "sweep.json")
            points = [(p["nll_oracle"], p["nll_test"], n, p["temperature"]) for p in sweep["points"]]
            trials.append({"trial": n, "cpu": r["cpu_seconds"], "wall": r["seconds"], "points": points, "run": r})
        else:
            trials.append({"trial": n, "cpu": load(d / "compute.json")["cpu_seconds"], "wall": 0.0, "points": []})
    return trials


def sym_front(trials: list[dict]) -> list[tuple]:
    points = [p for t in trials for p in t["points"]]
    xy = [p[:2] for p in points]
    return sorted(p for p in points if not dominated(p[:2], xy))


def sym_compare(subsets: dict[str, list[dict]]) -> dict:
    fronts = {k: sym_front(v) for k, v in subsets.items()}
    out = {}
    for k, other in (("SeqGAN", "MLE"), ("MLE", "SeqGAN")):
        other_xy = [q[:2] for q in fronts[other]]
        out[k] = {
            "trials": len(subsets[k]),
            "cpu_hours": sum(t["cpu"] for t in subsets[k]) / 3600,
            "front": fronts[k],
            "undominated": [p for p in fronts[k] if not dominated(p[:2], other_xy)],
            "dominating": {
                p: [q[:2] for q in fronts[other] if q[:2] != p[:2] and p[0] <= q[0] and p[1] <= q[1]] for p in fronts[k]
            },  # fmt: skip
        }
    return out


def symmetric() -> dict:
    """The comparison re-derived: fronts with all trials, the first n each and at equal compute; every
    point said to dominate; the three trials a study with the most dominated points, retried on the
    confirmation runs' sweeps; each claim tested on both axes, and against its pre-trained start."""
    if _sym:
        return _sym
    trials = {"SeqGAN": sym_trials("seqgan"), "MLE": sym_trials("mle")}
    n = min(len(v) for v in trials.values())
    budget = min(sum(t["cpu"] for t in v) for v in trials.values())

    def within(ts):
        kept, total = [], 0.0
        for t in ts:
            total += t["cpu"]
            if total > budget + 1e-9:
                break
            kept.append(t)
        return kept

    compared = {
        "all trials": sym_compare(trials),
        "the first": sym_compare({k: v[:n] for k, v in trials.items()}),
        "equal compute": sym_compare({k: within(v) for k, v in trials.items()}),
    }
    claims: dict[tuple, list] = {}  # (study, trial, T) -> points of the other front it dominated
    for vs in compared.values():
        for study, r in vs.items():
            for p, dom in r["dominating"].items():
                if dom:
                    found = claims.setdefault((study, p[2], p[3]), [])
                    found += [q for q in dom if q not in found]
    retried = {}
    for study in trials:
        most: dict[int, int] = {}
        for (s, trial, _), found in claims.items():
            if s == study:
                most[trial] = max(most.get(trial, 0), len(found))
        retried[study] = sorted(most, key=lambda t: (-most[t], t))[:CONFIRM_MAX]
    tested = []
    for (study, trial, temp), found in sorted(claims.items()):
        c = {"study": study, "trial": trial, "temperature": temp, "found": found, "retried": trial in retried[study]}
        if c["retried"]:
            folder = RESULTS / SYM / "confirm" / study / f"trial-{trial:04d}"
            seeds = sorted(folder.glob("seed*[0-9]"), key=lambda d: int(d.name[4:]))

            def at(name, seeds=seeds, temp=temp):
                return [next(p for p in load(d / name)["points"] if p["temperature"] == temp) for d in seeds]

            def clears(points, q):
                return all(
                    one_sided_below([p[k] for p in points], v) < ALPHA for k, v in zip(("nll_oracle", "nll_test"), q)
                )

            fresh = at("sweep.json")
            mean_xy = (mean([p["nll_oracle"] for p in fresh]), mean([p["nll_test"] for p in fresh]))
            c["by_mean"] = [q for q in found if mean_xy[0] <= q[0] and mean_xy[1] <= q[1] and mean_xy != q]
            c["holds"] = [q for q in found if clears(fresh, q)]
            config = yaml.safe_load((RESULTS / SYM / study.lower() / f"trial-{trial:04d}" / "config.yaml").read_text())
            c["config"] = config
            if config["train"]["rounds"]:
                start = at("sweep_pretrained.json")
                start_holds = [q for q in found if clears(start, q)]
                c["covered"] = bool(c["holds"]) and all(q in start_holds for q in c["holds"])
                c["diff"] = {
                    k: [a[k] - b[k] for a, b in zip(fresh, start, strict=True)] for k in ("nll_oracle", "nll_test")
                }
        tested.append(c)
    _sym.update(trials=trials, compared=compared, claims=tested)
    return _sym


def sym_claims(study: str) -> list[dict]:
    return [c for c in symmetric()["claims"] if c["study"] == study]


def sym_per_trial(study: str) -> dict[int, list[dict]]:
    by: dict[int, list[dict]] = {}
    for c in sym_claims(study):
        by.setdefault(c["trial"], []).append(c)
    return by


def sym_claim_words(study: str) -> str:
    """'3 of its 3 retried trials (18 of their 22 points; 3 trials not retried)' for MLE, as finding 2 writes it."""
    by = sym_per_trial(study)
    tried = {t: cs for t, cs in by.items() if cs[0]["retried"]}
    held = sum(any(c["holds"] for c in cs) for cs in tried.values())
    points = sum(len(cs) for cs in tried.values())
    holding = sum(bool(c["holds"]) for cs in tried.values() for c in cs)
    return f"{held} of {len(tried)}", f"{holding} of {points}", len(by) - len(tried)


def sym_start(stat: str, metric: str = "nll_test") -> str:
    starts = [c for c in sym_claims("SeqGAN") if c.get("diff")]
    if stat == "mean":
        return span([mean(c["diff"][metric]) for c in starts])
    ps = [t_p(c["diff"][metric]) for c in starts]
    return f"{fmt_p(min(ps))} to {fmt_p(max(ps))}"


def sym_config(study: str) -> str:
    described = []  # the docs say the claims come from one trial: a second one shows as a mismatch
    for _, cs in sorted(sym_per_trial(study).items()):
        if cs[0]["retried"]:
            cfg = cs[0]["config"]
            described.append(
                f"{cfg['train']['pretrain_g_epochs']} pre-training epochs, lr {cfg['generator']['lr']:.4f}"
            )
    return "; ".join(described)


def sym_lowest(study: str, axis: int) -> str:
    p = min(symmetric()["compared"]["all trials"][study]["front"], key=lambda q: q[axis])
    other = 1 - axis
    return f"{p[axis]:.3f} ({['NLL-oracle', 'NLL-test'][other]} {p[other]:.3f}, T = {p[3]:g})"


def sym_mle_t1_front() -> list[tuple]:
    """The MLE study's front at T = 1: each trial's own evaluation (results.json)."""
    return front([(t["run"]["rows"]["SeqGAN"]["nll_oracle"], t["run"]["rows"]["SeqGAN"]["nll_test"])
                  for t in symmetric()["trials"]["MLE"] if "run" in t])  # fmt: skip


def sym_unclaimed() -> str:
    """SeqGAN's undominated front points that made no claim: of trials without claims, and of the claiming one."""
    r = symmetric()["compared"]["all trials"]["SeqGAN"]
    claimed = {(c["trial"], c["temperature"]) for c in sym_claims("SeqGAN")}
    trials = {c["trial"] for c in sym_claims("SeqGAN")}
    rest = [p for p in r["undominated"] if (p[2], p[3]) not in claimed]
    others = sorted({p[2] for p in rest if p[2] not in trials})
    same = sum(p[2] in trials for p in rest)
    return f"{len(rest) - same} of trials {' and '.join(map(str, others))}, and {same} more of trial " + ", ".join(
        map(str, sorted(trials))
    )


def space_keys(name: str) -> int:
    text = (ROOT / "configs" / "tune" / f"symmetric_{name}.yaml").read_text(encoding="utf-8")
    return sum(1 for line in text.splitlines() if re.match(r"[a-z_]+\.[a-z_.]+:", line))


# -- the figure checks -----------------------------------------------------------------------------------------

R, D, RD, RM = "README.md", "docs/results.md", "docs/real_data.md", "docs/remedies.md"
T1 = "results/table1/seed*/results.json"
TEMP = "results/temperature/temperature.json (curves)"
OWN = "results/own_start/own_start_sweeps/seed*/{paper,tuned}/temperature.json (curves)"
SYMR = "results/tuning_symmetric/{seqgan,mle,confirm}"
RS = "results/real_seeds"


def checks() -> list[tuple]:
    """Every figure check, built after --results is known."""
    c = [
        # finding 1 and Table 1's paragraph
        ("SeqGAN - MLE, mean ± std over seeds", R, r"SeqGAN − MLE in NLL-oracle is (\S+ ± [\d.]+) nats", T1,
         table1_gap, signed_pm),
        ("SeqGAN vs MLE, Welch p over seeds", R, r"\(seeds 0-2; Welch p = ([\d.]+), not significant\)", T1,
         lambda: welch_p(table1("SeqGAN", "nll_oracle"), table1("MLE", "nll_oracle")), fmt_p),
        ("SeqGAN - tempered pre-trained curve at T = 1, per seed", R, r"SeqGAN − that curve is (\S+, \S+ and \S+) nats",
         TEMP, temperature_gaps, lambda g: f"{signed(g[0])}, {signed(g[1])} and {signed(g[2])}"),
        ("SeqGAN - tempered pre-trained curve at T = 1, mean", R, r"not shown to be below it \(mean (\S+), 95 % CI",
         TEMP, lambda: mean(temperature_gaps()), signed),
        ("SeqGAN - tempered pre-trained curve at T = 1, CI", R, r"95 % CI over the seeds (\[\S+, \S+\])\)", TEMP,
         temperature_gaps, interval),
        ("SeqGAN per seed", R, r"SeqGAN is below MLE on every seed \(([\d., ]+) against", T1,
         lambda: table1("SeqGAN", "nll_oracle"), lambda v: ", ".join(f"{x:.3f}" for x in v)),
        ("MLE per seed", R, r"SeqGAN is below MLE on every seed \([\d., ]+ against ([\d., ]+)\)", T1,
         lambda: table1("MLE", "nll_oracle"), lambda v: ", ".join(f"{x:.3f}" for x in v)),
        # finding 2: the first, asymmetric comparison
        ("first comparison: SeqGAN front points undominated", R, r"left (\d+ of \d+) SeqGAN front points undominated",
         "results/tuning/{seqgan,mle}/trial-*/results.json", tuning_undominated, str),
        ("first comparison: trials a study", R,
         r"neither; (\d+ MLE trials in [\d.]+ wall-clock hours against SeqGAN's \d+ in [\d.]+)",
         "results/tuning/*/trial-*/results.json",
         lambda: f"{len(tuning_trials('mle'))} MLE trials in {wall_hours('mle'):.1f} wall-clock hours against SeqGAN's "
         f"{len(tuning_trials('seqgan'))} in {wall_hours('seqgan'):.1f}", str),
        # finding 3: tuned against the paper's settings, paired (own start) and unpaired (Table 1)
        ("own start: tuned - paper NLL-oracle at T = 1", R, r"tuned − paper in NLL-oracle at T = 1 is (\S+) nats", OWN,
         lambda: mean(own_raw_diff()), signed),
        ("own start: tuned - paper NLL-oracle CI", R, r"at T = 1 is \S+ nats \(95 % CI (\[\S+, \S+\])", OWN,
         own_raw_diff, interval),
        ("own start: tuned - paper NLL-oracle paired p", R, r"\(95 % CI \[\S+, \S+\], paired t-test p = ([\d.]+)\)",
         OWN,
         lambda: t_p(own_raw_diff()), fmt_p),
        ("own start: tuned - paper gap", R, r"and (\S+) at equal NLL-test \(paired", OWN,
         lambda: mean(own_gaps("tuned - paper")), signed),
        ("own start: tuned - paper gap p", R, r"at equal NLL-test \(paired t-test p = ([\d.]+), Wilcoxon", OWN,
         lambda: t_p(own_gaps("tuned - paper")), fmt_p),
        ("own start: tuned - paper Wilcoxon p", R,
         r"at equal NLL-test \(paired t-test p = [\d.]+, Wilcoxon p = ([\d.]+)\)",
         OWN, lambda: wilcoxon_p(own_gaps("tuned - paper")), fmt_p),
        ("tuned - untuned SeqGAN, NLL-oracle", R, r"Table 1's untuned runs on seeds 0-2: (\S+) nats, Welch",
         T1 + ", confirm",
         lambda: mean(confirmed("seqgan", "nll_oracle")) - mean(table1("SeqGAN", "nll_oracle")), signed),
        ("tuned vs untuned SeqGAN, Welch p", R, r"nats, Welch p = ([\d.]+)\) is confounded", T1 + ", confirm",
         lambda: welch_p(confirmed("seqgan", "nll_oracle"), table1("SeqGAN", "nll_oracle")), fmt_p),
        # finding 5: the tuned arm against its own tempered start
        ("own start: tuned gap", R, r"tuned SeqGAN − the pre-trained generator's tempered curve is (\S+) nats", OWN,
         lambda: mean(own_gaps("tuned")), signed),
        ("own start: tuned 95 % CI", R, r"tempered curve is \S+ nats \(95 % CI (\[\S+, \S+\]), t-test", OWN,
         lambda: own_gaps("tuned"), interval),
        ("own start: tuned p", R, r"tempered curve is \S+ nats \(95 % CI \[\S+, \S+\], t-test p = ([\d.]+)\)", OWN,
         lambda: t_p(own_gaps("tuned")), fmt_p),
        ("own start: tuned - paper beside the tuned interval", R, r"tuning's own over the paper's settings \((\S+)\)",
         OWN, lambda: mean(own_gaps("tuned - paper")), signed),
        ("own start: paper gap", R, r"SeqGAN − its tempered start is (\S+) \(95 % CI", OWN,
         lambda: mean(own_gaps("paper")), signed),
        ("own start: paper CI", R, r"tempered start is \S+ \(95 % CI (\[\S+, \S+\]), t-test", OWN,
         lambda: own_gaps("paper"), interval),
        ("own start: paper p", R, r"tempered start is \S+ \(95 % CI \[\S+, \S+\], t-test p = ([\d.]+)\)", OWN,
         lambda: t_p(own_gaps("paper")), fmt_p),
        # docs/results.md: Table 1, temperature, tuning
        ("SeqGAN - MLE per seed (docs)", D, r"SeqGAN − MLE in NLL-oracle is (\S+, \S+ and \S+) nats on seeds 0, 1, 2",
         T1,
         table1_gap, lambda g: f"{signed(g[0])}, {signed(g[1])} and {signed(g[2])}"),
        ("SeqGAN - MLE, mean ± std (docs)", D, r"nats on seeds 0, 1, 2 \((\S+ ± [\d.]+)\)", T1, table1_gap, signed_pm),
        ("SeqGAN's spread over seeds", D, r"SeqGAN's own spread over seeds is ([\d.]+)", T1,
         lambda: sd(table1("SeqGAN", "nll_oracle")), "{:.3f}".format),
        ("SeqGAN vs MLE, Welch p (docs)", D, r"not significant here \(Welch p = ([\d.]+)\)", T1,
         lambda: welch_p(table1("SeqGAN", "nll_oracle"), table1("MLE", "nll_oracle")), fmt_p),
        ("tempered SeqGAN, seed 0 at T >= 1.05", D, r"seed 0 is (\S+ to \S+) at every T ≥ 1.05", TEMP,
         lambda: tempered_seqgan_gaps(0, 1.05), span),
        ("tempered SeqGAN, seed 1", D, r"seed 1 it is (\S+ to \S+) at every temperature", TEMP,
         lambda: tempered_seqgan_gaps(1), span),
        ("tempered SeqGAN, seed 2", D, r"seed 2 it is (\S+ to \S+)\.", TEMP, lambda: tempered_seqgan_gaps(2), span),
        ("SeqGAN - MLE row's curve", D, r"SeqGAN − the MLE row's curve is (\S+ to \S+) nats", TEMP,
         lambda: temperature_gaps("MLE"), span),
        ("MLE's confirmed best, NLL-oracle", D, r"fresh seeds 3-5 \(AMD EPYC, fp32\): NLL-oracle ([\d.]+ ± [\d.]+)",
         "results/tuning/mle/confirm/seed*/results.json", lambda: confirmed("mle", "nll_oracle"), pm),
        ("tuned - untuned SeqGAN (docs)", D, r"[Tt]uned − untuned is (\S+) in NLL-oracle", T1 + ", confirm",
         lambda: mean(confirmed("seqgan", "nll_oracle")) - mean(table1("SeqGAN", "nll_oracle")), signed),
        ("tuned - untuned SeqGAN p (docs)", D, r"in NLL-oracle \(Welch p = ([\d.]+)\)", T1 + ", confirm",
         lambda: welch_p(confirmed("seqgan", "nll_oracle"), table1("SeqGAN", "nll_oracle")), fmt_p),
        ("tuned - untuned SeqGAN NLL-test (docs)", D, r"and (\S+) in NLL-test \(Welch", T1 + ", confirm",
         lambda: mean(confirmed("seqgan", "nll_test")) - mean(table1("SeqGAN", "nll_test")), signed),
        ("tuned - untuned SeqGAN NLL-test p (docs)", D, r"in NLL-test \(Welch p = ([\d.]+)\)", T1 + ", confirm",
         lambda: welch_p(confirmed("seqgan", "nll_test"), table1("SeqGAN", "nll_test")), fmt_p),
        ("first comparison: wall hours (docs)", D, r"not equal compute: ([\d.]+ wall-clock hours of MLE trials against "
         r"[\d.]+)", "results/tuning/*/trial-*/results.json",
         lambda: f"{wall_hours('mle'):.1f} wall-clock hours of MLE trials against {wall_hours('seqgan'):.1f}", str),
        # docs/results.md: the own-start table
        *[
            (f"own start table: {label}, {what}", D, rf"\| {re.escape(label)} \| {cells} \|", OWN, fn, fmt)
            for label, arm in (("paper settings, T = 1", "paper"), ("tuned settings, T = 1", "tuned"),
                               ("tuned - paper (paired), T = 1", "tuned - paper"))
            for what, cells, fn, fmt in (
                ("mean", r"(\S+) \| [^|]+ \| [^|]+ \| [^|]+", lambda a=arm: mean(own_gaps(a)), signed),
                ("CI", r"\S+ \| (\[\S+, \S+\]) \| [^|]+ \| [^|]+", lambda a=arm: own_gaps(a), interval),
                ("t-test p", r"\S+ \| [^|]+ \| ([\d.]+) \| [^|]+", lambda a=arm: t_p(own_gaps(a)), fmt_p),
                ("Wilcoxon p", r"\S+ \| [^|]+ \| [^|]+ \| ([\d.]+)", lambda a=arm: wilcoxon_p(own_gaps(a)), fmt_p),
            )
        ],
        ("remedies: Xeon-bf16 none arm, NLL-oracle", RM, r"It ends at NLL-oracle ([\d.]+ ± [\d.]+)",
         "results/penalty/xeon-bf16/none-seed*/results.json",
         lambda: [row(f"penalty/xeon-bf16/none-seed{s}", "SeqGAN", "nll_oracle") for s in TABLE1_SEEDS], pm),
    ]  # fmt: skip
    c += symmetric_checks() + real_checks() + table1_checks()
    return c


def symmetric_checks() -> list[tuple]:
    def comparison(name: str, study: str) -> dict:
        return symmetric()["compared"][name][study]

    def cpu(study: str) -> float:
        return sum(t["cpu"] for t in symmetric()["trials"][study]) / 3600

    def wall(study: str) -> float:
        return sum(t["wall"] for t in symmetric()["trials"][study]) / 3600

    def all_trials() -> str:
        return "; ".join(
            f"{comparison('all trials', k)['trials']} {k} trials, {cpu(k):.2f} CPU-h" for k in ("SeqGAN", "MLE")
        )

    def equal_compute() -> str:
        s, m = comparison("equal compute", "SeqGAN"), comparison("equal compute", "MLE")
        return (f"SeqGAN's first {s['trials']} trials, {s['cpu_hours']:.2f} CPU-h, against MLE's {m['trials']}, "
                f"{m['cpu_hours']:.2f} CPU-h) {len(s['undominated'])} of SeqGAN's {len(s['front'])}")  # fmt: skip

    def mle_claims() -> str:
        trials, points, not_retried = sym_claim_words("MLE")
        return f"{trials} retried trials ({points} of their points; {not_retried} trials not retried)"

    def seqgan_claims() -> str:
        trials, points, _ = sym_claim_words("SeqGAN")
        by_mean = sum(bool(c["by_mean"]) for c in sym_claims("SeqGAN") if c["retried"])
        return f"{trials} retried trial ({points} of its points; the mean alone dominated at {by_mean})"

    def covered() -> str:
        holding = [c for c in sym_claims("SeqGAN") if c["holds"] and "covered" in c]
        return f"{sum(c['covered'] for c in holding)} of its {len(holding)} holding points"

    def per_point(study: str) -> str:
        cs = [c for c in sym_claims(study) if c["retried"]]
        return f"{sum(bool(c['holds']) for c in cs)} of {study}'s {len(cs)}"

    def by_mean(study: str) -> str:
        return str(sum(bool(c["by_mean"]) for c in sym_claims(study) if c["retried"]))

    def equal_compute_dominated() -> str:
        s, m = comparison("equal compute", "SeqGAN"), comparison("equal compute", "MLE")
        mle_dominated = len(m["front"]) - len(m["undominated"])
        return f"{len(s['front']) - len(s['undominated'])} of SeqGAN's {len(s['front'])} points**, and " + (
            f"none of MLE's {len(m['front'])}" if not mle_dominated else f"{mle_dominated} of MLE's {len(m['front'])}"
        )

    mle_t1 = "results/tuning_symmetric/mle/trial-*/results.json"
    c = [
        ("symmetric: trials and CPU-h", R,
         r"With all trials \((\d+ SeqGAN trials, [\d.]+ CPU-h; \d+ MLE trials, [\d.]+ CPU-h)\)", SYMR, all_trials, str),
        ("symmetric: SeqGAN front undominated", R, r"interleave: (\d+ of SeqGAN's \d+) front points", SYMR,
         lambda: comparison("all trials", "SeqGAN"),
          lambda s: f"{len(s['undominated'])} of SeqGAN's {len(s['front'])}"),
        ("symmetric: MLE front undominated", R, r"front points and (\d+ of MLE's \d+) are undominated", SYMR,
         lambda: comparison("all trials", "MLE"), lambda s: f"{len(s['undominated'])} of MLE's {len(s['front'])}"),
        ("symmetric: equal compute", R, r"At equal compute \((SeqGAN's first \d+ trials, [\d.]+ CPU-h, against MLE's "
         r"\d+, [\d.]+ CPU-h\) \d+ of SeqGAN's \d+) are", SYMR, equal_compute, str),
        ("symmetric: MLE's claims per trial", R,
         r"MLE's claims hold for (\d+ of \d+ retried trials \(\d+ of \d+ of their "
         r"points; \d+ trials not retried\))", SYMR, mle_claims, str),
        ("symmetric: SeqGAN's claims per trial", R,
         r"SeqGAN's for (\d+ of \d+ retried trial \(\d+ of \d+ of its points; "
         r"the mean alone dominated at \d+\))", SYMR, seqgan_claims, str),
        ("symmetric: SeqGAN claims' trial", R, r"That trial \(([^)]+)\)", SYMR, lambda: sym_config("SeqGAN"), str),
        ("symmetric: start alone", R, r"at (\d+ of its \d+ holding points) the same seeds' pre-trained", SYMR, covered,
         str),
        ("symmetric: adversarial - start NLL-test", R, r"adversarial − start is (\S+ to \S+) nats in NLL-test", SYMR,
         lambda: sym_start("mean"), str),
        ("symmetric: adversarial - start NLL-test p", R,
         r"nats in NLL-test \(paired t-test over seeds, p from (\S+ to \S+)\)",
         SYMR, lambda: sym_start("p"), str),
        ("symmetric: adversarial - start NLL-oracle", R, r"and (\S+ to \S+) in NLL-oracle \(p from", SYMR,
         lambda: sym_start("mean", "nll_oracle"), str),
        ("symmetric: adversarial - start NLL-oracle p", R, r"in NLL-oracle \(p from (\S+ to \S+)\)", SYMR,
         lambda: sym_start("p", "nll_oracle"), str),
        # docs/results.md
        ("symmetric MLE study: CPU-h", D, r"40 trials, ([\d.]+) CPU-h of training", SYMR, lambda: cpu("MLE"),
         "{:.2f}".format),
        ("symmetric MLE study: wall h", D, r"training \(([\d.]+) h of wall time", SYMR, lambda: wall("MLE"),
         "{:.2f}".format),
        ("symmetric SeqGAN study: trials", D, r"SeqGAN study, as committed, has (\d+) of its 20", SYMR,
         lambda: sum("run" in t for t in symmetric()["trials"]["SeqGAN"]), str),
        ("symmetric SeqGAN study: CPU-h", D, r"trials finished, ([\d.]+) CPU-h of training", SYMR,
         lambda: cpu("SeqGAN"),
         "{:.2f}".format),
        ("symmetric MLE front: first", D, r"At T = 1 its front runs from NLL-oracle ([\d.]+ / NLL-test [\d.]+)", mle_t1,
         lambda: sym_mle_t1_front()[0], lambda v: f"{v[0]:.3f} / NLL-test {v[1]:.3f}"),
        ("symmetric MLE front: last", D, r"lr 0.0050\) to ([\d.]+ / [\d.]+);", mle_t1, lambda: sym_mle_t1_front()[-1],
         lambda v: f"{v[0]:.3f} / {v[1]:.3f}"),
        ("symmetric docs: MLE's lowest NLL-oracle", D, r"MLE's lowest NLL-oracle is ([^)]+\))", SYMR,
         lambda: sym_lowest("MLE", 0), str),
        ("symmetric docs: SeqGAN's lowest NLL-test", D, r"SeqGAN's lowest NLL-test ([^)]+\))", SYMR,
         lambda: sym_lowest("SeqGAN", 1), str),
        ("symmetric docs: equal compute", D,
         r"MLE's front dominates (\d+ of SeqGAN's \d+ points\*\*, and \w+ of MLE's \d+)", SYMR,
         equal_compute_dominated, str),
        ("symmetric docs: points holding, MLE", D, r"[Pp]er point, (\d+ of MLE's \d+) retried points hold", SYMR,
         lambda: per_point("MLE"), str),
        ("symmetric docs: points holding, SeqGAN", D, r"retried points hold and (\d+ of SeqGAN's \d+)", SYMR,
         lambda: per_point("SeqGAN"), str),
        ("symmetric docs: by the mean alone", D, r"\(by the mean alone, as first read: (\d+ and \d+)\)", SYMR,
         lambda: f"{by_mean('MLE')} and {by_mean('SeqGAN')}", str),
        ("symmetric docs: SeqGAN claims' trial", D, r"from trial \d+ \(([^)]+)\)", SYMR, lambda: sym_config("SeqGAN"),
         str),
        ("symmetric docs: start alone", D, r"covers (\d+ of its \d+ holding points)", SYMR, covered, str),
        ("symmetric docs: NLL-test change", D, r"rounds change NLL-test by (\S+ to \S+) nats", SYMR,
         lambda: sym_start("mean"), str),
        ("symmetric docs: NLL-test p", D, r"3 seeds, p from (\S+ to \S+)\)", SYMR, lambda: sym_start("p"), str),
        ("symmetric docs: NLL-oracle change", D, r"and NLL-oracle by (\S+ to \S+) \(p", SYMR,
         lambda: sym_start("mean", "nll_oracle"), str),
        ("symmetric docs: NLL-oracle p", D, r"NLL-oracle by \S+ to \S+ \(p from (\S+ to \S+)\)", SYMR,
         lambda: sym_start("p", "nll_oracle"), str),
        ("symmetric docs: unclaimed points", D, r"undominated front points \((.*?)\) made no claim", SYMR,
         sym_unclaimed, str),
        ("symmetric docs: space keys", D, r"more thinly \((\d+ keys in \d+ trials against \d+ in \d+)\)",
         "configs/tune/symmetric_*.yaml",
         lambda: f"{space_keys('seqgan')} keys in {len(symmetric()['trials']['SeqGAN'])} trials against "
         f"{space_keys('mle')} in {len(symmetric()['trials']['MLE'])}", str),
    ]  # fmt: skip
    for label, name in (("all trials", "all trials"), ("the first 20 trials each", "the first"),
                        ("equal compute (≤ 0.81 CPU-h)", "equal compute")):  # fmt: skip
        for i, study in enumerate(("SeqGAN", "MLE")):
            cells = ["[^|]+", "[^|]+"]
            cells[i] = "([^|]+?)"
            c.append((
                f"symmetric table: {label}, {study}", D, rf"\| {re.escape(label)} \| {cells[0]} \| {cells[1]} \|", SYMR,
                lambda n=name, k=study: comparison(n, k),
                lambda s: f"{s['trials']}, {s['cpu_hours']:.2f}, {len(s['undominated'])} of {len(s['front'])}",
            ))  # fmt: skip
    return c


def real_checks() -> list[tuple]:
    c = []
    for task in real_tasks():
        cells = (
            ("1 - BLEU-4, SeqGAN - MLE", lambda t=task: f"{signed(mean(real_vs_mle(t, 'bleu4')))} (Welch p = "
             f"{fmt_p(real_welch(t, 'bleu4'))}; paired p = {fmt_p(t_p(real_vs_mle(t, 'bleu4')))})"),
            ("NLL-test, SeqGAN - MLE", lambda t=task: f"{signed(mean(real_vs_mle(t, 'nll_test')))} (Welch p = "
             f"{fmt_p(real_welch(t, 'nll_test'))}; paired p = {fmt_p(t_p(real_vs_mle(t, 'nll_test')))})"),
            ("1 - BLEU-4, SeqGAN - tempered start at its NLL-test",
             lambda t=task: f"{signed(mean(real_vs_tempered(t)))} (p = {fmt_p(t_p(real_vs_tempered(t)))})"),
            ("1 - BLEU-4, SeqGAN - tempered start at its Self-BLEU-4",
             lambda t=task: f"{signed(mean(g := real_vs_tempered(t, 'self_bleu4')))} {interval(g)} "
             f"(p = {fmt_p(t_p(g))})"),
        )  # fmt: skip
        for i, (what, compute) in enumerate(cells):
            groups = ["[^|]+"] * 4
            groups[i] = "([^|]+?)"
            pattern = rf"\| {task} \| \d+ \| " + r" \| ".join(groups) + r" \|"
            c.append((f"real data {task}: {what}", R, pattern, f"{RS}/{task}", compute, str))
        c.append((f"real data {task}: seeds", R, rf"\| {task} \| (\d+) \|", f"{RS}/{task}",
                  lambda t=task: len(real_seeds(t)), str))  # fmt: skip

    tasks = real_tasks()

    def gaps(key: str) -> list[float]:
        return [mean(real_vs_tempered(t, key)) for t in tasks]

    def halves(key: str) -> list[float]:
        return [(ci95(g)[1] - ci95(g)[0]) / 2 for t in tasks if (g := real_vs_tempered(t, key))]

    others = [t for t in tasks if t != "poems"]
    c += [
        # finding 4
        ("real: SeqGAN - MLE in 1 - BLEU-4, range", R, r"SeqGAN − MLE in 1 − BLEU-4 is negative on all four tasks "
         r"\((\S+ to \S+)\)", RS, lambda: [mean(real_vs_mle(t, "bleu4")) for t in tasks], span),
        ("real: COCO Welch p", R, r"under Welch's test only on COCO \(p = (\S+)\)", RS,
         lambda: real_welch("coco", "bleu4"), fmt_p),
        ("real: paired p, COCO and Nottingham", R, r"under the paired test on COCO and Nottingham \(p = (\S+, \S+)\)",
         RS,
         lambda: f"{fmt_p(t_p(real_vs_mle('coco', 'bleu4')))}, {fmt_p(t_p(real_vs_mle('nottingham', 'bleu4')))}", str),
        ("real: Self-BLEU-4 higher, seed by seed", R, r"on (\d+ of \d+ seeds \([^)]+\))", RS, self_bleu_words, str),
        ("real: gaps at NLL-test", R, r"higher BLEU-4 on all four tasks \(gaps (\S+ to \S+), t-test", RS,
         lambda: gaps("nll_test"), span),
        ("real: p at NLL-test", R, r"t-test p ≤ (\S+)\)", RS,
         lambda: max(t_p(real_vs_tempered(t)) for t in tasks), fmt_p),
        ("real: gaps at Self-BLEU-4", R, r"At SeqGAN's Self-BLEU-4 the gaps are (\S+ to \S+),", RS,
         lambda: gaps("self_bleu4"), span),
        ("real: intervals at Self-BLEU-4 off Poems", R, r"their 95 % intervals \((±\S+ to ±\S+)\) are at least as wide",
         RS, lambda: [(ci95(g)[1] - ci95(g)[0]) / 2 for t in others if (g := real_vs_tempered(t, "self_bleu4"))],
         lambda h: f"±{min(h):.3f} to ±{max(h):.3f}"),
        ("real: SeqGAN's gain off Poems", R, r"whole gain over MLE there \((\S+ to \S+)\)", RS,
         lambda: [-mean(real_vs_mle(t, "bleu4")) for t in others], lambda v: f"{min(v):.3f} to {max(v):.3f}"),
        ("real: Poems seeds at Self-BLEU-4", R, r"On Poems all three seeds favour the tempered start \((\S+ to \S+)\)",
         RS,
         lambda: real_vs_tempered("poems", "self_bleu4"), span),
        # docs/real_data.md
        ("real seeds: SeqGAN - MLE in 1 - BLEU-4 (docs)", RD, r"SeqGAN − MLE in 1 − BLEU-4 is (\S+ to \S+) on the four",
         RS, lambda: [mean(real_vs_mle(t, "bleu4")) for t in tasks], span),
        ("real seeds: COCO Welch p (docs)", RD, r"Welch p = (\S+) on COCO", RS, lambda: real_welch("coco", "bleu4"),
         fmt_p),
        ("real seeds: other tasks' Welch p (docs)", RD, r"on COCO and (\S+) on the others", RS,
         lambda: "-".join(fmt_p(p) for p in sorted(real_welch(t, "bleu4") for t in tasks if t != "coco")[::2]), str),
        ("real seeds: paired p (docs)", RD, r"paired p = (\S+) on COCO and (?:\S+) on Nottingham", RS,
         lambda: fmt_p(t_p(real_vs_mle("coco", "bleu4"))), str),
        ("real seeds: paired p Nottingham (docs)", RD, r"paired p = \S+ on COCO and (\S+) on Nottingham", RS,
         lambda: fmt_p(t_p(real_vs_mle("nottingham", "bleu4"))), str),
        ("real seeds: gap at Self-BLEU-4 (docs)", RD, r"at SeqGAN's Self-BLEU-4 \(gaps (\S+ to \S+), 95 % intervals",
         RS, lambda: gaps("self_bleu4"), span),
        ("real seeds: interval half-widths (docs)", RD, r"95 % intervals (±\S+ to ±\S+), p ≥", RS,
         lambda: halves("self_bleu4"), lambda h: f"±{min(h):.3f} to ±{max(h):.3f}"),
        ("real seeds: p at Self-BLEU-4 (docs)", RD, r"p ≥ (\S+)\), the test cannot tell", RS,
         lambda: min(t_p(real_vs_tempered(t, "self_bleu4")) for t in tasks), fmt_p),
        ("real seeds: gap at NLL-test (docs)", RD, r"NLL-test on all four \(gaps (\S+ to \S+), p ≤", RS,
         lambda: gaps("nll_test"), span),
        ("real seeds: p at NLL-test (docs)", RD, r"p ≤ (\S+)\)\. So on real data", RS,
         lambda: max(t_p(real_vs_tempered(t)) for t in tasks), fmt_p),
        ("real seeds: COCO MLE overfits", RD, r"overfits \(NLL-test ([\d.]+ against the pre-trained [\d.]+)\)",
         f"{RS}/coco", lambda: [mean(real_rows("coco", r, "nll_test")) for r in ("MLE", "pretrained")],
         lambda v: f"{v[0]:.3f} against the pre-trained {v[1]:.3f}"),
        ("one-seed COCO: pre-trained to MLE NLL-test", RD, r"captions \(NLL-test ([\d.]+ → [\d.]+)\)",
         "results/real/coco",
         lambda: [real_one("coco", r, "nll_test") for r in ("pretrained", "MLE")],
          lambda v: f"{v[0]:.2f} → {v[1]:.2f}"),
    ]  # fmt: skip
    for label, task, metric, n in (
        ("poems (BLEU-2)", "poems", "bleu2", 2), ("Obama (BLEU-3)", "obama", "bleu3", 3),
        ("Obama (BLEU-4)", "obama", "bleu4", 4), ("Nottingham (BLEU-4)", "nottingham", "bleu4", 4),
        ("COCO (BLEU-2, Texygen)", "coco", "bleu2", 2), ("Nottingham (pitch MSE, ours)", "nottingham", "pitch_mse", 0),
    ):  # fmt: skip
        digits = 2 if metric == "pitch_mse" else 3
        for i, name in enumerate(("MLE", "SeqGAN")):
            cells = [r"[\d.]+", r"[\d.]+"]
            cells[i] = r"([\d.]+)"
            c.append((f"one-seed real table: {label} {name}", RD,
             rf"\| {re.escape(label)} \| {cells[0]} \| {cells[1]} \|",
                      f"results/real/{task}/results.json", lambda t=task, r=name, m=metric: real_one(t, r, m),
                      f"{{:.{digits}f}}".format))  # fmt: skip
        if n:
            c.append((f"one-seed real table: {label} Self-BLEU", RD,
                      rf"\| {re.escape(label)} \|[^|]+\|[^|]+\|[^|]+\| ([\d.]+ / [\d.]+) \|",
                      f"results/real/{task}/results.json",
                      lambda t=task, n=n: [real_one(t, r, f"self_bleu{n}") for r in ("MLE", "SeqGAN")],
                      lambda v: f"{v[0]:.3f} / {v[1]:.3f}"))  # fmt: skip
        if n and label != "Obama (BLEU-4)":
            c.append((f"one-seed real table: {label} NLL-test", RD,
                      rf"\| {re.escape(label)} \|[^|]+\|[^|]+\|[^|]+\|[^|]+\| ([\d.]+ / [\d.]+) \|",
                      f"results/real/{task}/results.json",
                      lambda t=task: [real_one(t, r, "nll_test") for r in ("MLE", "SeqGAN")],
                      lambda v: f"{v[0]:.2f} / {v[1]:.2f}"))  # fmt: skip
    return c


def table1_checks() -> list[tuple]:
    """The README's and docs/results.md's Table 1: every row's mean ± std and p from the runs' results.json."""
    c = []
    for doc in (R, D):
        for name in ("Random", "pretrained", "MLE", "SS", "PG-BLEU", "SeqGAN"):
            for i, metric in enumerate(("nll_oracle", "nll_test")):
                # NLL-oracle is the first cell; NLL-test follows it, after docs/results.md's per-seed cell
                figure = r"([\d.]+ ± [\d.]+)" if i == 0 else r"[\d.]+ ± [\d.]+ \|(?: [\d., ]+ \|)? ([\d.]+ ± [\d.]+)"
                cells = r"\| " + re.escape(name) + r" \| " + figure
                c.append((f"Table 1 {name} {metric}", doc, cells, T1, lambda r=name, m=metric: table1(r, m), pm))
            if name not in ("pretrained", "SeqGAN"):
                cells = r"\| " + re.escape(name) + r" \|[^|]*\|[^|]*\|(?:[^|]*\|)? ([\d.]+) \| \|"
                c.append((f"Table 1 {name} p vs SeqGAN", doc, cells, T1,
                          lambda r=name: welch_p(table1(r, "nll_oracle"), table1("SeqGAN", "nll_oracle")),
                           fmt_p))  # fmt: skip
    return c


# -- the words that carry a claim -------------------------------------------------------------------------------

P_VALUE = re.compile(r"\bp (?:=|<|≤) (\d[\d.]*(?:e[-−]\d+)?)")
CLAIM_WORDS = re.compile(r"\b(?:always|every seed|all (?:two|three|four|five|\d+) seeds)\b", re.IGNORECASE)
# control - model, against the convention (a model minus its control): "MLE − SeqGAN", "curve − SeqGAN", ...
AGAINST = re.compile(r"\b(?:MLE|curve|start|paper|untuned|pre-trained)(?: row| settings| generator)? [−-] "
                     r"(?:SeqGAN|tuned|adversarial|the model)\b")  # fmt: skip
SIGNED_AFTER_BELOW = re.compile(r"\b(?:below|above)\b[^.;()]{0,40}? by [+−]\d")


def sentences(text: str) -> list[str]:
    """A document's sentences: paragraphs and table rows apart, each paragraph split after . ! or ? and
    before a capital, a bracket or bold; runs of white space as one space."""
    out = []
    for block in re.split(r"\n\s*\n|\n(?=\s*[-|*] )|\n(?=\s*\d+\. )", text):
        block = re.sub(r"\s+", " ", block).strip()
        out += [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z*(\[])", block) if s]
    return out


def claim_checks() -> list[tuple]:
    """(document, text the claim's sentence holds, what it claims, function -> the seeds that contradict it)."""

    def below_mle() -> list[str]:
        return [f"seed {s}" for s, g in zip(TABLE1_SEEDS, table1_gap()) if not g < 0]

    return [
        (R, "SeqGAN is below MLE on every seed", "SeqGAN - MLE < 0 in NLL-oracle, seed by seed", below_mle),
        (D, "SeqGAN − MLE in NLL-oracle is", "SeqGAN - MLE < 0 in NLL-oracle, seed by seed", below_mle),
        (D, "SeqGAN − the MLE row's curve is", "SeqGAN - the MLE row's tempered curve < 0, seed by seed",
         lambda: [f"seed {s}" for s, g in zip(TABLE1_SEEDS, temperature_gaps("MLE")) if not g < 0]),
        *[(doc, "Poems all three seeds favour the tempered start", "each Poems seed's gap at Self-BLEU-4 > 0",
           lambda: [f"poems seed {s}" for s, g in zip(real_seeds("poems"), real_vs_tempered("poems", "self_bleu4"))
                    if not g > 0]) for doc in (R, RD)],
    ]  # fmt: skip


def word_failures(texts: dict[str, str]) -> list[str]:
    failures = []
    registered = claim_checks()
    for doc in (R, D, RD):
        for s in sentences(texts[doc]):
            short = s if len(s) < 140 else s[:137] + "..."
            for m in re.finditer(r"\b(not )?significant(?:ly)?\b", s):
                if not re.search(r"Welch|paired", s):
                    failures.append(
                        f"WORDS {doc}: a 'significant' names neither Welch's nor the paired test: {short!r}"
                    )
                if m.group(1):
                    ps = [(abs(p.start() - m.start()), p.group(1)) for p in P_VALUE.finditer(s)]
                    if not ps:
                        failures.append(f"WORDS {doc}: a 'not significant' without its p-value: {short!r}")
                    elif float(min(ps)[1].replace("−", "-")) < 0.05:
                        failures.append(f"WORDS {doc}: 'not significant' beside p = {min(ps)[1]} < 0.05: {short!r}")
            for m in CLAIM_WORDS.finditer(s):
                mine = [c for c in registered if c[0] == doc and c[1] in s]
                if not mine:
                    failures.append(f"WORDS {doc}: '{m.group(0)}' is not verified seed by seed here: {short!r}")
                for _, _, what, contradicting in mine:
                    if against := contradicting():
                        failures.append(
                            f"WORDS {doc}: '{m.group(0)}' ({what}) fails on {', '.join(against)}: {short!r}"
                        )
            for m in itertools.chain(AGAINST.finditer(s), SIGNED_AFTER_BELOW.finditer(s)):
                failures.append(
                    f"WORDS {doc}: a sign against the convention (model − control), {m.group(0)!r}: {short!r}"
                )
    return failures


def run_checker(name: str) -> subprocess.CompletedProcess:
    """Another checker script beside this one, on the same results folder."""
    script = Path(__file__).resolve().parent / name
    return subprocess.run([sys.executable, str(script), "--results", str(RESULTS)], capture_output=True, text=True)


def main(argv: list[str] | None = None) -> int:
    global RESULTS
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results", default=str(ROOT / "results"), help="the result files (default: the repository's)")
    p.add_argument("--readme", default=str(ROOT / "README.md"), help="the README to check (default: the repository's)")
    p.add_argument("--results-doc", default=str(ROOT / "docs" / "results.md"), help="docs/results.md to check")
    p.add_argument("--remedies-doc", default=str(ROOT / "docs" / "remedies.md"), help="docs/remedies.md to check")
    p.add_argument("--real-data-doc", default=str(ROOT / "docs" / "real_data.md"), help="docs/real_data.md to check")
    args = p.parse_args(argv)
    RESULTS = Path(args.results)
    _sym.clear()
    paths = {R: args.readme, D: args.results_doc, RM: args.remedies_doc, RD: args.real_data_doc}
    raw = {doc: Path(path).read_text(encoding="utf-8") for doc, path in paths.items()}
    # lines wrap anywhere in prose: match against each document with its runs of spaces and newlines as one space
    texts = {doc: re.sub(r"[ \n]+", " ", text) for doc, text in raw.items()}
    all_checks = checks()
    failures = 0
    for description, doc, pattern, files, compute, fmt in all_checks:
        expected = fmt(compute())
        found = re.search(pattern, texts[doc])
        if found is None:
            print(f"MISMATCH {description}: {doc} no longer has text matching {pattern!r} ({files}: {expected})")
            failures += 1
        elif found.group(1) != expected:
            print(f"MISMATCH {description}: {doc} says {found.group(1)}, {files} give {expected}")
            failures += 1
    words = word_failures(raw)
    for line in words:
        print(line)
    # the Texygen benchmark's tables (results/benchmark/TASK, scripts/check_benchmark.py) and the KL remedy's
    # comparison (results/kl, scripts/check_kl.py): each has its own checker, sharing no code with its study;
    # each counts here as one check
    others = [run_checker(name) for name in ("check_benchmark.py", "check_kl.py")]
    for proc in others:
        if proc.returncode != 0:
            print(proc.stdout.strip() or proc.stderr.strip().splitlines()[-1])
            failures += 1
    if failures or words:
        print(f"{failures} of {len(all_checks)} figures do not match their files; {len(words)} word checks fail")
        return 1
    print(
        f"all {len(all_checks)} figures match their files and every claim word holds "
        "(README.md, docs/results.md, docs/remedies.md, docs/real_data.md)"
    )
    for proc in others:  # their own counts
        print(proc.stdout.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
