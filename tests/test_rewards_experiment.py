"""``seqgan experiment rewards`` and ``rewards-train`` end to end at toy size (smoke config)."""

from __future__ import annotations

import json
import math

import pytest
import torch

from seqgan.studies.rewards import _error_stats, _gap_to_curve, gradient_statistics
from test_cli import SMOKE, assert_one_line_error, seqgan


def test_gap_to_a_temperature_curve_by_hand():
    curve = [(0.9, 4.0, 3.0), (1.0, 5.0, 2.0), (1.1, 6.0, 1.5)]  # (tau, NLL-test, NLL-oracle)
    # at NLL-test 4.5 the curve is at 2.5, at 5.5 at 1.75; 7.0 is beyond it
    # a gap is the setting minus the curve: negative is below it (better quality at equal coverage)
    at_one, best = _gap_to_curve([(0.9, 4.5, 2.0), (1.0, 5.5, 1.9), (1.1, 7.0, 1.0)], curve)
    assert at_one == pytest.approx(1.9 - 1.75) and best == pytest.approx(2.0 - 2.5)
    assert math.isnan(_gap_to_curve([(1.0, 7.0, 1.0)], curve)[0])


def test_error_stats_by_hand():
    """Two repeats of Q on one sequence of length 3; the last position (D of the whole sequence, the
    same for every estimator) is left out."""
    estimates = [torch.tensor([[0.5, 0.2, 9.0]]), torch.tensor([[0.7, 0.4, -9.0]])]
    reference = torch.tensor([[0.4, 0.4, 0.0]])
    errors = [0.1, -0.2, 0.3, 0.0]  # estimate - reference at t = 0, 1 of both repeats
    bias = sum(errors) / 4  # 0.05
    stats = _error_stats(estimates, reference)
    assert stats["bias"] == pytest.approx(bias)
    assert stats["rmse"] == pytest.approx(math.sqrt(sum(e * e for e in errors) / 4))
    # RMSE^2 = bias^2 + the errors' (population) variance
    assert stats["rmse"] ** 2 == pytest.approx(bias**2 + sum((e - bias) ** 2 for e in errors) / 4)
    # spread: the std over the two repeats at each position (sample std of a pair: |a - b| / sqrt 2), averaged
    assert stats["spread"] == pytest.approx((0.2 / math.sqrt(2) + 0.2 / math.sqrt(2)) / 2)
    assert stats["mean_q"] == pytest.approx((0.5 + 0.2 + 0.7 + 0.4) / 4)


def test_gradient_statistics_against_known_means_and_noise():
    """Estimates mu + noise with known covariance: the noise-corrected ratio finds trace / ||mu||^2 where
    the plain ||mean||^2 would not, a pure-noise setting is inf, and an exact estimate has cosine 1."""
    torch.manual_seed(0)
    k, p = 400, 50
    mu = torch.zeros(p)
    mu[0] = 1.0
    sigma = 0.5  # per coordinate: trace = p * sigma^2 = 12.5, ratio 12.5
    grads = {
        "exact": [mu.clone() for _ in range(k)],
        "noisy": [mu + sigma * torch.randn(p) for _ in range(k)],
        "noise only": [sigma * torch.randn(p) for _ in range(k)],
    }
    stats = gradient_statistics(grads, unbiased=["exact", "noisy"])
    assert stats["exact"]["trace_cov"] == 0 and stats["exact"]["relative_variance"] == 0
    assert abs(stats["noisy"]["trace_cov"] - 12.5) < 1.0
    assert abs(stats["noisy"]["relative_variance"] - 12.5) < 2.0
    # the mean over the other batches of 'exact' and 'noisy' is mu up to noise / sqrt(2K): an exact estimate is aligned
    assert stats["exact"]["cosine_mean"] > 0.99
    # cosine of a noisy estimate with mu: ||mu|| / sqrt(||mu||^2 + trace) = 1 / sqrt(13.5)
    assert abs(stats["noisy"]["cosine_mean"] - 13.5**-0.5) < 0.03
    # no signal: the plain trace / ||mean||^2 would sit near K = 400; the corrected one is inf or far above it
    assert stats["noise only"]["relative_variance"] > 1000
    assert abs(stats["noise only"]["cosine_mean"]) < 0.02


