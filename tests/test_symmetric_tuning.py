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
from scipy import stats

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
    return {"trial": n, "finished": bool(points), "cpu_hours": hours, "points": [pt(n, o, t) for o, t in points]}


def test_comparisons_at_equal_trials_and_equal_compute():
    slow = [trial(0, 1.0, (2.0, 2.0)), trial(1, 1.0, (1.0, 1.0)), trial(2, 1.0, (0.5, 0.5))]
    fast = [trial(n, 0.5, (1.5 - 0.1 * n, 1.5)) for n in range(5)]  # 2.5 CPU-h in all
    out = st.comparisons({"slow": slow, "fast": fast})
    assert list(out) == ["all trials", "the first 3 trials each", "equal compute: at most 2.50 CPU-h each"]
    every = out["all trials"]
    assert every["slow"]["trials"] == 3 and every["fast"]["trials"] == 5
    assert every["slow"]["cpu_hours"] == 3.0 and every["fast"]["cpu_hours"] == 2.5
    assert [st.xy(p) for p in every["slow"]["front"]] == [(0.5, 0.5)]
    assert [st.xy(p) for p in every["fast"]["front"]] == [(1.1, 1.5)]
    assert len(every["slow"]["dominating"]) == 1 and every["fast"]["not_dominated"] == []
    # equal compute: slow keeps trials 0 and 1 (2.0 CPU-h; trial 2 would make 3.0 > 2.5), fast all five
    equal = out["equal compute: at most 2.50 CPU-h each"]
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


def test_claims_gather_every_comparison_and_to_confirm_takes_the_strongest_trials_first():
    a = [pt(3, 1.0, 1.0, 0.8), pt(3, 1.28, 0.9, 1.0), pt(5, 0.9, 1.25), pt(7, 1.1, 0.95)]
    b = [pt(0, 1.3, 1.3), pt(1, 1.25, 1.6), pt(2, 0.95, 1.6)]
    vs = st.compare({"A": st.pareto_front(a), "B": b})
    assert len(vs["A"]["front"]) == 4
    # (0.9, 1.25) dominates all three B points; (1.28, 0.9) only (1.3, 1.3); the others the first two.
    # A second comparison (a subset of B's trials) adds a claim of B's and nothing new of A's.
    subset = st.compare({"A": [pt(5, 0.9, 1.25)], "B": [pt(2, 0.95, 1.6), pt(9, 0.8, 2.0)]})
    claimed = st.claims({"all trials": vs, "equal compute": subset})
    counts = {(c["study"], c["trial"], c["temperature"]): len(c["dominated_when_found"]) for c in claimed}
    assert counts == {("A", 3, 0.8): 2, ("A", 3, 1.0): 1, ("A", 5, 1.0): 3, ("A", 7, 1.0): 2}
    five = next(c for c in claimed if c["trial"] == 5)
    assert five["comparisons"] == ["all trials", "equal compute"]  # said twice, counted once
    chosen = st.to_confirm(claimed, 2)
    assert chosen == {"A": [5, 3]}  # 5 dominates 3 points; 3 and 7 two each: the lower number
    assert st.to_confirm(claimed, 1) == {"A": [5]}


