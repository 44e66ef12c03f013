"""The own-start study (seqgan/studies/own_start.py): gaps and statistics against hand computations on
fabricated curves, the tests against SciPy's, skipping unfinished seeds, and one run on smoke seeds."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pytest
from scipy import stats

from seqgan.studies import own_start
from seqgan.studies.experiments import saved_sweep
from seqgan.studies.own_start import (
    finished_seeds,
    gap_at,
    mean_over,
    mean_vertical_gap,
    over_seeds,
    quality_branch,
    se_branch,
)
from test_cli import SMOKE, assert_one_line_error, seqgan

REPO = Path(__file__).resolve().parent.parent

# the pre-trained curve A: NLL-oracle = 16 - NLL-test; sweep B lies 0.25 above it. Dyadic numbers,
# so interpolation is exact in floating point and the gaps must come out exactly.
A = [(6.0, 10.0), (7.0, 9.0), (8.0, 8.0)]
B = [(x, y + 0.25) for x, y in A]


def test_gap_at_equal_nll_test_is_the_offset_from_the_curve():
    assert gap_at((7.5, 8.5 - 0.5), [A]) == -0.5  # 0.5 below curve A at NLL-test 7.5
    assert gap_at((7.5, 8.0), [A, B]) == -0.625  # below the mean of A and B (8.625)
    assert gap_at((6.5, 9.5 + 0.125), [A, B]) == 0.0  # on the mean: 9.5 + 0.125
    assert gap_at((7.0, 9.25), [B]) == 0.0  # at a breakpoint
    assert gap_at((8.5, 7.0), [A, B]) is None and gap_at((5.0, 7.0), [A]) is None  # outside the range


def test_mean_vertical_gap_over_the_shared_range():
    # a parallel curve 0.5 below A on NLL-test 6.5..8.5: shares 6.5..8 with A and B
    arm = [(x, 16.0 - x - 0.5) for x in (6.5, 7.5, 8.5)]
    assert mean_vertical_gap(arm, [A, B]) == {"gap": -0.625, "nll_test_range": [6.5, 8.0]}
    # a sloped difference, 0.5 (x - 6) over 6..8: its mean is the integral 1.0 over the length 2
    sloped = [(x, 16.0 - x + 0.5 * (x - 6.0)) for x in (6.0, 6.5, 8.0)]
    assert mean_vertical_gap(sloped, [A]) == {"gap": 0.5, "nll_test_range": [6.0, 8.0]}
    # a kink between A's breakpoints: |x - 7| / 2 over 6..8 has mean 0.25
    kinked = [(6.0, 10.5), (7.0, 9.0), (8.0, 8.5)]
    assert mean_vertical_gap(kinked, [A])["gap"] == 0.25
    assert mean_vertical_gap([(8.5, 1.0), (9.0, 1.0)], [A]) is None  # no shared range


def test_quality_branch_stops_at_the_lowest_nll_test():
    points = [
        {"temperature": t, "nll_test": x, "nll_oracle": y}
        for t, x, y in [(1.4, 6.75, 9.0), (0.8, 8.0, 7.0), (1.2, 6.5, 8.5), (1.0, 7.0, 8.0)]
    ]
    assert quality_branch(points) == [(8.0, 7.0), (7.0, 8.0), (6.5, 8.5)]  # T 0.8, 1.0, 1.2; not 1.4
    rising = [{"temperature": t, "nll_test": 7.0 - t, "nll_oracle": t} for t in (0.8, 1.0, 1.2)]
    assert len(quality_branch(rising)) == 3  # the minimum at the grid's top: the whole sweep


def test_standard_errors_read_along_the_same_branch():
    points = [
        {"temperature": t, "nll_test": x, "nll_oracle": y, "nll_oracle_se": se}
        for t, x, y, se in [(1.4, 6.75, 9.0, 0.5), (0.8, 8.0, 7.0, 0.25), (1.2, 6.5, 8.5, 0.125), (1.0, 7.0, 8.0, 0.25)]
    ]
    assert se_branch(points) == [(8.0, 0.25), (7.0, 0.25), (6.5, 0.125)]  # the branch of quality_branch
    # the mean of a piecewise-linear curve: 0.25 on 7..8, falling to 0.125 at 6.5 (mean 0.1875 over 6.5..7)
    assert mean_over(se_branch(points), 6.5, 8.0) == (0.1875 * 0.5 + 0.25 * 1.0) / 1.5
    assert mean_over(se_branch(points), 7.0, 7.0) == 0.25


GAPS = [-0.1, -0.05, -0.08, 0.01, -0.12]


def test_over_seeds_by_hand():
    s = over_seeds(GAPS)
    n, mean = 5, sum(GAPS) / 5
    sd = math.sqrt(sum((g - mean) ** 2 for g in GAPS) / 4)
    assert s["n"] == n and s["mean"] == pytest.approx(-0.068, abs=1e-15) and s["std"] == pytest.approx(sd, rel=1e-12)
    half = 2.7764451051977987 * sd / math.sqrt(n)  # t(0.975, 4)
    assert s["ci95"] == pytest.approx([mean - half, mean + half], rel=1e-12)
    t = mean / (sd / math.sqrt(n))
    assert s["t_p"] == pytest.approx(2 * stats.t.sf(abs(t), n - 1), rel=1e-10)
    # Wilcoxon by hand: ranks of |g| are 4, 2, 3, 1, 5; the positive one has rank 1, so W = 1, and of the
    # 2^5 sign patterns, those with W <= 1 or W >= 14 number 4: p = 4 / 32
    assert s["wilcoxon_p"] == pytest.approx(4 / 32, rel=1e-12)
    one = over_seeds([-0.1])
    assert one["n"] == 1 and math.isnan(one["std"]) and math.isnan(one["t_p"]) and math.isnan(one["ci95"][0])


def test_paired_test_equals_scipys():
    paper = [-0.02, 0.03, -0.01, 0.04, 0.00]
    tuned = [g + p for g, p in zip(GAPS, paper)]
    s = over_seeds([t - p for t, p in zip(tuned, paper)])
    assert s["t_p"] == pytest.approx(stats.ttest_rel(tuned, paper).pvalue, rel=1e-9)
    assert s["wilcoxon_p"] == pytest.approx(stats.wilcoxon(tuned, paper).pvalue, rel=1e-9)
    assert over_seeds(GAPS)["t_p"] == stats.ttest_1samp(GAPS, 0.0).pvalue


def test_an_unfinished_seed_is_skipped_with_one_line(tmp_path, capsys):
    for seed, arms in ((10, ("paper", "tuned")), (11, ("paper",)), (12, ())):
        for arm in ("paper", "tuned"):
            (tmp_path / f"seed{seed}" / arm).mkdir(parents=True)
        for arm in arms:
            (tmp_path / f"seed{seed}" / arm / "results.json").write_text("{}")
    (tmp_path / "notes").mkdir()
    assert finished_seeds(tmp_path) == [tmp_path / "seed10"]
    assert capsys.readouterr().out.splitlines() == [
        "own-start: seed11 skipped, unfinished (no results.json in tuned)",
        "own-start: seed12 skipped, unfinished (no results.json in paper, tuned)",
    ]


def _train(tmp_path, *args):
    proc = seqgan("train", SMOKE, "--set", "rows.names=[]", "--set", "train.rounds=2", *args, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr


def test_own_start_on_two_smoke_seeds(tmp_path):
    # scripts/own_start.sh at smoke size: one pre-training a seed, two arms started from it; seed 3 unfinished
    out = tmp_path / "own"
    for seed in (1, 2, 3):
        base = out / f"seed{seed}"
        _train(tmp_path, "--seed", seed, "--run-dir", base / "pretraining", "--stop-after-pretraining")
        if seed == 3:
            continue
        _train(tmp_path, "--seed", seed, "--run-dir", base / "paper", "--start-from", base / "pretraining")
        _train(
            tmp_path,
            "--seed",
            seed,
            "--run-dir",
            base / "tuned",
            "--start-from",
            base / "pretraining",
            "--set",
            "generator.pg_lr=0.03",
            "--set",
            "train.rollout_update_rate=0.4",
        )
    proc = seqgan(
        "experiment", "own-start", "--runs", out, "--temperatures", "0.6,0.8,1.0,1.2,1.4", "--num", "64", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("own-start: seed3 skipped, unfinished") == 1
    md = (out / "own_start.md").read_text()
    result = json.loads((out / "own_start.json").read_text())
    assert (out / "own_start.png").stat().st_size > 1000
    assert (out / "own_start_sweeps" / "seed2" / "tuned" / "temperature.json").is_file()
    assert result["seeds"] == [1, 2] and result["temperatures"] == [0.6, 0.8, 1.0, 1.2, 1.4]
    assert result["command"] in md and result["verdict"] in md
    assert re.match(r"tuned SeqGAN (is|is not|cannot be judged)", result["verdict"])

    def cell(v, signed=True):
        return "outside the curve's range" if v is None else (f"{v:+.3f}" if signed else f"{v:.3f}")

    def pm(v, se):
        return cell(v) if v is None or se is None else f"{v:+.3f} ± {se:.3f}"

    rows = {
        tuple(c.strip() for c in line.strip("|").split("|")[:2]): line
        for line in md.splitlines()
        if re.match(r"\| \d+ \| ", line)
    }
    for s in result["per_seed"]:
        assert s["sampling_seeds"] == {"pretrained_A": 0, "paper": 0, "pretrained_B": 1, "tuned": 1}
        for arm in ("paper", "tuned"):
            a = s["arms"][arm]
            assert a["t1"]["temperature"] == 1.0
            cells = [c.strip() for c in rows[(str(s["seed"]), arm)].strip("|").split("|")]
            assert cells[2:9] == [
                f"{a['t1']['nll_oracle']:.3f} ± {a['t1']['nll_oracle_se']:.3f}",
                f"{a['t1']['nll_test']:.3f}",
                cell(a["pretrained_A_at_nll_test"], False),
                cell(a["pretrained_B_at_nll_test"], False),
                pm(a["gap_t1"], a["gap_t1_se"]),
                cell(a["noise"]),
                pm(a["gap_curve"], a["gap_curve_se"]),
            ]
            if a["gap_t1"] is not None:  # the gap is the point minus the mean of the two sweeps there
                mean_ab = (a["pretrained_A_at_nll_test"] + a["pretrained_B_at_nll_test"]) / 2
                assert a["gap_t1"] == pytest.approx(a["t1"]["nll_oracle"] - mean_ab)
                # its s.e.: the point's and the two sweeps' (independent draws), the sweeps' halved by the mean
                assert a["gap_t1_se"] > a["t1"]["nll_oracle_se"] and a["gap_t1_se"] < 2 * a["t1"]["nll_oracle_se"]
        cells = [c.strip() for c in rows[(str(s["seed"]), "tuned - paper")].strip("|").split("|")]
        d = s["tuned_minus_paper"]
        assert cells[6:9] == [pm(d["gap_t1"], d["gap_t1_se"]), "", pm(d["gap_curve"], d["gap_curve_se"])]
        if d["gap_t1"] is not None:  # the arms' points are independent draws; the tempered start cancels
            ses = [s["arms"][arm]["t1"]["nll_oracle_se"] for arm in ("paper", "tuned")]
            assert d["gap_t1_se"] == pytest.approx(math.hypot(*ses))
        assert s["runs"]["paper"]["machine"] and s["runs"]["paper"]["machine"] in md
    for key, name in (("gap_t1", "gap at T = 1"), ("gap_curve", "mean gap of the tempered curve")):
        for label in ("paper", "tuned", "tuned - paper"):
            st = result["summary"][f"{key}/{label}"]
            line = next(x for x in md.splitlines() if x.startswith(f"| {name} | {label} | "))
            nan = math.isnan(st["mean"])
            assert ("n/a" if nan else f"{st['mean']:+.3f}") in line and f"| {st['n']}" in line

    # a re-run reads the finished sweeps back instead of sampling again, and writes the same numbers
    before = (out / "own_start.json").read_text()
    sweep = out / "own_start_sweeps" / "seed1" / "paper" / "temperature.json"
    curves = json.loads(sweep.read_text())["per_run"][0]["curves"]
    proc = seqgan(
        "experiment", "own-start", "--runs", out, "--temperatures", "0.6,0.8,1.0,1.2,1.4", "--num", "64", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(sweep.read_text())["per_run"][0]["curves"] == curves
    strip = lambda text: {k: v for k, v in json.loads(text).items() if k != "machine"}  # noqa: E731
    assert strip((out / "own_start.json").read_text()) == strip(before)
    # the sweeps are keyed on each run's results.json: no checkpoint is needed once they exist, and a
    # run whose results.json changed is not read as swept
    grid = [0.6, 0.8, 1.0, 1.2, 1.4]
    assert saved_sweep(out / "own_start_sweeps" / "seed1" / "paper", out / "seed1" / "paper", grid, 64, 0)
    for ckpt in out.rglob("checkpoint.pt"):
        ckpt.unlink()
    md = (out / "own_start.md").read_bytes()
    proc = seqgan(
        "experiment", "own-start", "--runs", out, "--temperatures", "0.6,0.8,1.0,1.2,1.4", "--num", "64", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "own_start.md").read_bytes() == md
    results = out / "seed1" / "paper" / "results.json"
    results.write_text(results.read_text() + " ")
    assert saved_sweep(out / "own_start_sweeps" / "seed1" / "paper", out / "seed1" / "paper", grid, 64, 0) is None


def test_the_committed_own_start_md_is_rebuilt_from_the_repository(tmp_path, monkeypatch):
    """On a copy of the committed results/own_start (runs without checkpoints, and the sweeps), the
    documented command, `seqgan experiment own-start --runs results/own_start` with its defaults, writes
    own_start.md byte for byte: every sweep is read back, none is made."""
    committed = REPO / "results" / "own_start"
    shutil.copytree(committed, tmp_path / "results" / "own_start", ignore=shutil.ignore_patterns("checkpoint.pt"))
    monkeypatch.chdir(tmp_path)
    own_start.run(Path("results/own_start"), None, 2000, 0, Path("results/own_start"))
    assert (tmp_path / "results" / "own_start" / "own_start.md").read_bytes() == (
        committed / "own_start.md"
    ).read_bytes()
    rebuilt = json.loads((tmp_path / "results" / "own_start" / "own_start.json").read_text())
    assert rebuilt == json.loads((committed / "own_start.json").read_text())


def test_own_start_argument_errors(tmp_path):
    assert_one_line_error(seqgan("experiment", "own-start", cwd=tmp_path), "--runs")
    assert_one_line_error(seqgan("experiment", "own-start", "--runs", tmp_path, cwd=tmp_path), "no seedS folder")
    assert_one_line_error(
        seqgan("experiment", "own-start", "--runs", tmp_path, "--temperatures", "0.8,1.2", cwd=tmp_path), "hold 1.0"
    )
