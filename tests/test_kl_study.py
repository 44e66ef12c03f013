"""The KL remedy's comparison (seqgan/studies/kl_remedy.py): every arm's gap to the tempered start and
to the paper arm against hand computations on fabricated sweeps, the verdict's rule, the arms' configs,
and one smoke seed end to end (runs, sweeps, resampling, a rebuild without checkpoints)."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from seqgan.config import load_config
from seqgan.runtime.files import flat_keys
from seqgan.studies import kl_remedy
from seqgan.studies.kl_remedy import (
    BETAS,
    all_arms,
    arm_overrides,
    resample_arms,
    seed_result,
    summarize,
    trained_arms,
    verdict,
)
from test_cli import SMOKE, assert_one_line_error, seqgan

REPO = Path(__file__).resolve().parent.parent


def _points(curve: list[tuple[float, float, float]], se: float = 0.25) -> list[dict]:
    return [{"temperature": t, "nll_test": x, "nll_oracle": y, "nll_oracle_se": se} for t, x, y in curve]


# sweep A: NLL-oracle = 16 - NLL-test on its quality branch (T 0.5..1.0; NLL-test lowest at T = 1.0, then
# rising: the hot branch, which no gap may read); sweep B 0.25 above. Dyadic numbers: exact arithmetic.
A = [(0.5, 8.0, 8.0), (0.75, 7.0, 9.0), (1.0, 6.0, 10.0), (1.5, 6.5, 11.0)]
B = [(t, x, y + 0.25) for t, x, y in A]


def _fabricated(tmp_path: Path) -> tuple[Path, dict]:
    """A seed folder (results.json of each trained arm) and its sweeps: arm i's T = 1 point lies at
    NLL-test 7.5 with NLL-oracle 8.5 + i / 8 (the curves' mean there: 16 - 7.5 + 0.125 = 8.625)."""
    seed_dir = tmp_path / "seed7"
    curves = {"pretrained_A": _points(A), "pretrained_B": _points(B)}
    for i, arm in enumerate(trained_arms()):
        (seed_dir / arm).mkdir(parents=True)
        (seed_dir / arm / "results.json").write_text(json.dumps({"machine": "m", "seconds": 60.0}))
        # the arm's whole curve: the tempered start's A shifted by i / 8 (its T = 1 point: (7.5, 8.5 + i/8))
        curves[arm] = _points([(0.5, 8.5, 7.5 + i / 8), (1.0, 7.5, 8.5 + i / 8), (1.5, 8.0, 9.0)], se=0.5)
    resample = {
        f"resample_b{b:g}": {"beta": b, "pool": 40, "log_z": -0.5, "log_z_pool": -0.625, "ess": 12.5, "distinct": 3,
                             "z_pool_size": 400, "nll_test": nll_test, "nll_test_pool_z": nll_test - 0.03125,
                             "nll_oracle": 9.0, "nll_oracle_se": 0.5}
        for b, nll_test in zip(BETAS, (7.0, 6.5, 9.0))  # the last outside the curve's range
    }  # fmt: skip
    return seed_dir, {"machine": "m", "curves": curves, "resample": resample}


def test_every_arms_gap_is_its_point_minus_the_mean_of_the_two_sweeps_there(tmp_path):
    seed_dir, saved = _fabricated(tmp_path)
    result = seed_result(seed_dir, saved)
    assert result["seed"] == 7 and set(result["arms"]) == set(all_arms())
    for i, arm in enumerate(trained_arms()):
        a = result["arms"][arm]
        assert a["gap"] == 8.5 + i / 8 - 8.625
        # s.e.: the point's (0.5) and the two sweeps' (0.25 each, their mean halves them): sqrt(0.25 + 0.0625 / 2)
        assert a["gap_se"] == pytest.approx(math.sqrt(0.25 + 2 * 0.0625 / 4))
        # the curve gap over the NLL-test range the arm's quality branch (7.5..8.5) shares with the start's (6..8)
        # (the arm: 8.5 + i/8 - (x - 7.5) there; the start's mean 16.125 - x; the trapezoid of a straight line)
        arm_lo, arm_hi, ref_lo, ref_hi = 8.5 + i / 8, 8.0 + i / 8, 16.125 - 7.5, 16.125 - 8.0
        assert a["curve_range"] == [7.5, 8.0]
        assert a["gap_curve"] == pytest.approx(((arm_lo - ref_lo) + (arm_hi - ref_hi)) / 2)
    # resampling's points: NLL-test 7.0 and 6.5 lie on the quality branch (6.0..8.0), 9.0 does not
    r = result["arms"]
    assert r["resample_b0.1"]["gap"] == 9.0 - (16 - 7.0 + 0.125)
    assert r["resample_b1"]["gap"] == 9.0 - (16 - 6.5 + 0.125)
    assert r["resample_b10"]["gap"] is None and r["resample_b10"]["gap_se"] is None
    assert "gap_curve" not in r["resample_b1"] and r["resample_b1"]["distinct"] == 3
    # every arm minus the paper arm: the tempered start cancels; the two points' draws are independent
    for arm in all_arms()[1:]:
        d = result["minus_paper"][arm]
        if r[arm]["gap"] is None:
            assert d["gap"] is None
        else:
            assert d["gap"] == r[arm]["gap"] - r["paper"]["gap"]
            assert d["gap_se"] == pytest.approx(math.hypot(0.5, 0.5))


def test_over_seeds_each_arm_and_its_paired_difference_with_a_seed_left_out(tmp_path):
    seed_dir, saved = _fabricated(tmp_path)
    seeds = []
    for seed, shift in ((1, 0.0), (2, -0.25), (3, 0.5)):
        s = seed_result(seed_dir, saved)
        s["seed"] = seed
        for a in s["arms"].values():
            if a["gap"] is not None:
                a["gap"] += shift * (a is not s["arms"]["paper"])
        for arm, d in s["minus_paper"].items():
            if d["gap"] is not None:
                d["gap"] = s["arms"][arm]["gap"] - s["arms"]["paper"]["gap"]
        seeds.append(s)
    summary = summarize(seeds)
    st = summary["gap/kl_frozen_b1"]
    base = 8.5 + 2 / 8 - 8.625  # kl_frozen_b1 is the third trained arm
    assert st["n"] == 3 and st["mean"] == pytest.approx(base + (0.0 - 0.25 + 0.5) / 3)
    assert summary["gap/resample_b10"]["n"] == 0 and summary["gap/resample_b10"]["seeds_left_out"] == [1, 2, 3]
    d = summary["minus_paper/kl_frozen_b1"]
    assert d["mean"] == pytest.approx(2 / 8 + 0.25 / 3)
    assert "minus_paper/paper" not in summary


def _fabricated_study(tmp_path: Path) -> Path:
    """results/kl with three fabricated seeds (runs' results.json and their sweeps, keyed as the study keys
    them); the kl_frozen_b1 arm lies well below the tempered start on every seed, the paper arm above it."""
    from seqgan.studies.experiments import run_key

    out = tmp_path / "results" / "kl"
    for seed, shift in ((1, 0.0), (2, -0.0625), (3, 0.125)):
        seed_dir, saved = _fabricated(out / "work" / str(seed))
        target = out / f"seed{seed}"
        shutil.copytree(seed_dir, target)
        for arm in trained_arms():
            (target / arm / "results.json").write_text(json.dumps({"machine": "m", "seconds": 60.0 + seed}))
            dy = shift + (-1.0 if arm == "kl_frozen_b1" else 0.5 if arm == "paper" else 0.0)
            for p in saved["curves"][arm]:
                p["nll_oracle"] += dy
        saved.update(
            temperatures=kl_remedy.TEMPERATURES, num_samples=48, sampling_seed=0, betas=list(BETAS),
            pool_factor=kl_remedy.POOL_FACTOR, keys={arm: run_key(target / arm) for arm in trained_arms()},
        )  # fmt: skip
        (out / "kl_sweeps").mkdir(parents=True, exist_ok=True)
        (out / "kl_sweeps" / f"seed{seed}.json").write_text(json.dumps(saved))
    shutil.rmtree(out / "work")
    return out


def test_the_checker_re_derives_the_summary_over_seeds_and_names_a_wrong_cell(tmp_path):
    out = _fabricated_study(tmp_path)
    result = kl_remedy.run(None, 48, 0, out, report_only=True)
    below = [a for a in all_arms() if result["summary"][f"gap/{a}"]["ci95"][1] < 0]
    assert "kl_frozen_b1" in below and "paper" not in below
    assert result["verdict"].startswith(f"{len(below)} arm(s) below their tempered start")
    assert re.search(r"[:;] [a-z_0-9., ]*\bpaper\b[a-z_0-9., ]* above it", result["verdict"]), result["verdict"]
    check = [sys.executable, str(REPO / "scripts" / "check_kl.py"), "--results", str(tmp_path / "results")]
    proc = subprocess.run(check, capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("all "), proc.stdout
    md = (out / "kl.md").read_text()
    st = result["summary"]["gap/kl_frozen_b1"]
    for old, new, named in (
        (f"[{st['ci95'][0]:+.3f}, ", f"[{st['ci95'][0] - 0.01:+.3f}, ", "kl_frozen_b1: 95 % CI"),
        (f"**{len(below)} arm(s) below", "**No arm is below", "the verdict's head"),
        (" above it", ", kl_frozen_b1 above it", "the arms the verdict calls above it"),
    ):
        assert md.count(old) >= 1, old
        (out / "kl.md").write_text(md.replace(old, new, 1))
        proc = subprocess.run(check, capture_output=True, text=True)
        assert proc.returncode == 1 and named in proc.stdout, (named, proc.stdout)
    (out / "kl.md").write_text(md.replace(md.splitlines()[6], "no verdict"))
    proc = subprocess.run(check, capture_output=True, text=True)
    assert proc.returncode == 1 and "no verdict line" in proc.stdout, proc.stdout


def test_the_verdict_names_an_arm_below_only_when_its_whole_interval_is():
    def st(lo, hi, n=5):
        return {"n": n, "ci95": [lo, hi], "mean": (lo + hi) / 2}

    summary = {f"gap/{a}": st(-0.1, 0.1) for a in all_arms()}
    assert verdict(summary).startswith("No arm is below its own tempered start")
    summary["gap/kl_frozen_b1"] = st(-0.3, -0.01)
    summary["gap/paper"] = st(0.02, 0.2)
    text = verdict(summary)
    assert text.startswith("1 arm(s) below their tempered start")
    assert "kl_frozen_b1 below" in text and "paper above it" in text
    summary["gap/kl_frozen_b1"] = st(-0.3, -0.01, n=1)  # one seed: no interval, no claim
    assert verdict(summary).startswith("No arm is below")


@pytest.mark.parametrize("arm", trained_arms())
def test_each_arm_is_a_valid_config_that_differs_from_paper_only_in_its_g_step(arm):
    cfg = load_config("configs/synthetic_quick.yaml", kl_remedy.COMMON + arm_overrides(arm))
    paper = load_config("configs/synthetic_quick.yaml", kl_remedy.COMMON)
    assert cfg.discriminator.precision == "fp32" and cfg.rows.names == []
    if arm == "paper":
        assert cfg.to_dict() == paper.to_dict()
        return
    tc = cfg.train
    assert (tc.objective, tc.kl_reward, tc.rewards, tc.baseline) == ("kl", "logit", "mc", "mean")
    assert (tc.ppo_epochs, tc.ppo_clip, tc.freeze_d) == (4, 0.2, arm.startswith("kl_frozen"))
    assert tc.kl_beta == float(arm.rsplit("_b", 1)[1])
    now, then = flat_keys(cfg.to_dict()), flat_keys(paper.to_dict())
    differ = {k for k in now if now[k] != then[k]}
    assert differ <= {"train." + o.split("=")[0].removeprefix("train.") for o in arm_overrides(arm)}
    assert "train.objective" in differ


def test_one_smoke_seed_end_to_end_and_rebuilt_without_checkpoints(tmp_path):
    out = tmp_path / "kl"
    args = ["experiment", "kl", "--config", SMOKE, "--set", "train.rounds=2", "--num", "48", "--out", out]
    proc = seqgan(*args, "--seeds", "5,", "--jobs", "2", cwd=tmp_path, timeout=900)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((out / "kl.json").read_text())
    md = (out / "kl.md").read_text()
    assert result["seeds"] == [5] and result["verdict"] in md and result["command"] in md
    assert (out / "kl.png").stat().st_size > 1000 and (out / "kl_gaps.png").stat().st_size > 1000
    (s,) = result["per_seed"]
    saved = json.loads((out / "kl_sweeps" / "seed5.json").read_text())
    assert saved["temperatures"] == kl_remedy.TEMPERATURES and saved["num_samples"] == 48
    for arm in trained_arms():
        config = (out / "seed5" / arm / "config.yaml").read_text()
        assert ("objective: kl" in config) == (arm != "paper")
        t1 = next(p for p in saved["curves"][arm] if p["temperature"] == 1.0)
        assert s["arms"][arm]["nll_oracle"] == t1["nll_oracle"]
    for arm in resample_arms():
        point = saved["resample"][arm]
        assert point["pool"] == 480 and point["z_pool_size"] == 4800 and 1 <= point["distinct"] <= 48
        assert 1 <= point["ess"] <= 480 and s["arms"][arm]["nll_test"] == point["nll_test"]
        # Z-hat from the larger independent pool: both NLL-tests are that of p_0 exp(r / B) / Z-hat
        assert point["nll_test"] - point["nll_test_pool_z"] == pytest.approx(
            (point["log_z"] - point["log_z_pool"]) / 8, abs=1e-6
        )
    # a frozen D is D as its pre-training left it: the three frozen arms (one pre-training, one seed) hold one D
    import torch

    ds = [
        torch.load(out / "seed5" / f"kl_frozen_b{b:g}" / "checkpoint.pt", weights_only=False)["discriminator"]
        for b in BETAS
    ]
    assert all(torch.equal(ds[0][k], d[k]) for d in ds[1:] for k in ds[0])
    rows = [line for line in md.splitlines() if re.match(r"\| 5 \| ", line)]
    assert len(rows) == len(all_arms())
    # the independent checker re-derives every figure, and names a figure that does not match its files
    check = [sys.executable, str(REPO / "scripts" / "check_kl.py"), "--results", str(tmp_path)]
    proc = subprocess.run(check, capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("all "), proc.stdout + proc.stderr
    paper_gap = s["arms"]["paper"]["gap"]
    tampered = md.replace(f"| {paper_gap:+.3f} ± ", f"| {paper_gap + 0.01:+.3f} ± ", 1)
    assert tampered != md
    (out / "kl.md").write_text(tampered)
    proc = subprocess.run(check, capture_output=True, text=True)
    assert proc.returncode == 1 and "seed 5 paper gap" in proc.stdout, proc.stdout
    (out / "kl.md").write_text(md)
    # the committed form: no checkpoints; --report-only reads the sweeps back and writes the same bytes
    for ckpt in out.rglob("checkpoint.pt"):
        ckpt.unlink()
    before = (out / "kl.md").read_bytes()
    proc = seqgan(*args, "--report-only", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (out / "kl.md").read_bytes() == before
    # a run whose results.json changed is not read as swept: it needs its checkpoint, and says so in one line
    results = out / "seed5" / "paper" / "results.json"
    results.write_text(results.read_text() + " ")
    assert_one_line_error(seqgan(*args, "--report-only", cwd=tmp_path), "checkpoint")
    # an unfinished seed is left out with one line
    shutil.copytree(out / "seed5", out / "seed6")
    (out / "seed6" / "kl_trained_b10" / "results.json").unlink()
    results.write_text(results.read_text()[:-1])
    proc = seqgan(*args, "--report-only", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("kl: seed6 left out, unfinished (no results.json in kl_trained_b10)") == 1


def test_kl_argument_errors(tmp_path):
    assert_one_line_error(seqgan("experiment", "kl", "--out", tmp_path / "x", cwd=tmp_path), "--seeds")
    assert_one_line_error(
        seqgan("experiment", "kl", "--report-only", "--out", tmp_path / "x", cwd=tmp_path), "not a directory"
    )
    assert_one_line_error(
        seqgan("experiment", "kl", "--report-only", "--out", tmp_path, cwd=tmp_path), "no seedS folder"
    )
    assert_one_line_error(
        seqgan("experiment", "kl", "--report-only", "--num", "1", "--out", tmp_path, cwd=tmp_path), "--num"
    )