def test_a_claim_of_a_trial_beyond_confirm_max_is_marked_not_retried(tmp_path):
    claimed = [
        {"study": "A", "trial": 1, "temperature": 1.0, "found": [1.0, 1.0], "comparisons": ["all trials"],
         "dominated_when_found": [[1.2, 1.2]]},
        {"study": "A", "trial": 2, "temperature": 1.0, "found": [1.1, 1.1], "comparisons": ["all trials"],
         "dominated_when_found": [[1.2, 1.2], [1.3, 1.3]]},
    ]  # fmt: skip
    for n in (1, 2):  # trial 2's confirmation runs, finished: run_all reuses them, the sweeps are read back
        for s, (o, t) in zip((30, 31, 32), ((1.0, 1.0), (1.1, 1.3), (1.3, 1.0))):
            d = tmp_path / "out" / "confirm" / "A" / f"trial-{n:04d}" / f"seed{s}"
            d.mkdir(parents=True)
            (d / "results.json").write_text(json.dumps({"seed": s}))
            sweep = {"temperatures": [1.0], "num_samples": 10, "sampling_seed": 0, "run": st._run_key(d),
                     "points": [pt(n, o, t)]}  # fmt: skip
            (d / "sweep.json").write_text(json.dumps(sweep))
    study = tmp_path / "A"
    for n in (1, 2):
        (study / f"trial-{n:04d}").mkdir(parents=True)
        (study / f"trial-{n:04d}" / "config.yaml").write_text("train:\n  rounds: 0\n")
    trained = []
    rows = st.confirm({"A": study}, claimed, [30, 31, 32], 1, 1, 10, 0, tmp_path / "out", train_runs=trained.append)
    # only trial 2 is trained again, on the three seeds, as the trial ran (one thread), only the seed changed
    (commands,) = trained
    assert [d.name for d, _ in commands] == ["seed30", "seed31", "seed32"]
    assert all("trial-0002" in str(d) and "threads=1" in cmd for d, cmd in commands)
    assert [cmd[cmd.index("--seed") + 1] for _, cmd in commands] == ["30", "31", "32"]
    one, two = rows
    assert one["retried"] is False and one["holds"] is None
    assert two["retried"] and two["mean"] == pytest.approx([(1.0 + 1.1 + 1.3) / 3, (1.0 + 1.3 + 1.0) / 3])
    assert two["std"][0] == pytest.approx(statistics.stdev([1.0, 1.1, 1.3]))
    # the mean (1.133, 1.1) dominates (1.2, 1.2) and (1.3, 1.3), but not beyond the seeds' noise: with
    # NLL-oracle 1.0, 1.1, 1.3 the one-sided t-test against 1.3 gives p = 0.10, so the claim fails
    assert two["mean_dominates"] == [[1.2, 1.2], [1.3, 1.3]]
    assert two["still_dominates"] == [] and two["holds"] is False
    assert two["tests"][1]["p"][0] == pytest.approx(stats.ttest_1samp([1.0, 1.1, 1.3], 1.3, alternative="less").pvalue)
    assert st.trial_claims(rows) == [
        {"study": "A", "trial": 1, "points": 1, "retried": False, "points_holding": 0, "points_by_mean_alone": 0,
         "points_its_start_covers": 0, "holds": None},
        {"study": "A", "trial": 2, "points": 1, "retried": True, "points_holding": 0, "points_by_mean_alone": 1,
         "points_its_start_covers": 0, "holds": False},
    ]  # fmt: skip


def test_a_claim_holds_only_beyond_the_noise_of_the_fresh_seeds_on_both_axes():
    """clears: the one-sided t-test over the seeds, on each axis, at 0.05 (scipy's, alternative='less')."""
    fresh = [pt(0, o, t) for o, t in ((1.00, 2.00), (1.02, 2.01), (1.01, 2.03))]
    by_scipy = [stats.ttest_1samp([1.00, 1.02, 1.01], 1.05, alternative="less").pvalue,
                stats.ttest_1samp([2.00, 2.01, 2.03], 2.10, alternative="less").pvalue]  # fmt: skip
    got = st.clears(fresh, [1.05, 2.10])
    assert got["p"] == pytest.approx(by_scipy) and got["clears"] is True
    # beyond the noise on NLL-oracle, within it on NLL-test (mean 2.0133, sd 0.0153: 2.03 is 1.9 s.e. away)
    assert st.clears(fresh, [1.05, 2.03])["clears"] is False
    # no spread over the seeds: below the bound or not
    flat = [pt(0, 1.0, 2.0)] * 3
    assert st.clears(flat, [1.1, 2.1]) == {"p": [0.0, 0.0], "clears": True}
    assert st.clears(flat, [1.0, 2.1])["clears"] is False