def test_rewards_on_a_smoke_run(tmp_path):
    run_dir = tmp_path / "run"
    proc = seqgan(
        "train", SMOKE, "--run-dir", run_dir, "--set", "baselines.rows=[]", "--set", "train.rounds=2", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "rewards"
    proc = seqgan(
        "experiment",
        "rewards",
        "--run",
        run_dir,
        "--out",
        out,
        "--reference",
        "32",
        "--repeats",
        "2",
        "--batches",
        "3",
        "--fit-batches",
        "1",
        "--batch",
        "8",
        "--set",
        "train.critic_warmup=2",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    s = json.loads((out / "rewards.json").read_text())
    t_len, n = s["seq_len"], s["rollout_num"]
    evals = {name.split(" ")[0]: e["d_evaluations"] for name, e in s["estimators"].items()}
    assert evals == {"mc": 8 * (n * (t_len - 1) + 1), "mcts": 8 * (n * (t_len - 1) + 1), "td": 8}
    for e in s["estimators"].values():
        # the bias is the estimates' mean less the reference's, on the same prefixes
        assert e["bias"] == pytest.approx(e["mean_q"] - s["reference_mean_q"], abs=1e-6)
        # the repeats draw fresh completions (and, for td, a fresh critic): they differ
        assert e["spread"] > 0
    # the catch-up rows score the critic's one Q on the fixed batch (as two identical repeats): no spread
    assert [c["spread"] for c in s["critic_catch_up"]] == [0.0] * len(s["critic_catch_up"])
    assert set(s["baselines"]) == {"none", "mean", "value", "none + normalize", "mean + normalize", "value + normalize"}
    for b in s["baselines"].values():
        # trace / ||E g||^2, with ||E g||^2 = ||mean||^2 - trace / K (K = --batches 3), or inf where that is <= 0
        signal = b["mean_grad_norm"] ** 2 - b["trace_cov"] / 3
        assert b["trace_cov"] > 0
        assert b["relative_variance"] == (pytest.approx(b["trace_cov"] / signal) if signal > 0 else math.inf)
    assert s["variance_ratio_none_over_value"] == pytest.approx(
        s["baselines"]["none"]["trace_cov"] / s["baselines"]["value"]["trace_cov"]
    )
    assert "| mcts" in (out / "rewards.md").read_text() and (out / "rewards.png").stat().st_size > 1000
    assert_one_line_error(seqgan("experiment", "rewards", cwd=tmp_path), "--run")


def test_rewards_train_on_the_smoke_config(tmp_path):
    out = tmp_path / "rt"
    proc = seqgan(
        "experiment",
        "rewards-train",
        "--config",
        SMOKE,
        "--seeds",
        "2",
        "--jobs",
        "2",
        "--budget",
        "0.3",
        "--settings",
        "mc,td + value,mcts",
        "--num",
        "100",
        "--out",
        out,
        "--set",
        "eval.every=1",
        cwd=tmp_path,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    s = json.loads((out / "rewards_train.json").read_text())
    assert [r["setting"] for r in s["rows"]] == ["pretrained", "mc", "td + value", "mcts"]
    for r in s["rows"][1:]:
        slug = r["setting"].replace(" + ", "_")
        per_seed = [
            json.loads((out / slug / f"seed{k}" / "results.json").read_text())["rows"]["SeqGAN"]["nll_oracle"]
            for k in (0, 1)
        ]
        assert r["nll_oracle_per_seed"] == per_seed
    pretrained = s["rows"][0]
    assert all(g == pytest.approx(0.0, abs=1e-9) for g in pretrained["gap_at_t1"])  # a curve is on itself
    # every setting starts from the same pre-training of its seed: the pre-trained G of the paper setting's run
    for k in (0, 1):

        def pretraining(slug, k=k):
            lines = (out / slug / f"seed{k}" / "metrics.jsonl").read_text().splitlines()
            return [r["nll_oracle"] for r in map(json.loads, lines) if r["phase"] == "pretrain"]

        assert pretraining("td_value") == pretraining("mc") == pretraining("mcts")
        assert s["rows"][0]["nll_oracle_per_seed"][k] == pretraining("mc")[-1]
    text = (out / "rewards_train.md").read_text()
    assert "| td + value |" in text and (out / "rewards_train.png").stat().st_size > 1000
    assert_one_line_error(
        seqgan("experiment", "rewards-train", "--config", SMOKE, "--settings", "mc,ppo", "--out", out, cwd=tmp_path),
        "ppo",
    )
