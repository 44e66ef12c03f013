"""The symmetric tuning comparison (seqgan/studies/symmetric_tuning.py): fronts, subsets at equal
trials and equal compute, the choice of points to confirm against hand computations; the whole study
on tiny studies, re-derived from the files it leaves."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from seqgan.studies import symmetric_tuning as st

ROOT = Path(__file__).resolve().parents[1]


def pt(trial: int, o: float, t: float, temperature: float = 1.0) -> dict:
    return {"trial": trial, "temperature": temperature, "nll_oracle": o, "nll_oracle_se": 0.01, "nll_test": t}


def test_pareto_front_keeps_exactly_the_undominated_points():
    points = [pt(0, 1.0, 5.0), pt(1, 2.0, 4.0), pt(2, 2.0, 4.5), pt(3, 3.0, 3.0), pt(4, 3.0, 3.0), pt(5, 4.0, 3.5)]
    front = st.pareto_front(points)
    # (2, 4.5) is dominated by (2, 4); (4, 3.5) by (3, 3); the two equal (3, 3) points dominate neither
    assert [(p["trial"], st.xy(p)) for p in front] == [
        (0, (1.0, 5.0)),
        (1, (2.0, 4.0)),
        (3, (3.0, 3.0)),
        (4, (3.0, 3.0)),
    ]


def test_compare_lists_what_each_front_point_dominates_of_the_other():
    a = [pt(0, 1.0, 5.0), pt(1, 2.0, 3.0)]
    b = [pt(0, 1.5, 4.0), pt(1, 2.5, 3.5), pt(2, 3.0, 2.0)]
    vs = st.compare({"A": a, "B": b})
    # A's (2, 3) dominates B's (2.5, 3.5); nothing of B dominates an A point; B's (1.5, 4) and
    # (3, 2) are not dominated by A; (2.5, 3.5) is
    assert [st.xy(p) for p in vs["A"]["not_dominated"]] == [(1.0, 5.0), (2.0, 3.0)]
    assert [(st.xy(d["point"]), [st.xy(q) for q in d["dominates"]]) for d in vs["A"]["dominating"]] == [
        ((2.0, 3.0), [(2.5, 3.5)])
    ]
    assert [st.xy(p) for p in vs["B"]["not_dominated"]] == [(1.5, 4.0), (3.0, 2.0)]
    assert vs["B"]["dominating"] == []


def trial(n: int, hours: float, *points: tuple[float, float]) -> dict:
    return {"trial": n, "cpu_hours": hours, "points": [pt(n, o, t) for o, t in points]}


def test_comparisons_at_equal_trials_and_equal_compute():
    slow = [trial(0, 1.0, (2.0, 2.0)), trial(1, 1.0, (1.0, 1.0)), trial(2, 1.0, (0.5, 0.5))]
    fast = [trial(n, 0.5, (1.5 - 0.1 * n, 1.5)) for n in range(5)]  # 2.5 CPU-h in all
    out = st.comparisons({"slow": slow, "fast": fast})
    assert list(out) == ["all trials", "the first 3 trials each", "equal compute: 2.50 CPU-h each"]
    every = out["all trials"]
    assert every["slow"]["trials"] == 3 and every["fast"]["trials"] == 5
    assert every["slow"]["cpu_hours"] == 3.0 and every["fast"]["cpu_hours"] == 2.5
    assert [st.xy(p) for p in every["slow"]["front"]] == [(0.5, 0.5)]
    assert [st.xy(p) for p in every["fast"]["front"]] == [(1.1, 1.5)]
    assert len(every["slow"]["dominating"]) == 1 and every["fast"]["not_dominated"] == []
    # equal compute: slow keeps trials 0 and 1 (2.0 CPU-h; trial 2 would make 3.0 > 2.5), fast all five
    equal = out["equal compute: 2.50 CPU-h each"]
    assert equal["slow"]["trial_numbers"] == [0, 1] and equal["fast"]["trial_numbers"] == [0, 1, 2, 3, 4]
    assert [st.xy(p) for p in equal["slow"]["front"]] == [(1.0, 1.0)]
    # (1.0, 1.0) against (1.1, 1.5): slow still dominates, with one point
    assert [st.xy(d["point"]) for d in equal["slow"]["dominating"]] == [(1.0, 1.0)]
    first = out["the first 3 trials each"]
    assert first["fast"]["trial_numbers"] == [0, 1, 2] and [st.xy(p) for p in first["fast"]["front"]] == [(1.3, 1.5)]


def test_first_trials_within_stops_at_the_first_trial_over_budget():
    trials = [trial(0, 0.4), trial(1, 0.7), trial(2, 0.1)]
    assert [t["trial"] for t in st.first_trials_within(trials, 1.1)] == [0, 1]
    assert [t["trial"] for t in st.first_trials_within(trials, 1.05)] == [0]  # trial 2 alone would fit: not taken
    assert st.first_trials_within(trials, 0.3) == []


def test_to_confirm_takes_the_trials_that_dominate_most_first():
    a = [pt(3, 1.0, 1.0, 0.8), pt(3, 1.28, 0.9, 1.0), pt(5, 0.9, 1.25), pt(7, 1.1, 0.95)]
    b = [pt(0, 1.3, 1.3), pt(1, 1.25, 1.6), pt(2, 0.95, 1.6)]
    vs = st.compare({"A": st.pareto_front(a), "B": b})
    assert len(vs["A"]["front"]) == 4
    # (0.9, 1.25) dominates all three B points; (1.28, 0.9) only (1.3, 1.3); the others the first two
    counts = {(d["point"]["trial"], d["point"]["temperature"]): len(d["dominates"]) for d in vs["A"]["dominating"]}
    assert counts == {(3, 0.8): 2, (3, 1.0): 1, (5, 1.0): 3, (7, 1.0): 2}
    chosen = st.to_confirm(vs, 2)
    assert list(chosen["A"]) == [5, 3]  # 5 dominates 3 points; 3 and 7 two each: the lower number
    assert [p["temperature"] for p in chosen["A"][3]] == [0.8, 1.0]
    assert chosen["B"] == {}


def write_trial(study: Path, n: int, results: dict) -> Path:
    d = study / f"trial-{n:04d}"
    d.mkdir(parents=True)
    (d / "results.json").write_text(json.dumps(results))
    return d


def test_a_trial_without_cpu_seconds_or_anything_to_sweep_is_refused_naming_it(tmp_path):
    d = write_trial(tmp_path / "s", 0, {"rows": {}, "seconds": 5.0})
    with pytest.raises(ValueError, match=r"trial-0000/results.json: no cpu_seconds"):
        st.study_trials(tmp_path / "s", [1.0], 10, 0)
    (d / "results.json").write_text(json.dumps({"rows": {}, "seconds": 5.0, "cpu_seconds": 4.0}))
    with pytest.raises(ValueError, match=r"trial-0000: no sweep.json for this grid.*no checkpoint.pt"):
        st.study_trials(tmp_path / "s", [1.0], 10, 0)
    with pytest.raises(ValueError, match="no such study folder"):
        st.study_trials(tmp_path / "missing", [1.0], 10, 0)


def tiny_study_env(out: Path) -> dict:
    return {**os.environ, "TQDM_DISABLE": "1", "OUT": str(out), "CONFIG": "configs/synthetic_smoke.yaml",
            "MLE_TRIALS": "3", "SEQGAN_TRIALS": "2", "PY": sys.executable}  # fmt: skip


def test_symmetric_study_on_tiny_studies_end_to_end(tmp_path):
    """scripts/tuning_symmetric.sh at the smoke preset; then every figure of symmetric.json is derived
    again from the trials' results.json and sweep.json files, without a checkpoint."""
    out = tmp_path / "sym"
    env = tiny_study_env(out)
    for step in ("mle", "seqgan"):
        done = subprocess.run(["bash", "scripts/tuning_symmetric.sh", step], cwd=ROOT, env=env, capture_output=True,
                              text=True)  # fmt: skip
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    args = ["--temperatures", "0.8,1,1.25", "--num", "100", "--confirm-max", "1"]
    done = subprocess.run(["bash", "scripts/tuning_symmetric.sh", "compare", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    summary = json.loads((out / "symmetric.json").read_text())
    assert (out / "symmetric.md").read_text().startswith("# Tuned SeqGAN against tuned MLE, searched alike")
    assert (out / "fronts.png").stat().st_size > 0

    # each study's trials: training CPU-hours and front, from the files
    every = summary["comparisons"]["all trials"]
    for label, name, n in (("SeqGAN", "seqgan", 2), ("MLE", "mle", 3)):
        trials = sorted((out / name).glob("trial-*"))
        assert len(trials) == n == every[label]["trials"]
        cpu = [json.loads((t / "results.json").read_text())["cpu_seconds"] for t in trials]
        assert all(c > 0 for c in cpu)
        assert every[label]["cpu_hours"] == pytest.approx(sum(cpu) / 3600)
        points = []
        for t in trials:
            sweep = json.loads((t / "sweep.json").read_text())
            assert [p["temperature"] for p in sweep["points"]] == [0.8, 1.0, 1.25]
            points += [(p["nll_oracle"], p["nll_test"]) for p in sweep["points"]]
        front = {p for p in points if not any(q[0] <= p[0] and q[1] <= p[1] and q != p for q in points)}
        assert {tuple(st.xy(p)) for p in every[label]["front"]} == front
    # an MLE trial (rounds = 0) is its pre-trained generator: SeqGAN's space searches the same two keys more
    mle_cfg = (out / "mle" / "trial-0000" / "config.yaml").read_text()
    assert "rounds: 0" in mle_cfg

    # the points said to dominate, on the fresh seeds: means of the confirmation runs' sweeps
    conf = summary["confirmation"]
    said = [d for r in every.values() for d in r["dominating"]]
    assert conf and bool(said)  # at the smoke preset MLE dominates: the confirmation path runs
    for c in conf:
        runs = [out / "confirm" / c["study"] / f"trial-{c['trial']:04d}" / f"seed{s}" for s in (30, 31, 32)]
        fresh = [
            next(
                p for p in json.loads((r / "sweep.json").read_text())["points"] if p["temperature"] == c["temperature"]
            )
            for r in runs
        ]
        assert c["mean"] == pytest.approx([statistics.fmean(p[k] for p in fresh) for k in ("nll_oracle", "nll_test")])
        other = next(label for label in every if label != c["study"])
        still = [st.xy(q) for q in every[other]["front"] if st.dominates(tuple(c["mean"]), st.xy(q))]
        assert [tuple(x) for x in c["still_dominates"]] == still and c["holds"] == bool(still)
        assert json.loads((runs[0] / "results.json").read_text())["seed"] == 30

    # the tables re-derive without any checkpoint; a new grid then needs them, and says so
    for ckpt in out.rglob("checkpoint.pt"):
        ckpt.unlink()
    again = st.run({"SeqGAN": out / "seqgan", "MLE": out / "mle"}, [0.8, 1.0, 1.25], 100, 0, tmp_path / "again")
    assert again["comparisons"] == summary["comparisons"]
    with pytest.raises(ValueError, match="no sweep.json for this grid"):
        st.run({"SeqGAN": out / "seqgan", "MLE": out / "mle"}, [0.9], 100, 0, tmp_path / "other")
    shutil.rmtree(tmp_path / "again")


def test_tuning_symmetric_argument_errors(tmp_path):
    def seqgan(*argv):
        return subprocess.run([sys.executable, "-m", "seqgan", "experiment", "tuning-symmetric", *argv], cwd=tmp_path,
                              capture_output=True, text=True)  # fmt: skip

    for argv, message in (
        ([], "needs --studies LABEL=STUDY_DIR LABEL=STUDY_DIR"),
        (["--studies", "A=x"], "needs --studies LABEL=STUDY_DIR LABEL=STUDY_DIR"),
        (["--studies", "A=x", "B=y", "--temperatures", "0.9,x"], "--temperatures / --confirm-seeds"),
        (["--studies", "A=x", "B=y", "--temperatures", "0,1"], "--temperatures must be positive"),
        (["--studies", "A=x", "B=y", "--confirm-max", "0"], "--confirm-max must be at least 1"),
        (["--studies", "A=x", "B=y"], "x: no such study folder"),
    ):
        done = seqgan(*argv)
        assert done.returncode != 0, argv
        last = done.stderr.strip().splitlines()[-1]
        assert message in last, (argv, last)