ROW_OF = {"sweep.json": "seqgan", "sweep_pretrained.json": "pretrained"}


def test_a_retried_claim_is_scored_against_its_own_pretrained_start(tmp_path):
    """A claim of a trial with adversarial rounds is also scored by the same seeds' pre-trained
    generators: their mean, the points they alone dominate and the paired difference over seeds. A
    trial without rounds (MLE) has no start apart from itself, and none is read."""
    from scipy import stats

    found = [[2.0, 2.0], [2.5, 2.5]]  # far enough that three seeds clear them beyond their noise
    claimed = [
        {"study": label, "trial": 1, "temperature": 1.0, "found": [1.1, 1.1], "comparisons": ["all trials"],
         "dominated_when_found": found}
        for label in ("A", "B")
    ]  # fmt: skip
    trained, start = ((1.0, 1.0), (1.1, 1.3), (1.3, 1.0)), ((1.0, 1.0), (1.0, 1.2), (1.2, 1.0))
    for label, config in (("A", "seed: 0\n"), ("B", "train:\n  rounds: 0\n")):
        (tmp_path / label / "trial-0001").mkdir(parents=True)
        (tmp_path / label / "trial-0001" / "config.yaml").write_text(config)
        for s, a, b in zip((30, 31, 32), trained, start):
            d = tmp_path / "out" / "confirm" / label / "trial-0001" / f"seed{s}"
            d.mkdir(parents=True)
            (d / "results.json").write_text(json.dumps({"seed": s}))
            for name, (o, t) in (("sweep.json", a), ("sweep_pretrained.json", b)):
                if label == "A" or name == "sweep.json":
                    sweep = {"temperatures": [1.0], "num_samples": 10, "sampling_seed": 0, "run": st._run_key(d),
                             "points": [pt(1, o, t)], "row": ROW_OF[name]}  # fmt: skip
                    (d / name).write_text(json.dumps(sweep))
    studies = {label: tmp_path / label for label in ("A", "B")}
    a, b = st.confirm(studies, claimed, [30, 31, 32], 1, 1, 10, 0, tmp_path / "out", train_runs=lambda c: None)
    assert b["holds"] and b["start"] is None
    got = a["start"]
    assert got["mean"] == pytest.approx([3.2 / 3, 3.2 / 3]) and got["still_dominates"] == found
    assert a["holds"] and a["still_dominates"] == found
    # adversarial - start, seed by seed: NLL-oracle 0, 0.1, 0.1 (t = 2 on 2 degrees of freedom)
    assert got["nll_oracle_diff"]["mean"] == pytest.approx(0.2 / 3)
    assert got["nll_oracle_diff"]["p"] == pytest.approx(2 * stats.t.sf(2.0, 2))
    assert got["nll_test_diff"]["mean"] == pytest.approx(0.1 / 3)
    table = "\n".join(st._start_table([a, b]))
    assert got["covers_claim"] is True
    assert "**1 of 1** such claims (1 of them hold)" in table and "| A | 1 | 1 | 1.133, 1.100 | 1.067, 1.067 |" in table
    assert "| B |" not in table
    # a claim that fails is not its start's, though the start dominates as many points (none)
    claimed[0]["dominated_when_found"] = [[1.0, 1.0]]
    (failed,) = st.confirm(studies, claimed[:1], [30, 31, 32], 1, 1, 10, 0, tmp_path / "out", train_runs=lambda c: None)
    assert failed["holds"] is False and failed["start"]["still_dominates"] == []
    assert failed["start"]["covers_claim"] is False and "**0 of 1** such claims (0 of them hold)" in "\n".join(
        st._start_table([failed])
    )
    # a start sweep is not read as the final generator's (a file copied into the other's place)
    seed30 = tmp_path / "out" / "confirm" / "A" / "trial-0001" / "seed30"
    saved = json.loads((seed30 / "sweep_pretrained.json").read_text())
    (seed30 / "sweep.json").write_text(json.dumps({**saved, "row": "pretrained"}))
    with pytest.raises(ValueError, match="seed30: no sweep.json for this run"):
        st.swept(seed30, [1.0], 10, 0)


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
    with pytest.raises(ValueError, match=r"trial-0000: no sweep.json for this run, grid.*no checkpoint.pt"):
        st.study_trials(tmp_path / "s", [1.0], 10, 0)
    with pytest.raises(ValueError, match="no such study folder"):
        st.study_trials(tmp_path / "missing", [1.0], 10, 0)


def test_an_unfinished_trials_cpu_time_counts_and_is_kept_beside_it(tmp_path):
    """A failed trial (no results.json) spends compute: its checkpoint's cpu_seconds join the study's
    total and the equal-compute order, and are written to compute.json so they outlive the checkpoint."""
    from seqgan.runtime.checkpoint import FORMAT, save_checkpoint

    study = tmp_path / "s"
    done = write_trial(study, 0, {"rows": {}, "seconds": 5.0, "cpu_seconds": 7200.0})
    sweep = {"temperatures": [1.0], "num_samples": 10, "sampling_seed": 0, "run": st._run_key(done),
             "points": [pt(0, 1.0, 1.0)], "cpu_seconds": 36.0}  # fmt: skip
    (done / "sweep.json").write_text(json.dumps(sweep))
    failed = study / "trial-0001"
    failed.mkdir()
    save_checkpoint({"format": FORMAT, "cpu_seconds": 1800.0}, failed / "checkpoint.pt")
    trials = st.study_trials(study, [1.0], 10, 0)
    assert [(t["trial"], t["finished"], t["cpu_hours"]) for t in trials] == [(0, True, 2.0), (1, False, 0.5)]
    assert json.loads((failed / "compute.json").read_text())["cpu_seconds"] == 1800.0
    (failed / "checkpoint.pt").unlink()
    assert st.study_trials(study, [1.0], 10, 0)[1]["cpu_hours"] == 0.5
    summary = st.comparisons({"s": trials, "t": [trial(0, 2.2, (2.0, 2.0))]})
    assert summary["all trials"]["s"]["cpu_hours"] == 2.5 and summary["all trials"]["s"]["unfinished"] == [1]
    (failed / "compute.json").unlink()
    with pytest.raises(ValueError, match="trial-0001: neither results.json, compute.json nor checkpoint.pt"):
        st.study_trials(study, [1.0], 10, 0)


def test_a_sweep_of_another_run_in_the_same_folder_is_not_reused(tmp_path):
    d = write_trial(tmp_path / "s", 0, {"rows": {}, "seconds": 5.0, "cpu_seconds": 4.0})
    sweep = {"temperatures": [1.0], "num_samples": 10, "sampling_seed": 0, "run": st._run_key(d), "points": []}
    (d / "sweep.json").write_text(json.dumps(sweep))
    assert st.swept(d, [1.0], 10, 0)["points"] == []
    (d / "results.json").write_text(json.dumps({"rows": {}, "seconds": 6.0, "cpu_seconds": 5.0}))  # run again
    with pytest.raises(ValueError, match="no sweep.json for this run"):
        st.swept(d, [1.0], 10, 0)
    (d / "sweep.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"sweep.json: unreadable"):
        st.swept(d, [1.0], 10, 0)


def test_both_spaces_search_pre_training_alike_and_neither_searches_temperature():
    import yaml

    mle = yaml.safe_load((ROOT / "configs/tune/symmetric_mle.yaml").read_text())
    seqgan = yaml.safe_load((ROOT / "configs/tune/symmetric_seqgan.yaml").read_text())
    assert set(mle) == {"train.pretrain_g_epochs", "generator.lr"}
    assert {k: seqgan[k] for k in mle} == mle
    assert not any("temperature" in k for k in [*mle, *seqgan])
    first = yaml.safe_load((ROOT / "configs/tune/quick_seqgan.yaml").read_text())
    assert {k: v for k, v in seqgan.items() if k not in mle} == first  # the adversarial keys of the first study


def test_a_shared_pretraining_study_and_bad_settings_are_refused(tmp_path):
    study = tmp_path / "s"
    (study / "pretraining").mkdir(parents=True)
    with pytest.raises(ValueError, match="shared pre-training"):
        st.study_trials(study, [1.0], 10, 0)
    two = {"A": tmp_path / "a", "B": tmp_path / "b"}
    for kwargs, message in (
        ({"temperatures": [1.0, float("nan")]}, "positive numbers"),
        ({"num_samples": 1}, "--num must be at least 2"),
        ({"confirm_seeds": [30, 30, 31]}, "at least 3 different seeds"),
        ({"jobs": 0}, "--jobs must be at least 1"),
    ):
        args = {"temperatures": None, "num_samples": 10, "sampling_seed": 0, "out": tmp_path / "o", **kwargs}
        with pytest.raises(ValueError, match=message):
            st.run(two, **args)
    with pytest.raises(ValueError, match="a label is a name"):
        st.run({"../A": tmp_path, "B": tmp_path}, None, 10, 0, tmp_path / "o")


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

    # the points said to dominate, in any comparison, on the fresh seeds: means of the confirmation runs' sweeps
    conf = summary["confirmation"]
    said = {(label, d["point"]["trial"], d["point"]["temperature"]) for r in summary["comparisons"].values()
            for label, v in r.items() for d in v["dominating"]}  # fmt: skip
    assert said and {(c["study"], c["trial"], c["temperature"]) for c in conf} == said  # MLE dominates here
    assert sum(c["retried"] for c in conf) >= 1 and len({c["trial"] for c in conf if c["retried"]}) == 1
    for c in conf:
        if not c["retried"]:
            assert c["holds"] is None
            continue
        runs = [out / "confirm" / c["study"] / f"trial-{c['trial']:04d}" / f"seed{s}" for s in (30, 31, 32)]
        fresh = [
            next(
                p for p in json.loads((r / "sweep.json").read_text())["points"] if p["temperature"] == c["temperature"]
            )
            for r in runs
        ]
        mean = [statistics.fmean(p[k] for p in fresh) for k in ("nll_oracle", "nll_test")]
        assert c["mean"] == pytest.approx(mean)
        by_mean = [q for q in c["dominated_when_found"] if mean[0] <= q[0] and mean[1] <= q[1] and mean != q]
        assert c["mean_dominates"] == by_mean

        def below(k, bound, fresh=fresh):
            values = [p[k] for p in fresh]
            if statistics.stdev(values) == 0:
                return statistics.fmean(values) < bound
            return stats.ttest_1samp(values, bound, alternative="less").pvalue < 0.05

        still = [q for q in c["dominated_when_found"] if below("nll_oracle", q[0]) and below("nll_test", q[1])]
        assert c["still_dominates"] == still and c["holds"] == bool(still)
        assert [json.loads((r / "results.json").read_text())["seed"] for r in runs] == [30, 31, 32]
        assert "threads: 1" in (runs[0] / "config.yaml").read_text()

    # the tables re-derive without any checkpoint; a new grid then needs them, and says so
    for ckpt in out.rglob("checkpoint.pt"):
        ckpt.unlink()
    again = st.run({"SeqGAN": out / "seqgan", "MLE": out / "mle"}, [0.8, 1.0, 1.25], 100, 0, tmp_path / "again")
    assert again["comparisons"] == summary["comparisons"]
    with pytest.raises(ValueError, match="no sweep.json for this run, grid"):
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
