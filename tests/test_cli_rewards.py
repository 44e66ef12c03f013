"""The reward estimators and baselines through ``seqgan train`` on the smoke config: each option trains
end to end, resumes after a real SIGKILL to exactly the uninterrupted run's end, and bad settings
fail before training with one line naming the key."""

from __future__ import annotations

import json
import math
import signal

import pytest
import torch

from seqgan.config import Config, ConfigError, load_config
from seqgan.runtime.checkpoint import load_checkpoint
from test_cli import (
    SMOKE,
    TRAIN_SET,
    _train,
    _train_and_kill_when,
    assert_one_line_error,
    read_metrics,
    seqgan,
    without_seconds,
)

# no Table 1 rows: these runs are about SeqGAN's own g-step
OPTIONS = {
    "td_value_normalized": [
        "train.rewards=td",
        "train.baseline=value",
        "train.normalize_advantages=true",
        "train.critic_warmup=3",
        "train.td_completions=1",
    ],
    "mcts_mean": ["train.rewards=mcts", "train.baseline=mean"],
}


def _set(options: list[str]) -> list[str]:
    return [a for o in ["baselines.rows=[]", *options] for a in ("--set", o)]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("cli_rewards")


@pytest.mark.parametrize("name", OPTIONS)
def test_each_option_trains_and_resumes_exactly_after_a_kill(workdir, name):
    extra = _set(OPTIONS[name])
    ref_dir, proc = _train(workdir, f"{name}-ref", *extra)
    assert "| SeqGAN |" in proc.stdout
    ref_final = load_checkpoint(ref_dir)
    adversarial = [r for r in read_metrics(ref_dir) if r["phase"] == "adversarial"]
    assert all(0.0 <= r["mean_reward"] <= 1.0 for r in adversarial[1:])
    if "value" in name:
        assert ref_final["value_baseline"] is not None
        # V is fit on every round's g-step batches: a fresh, finite squared error each round, never a stale one
        losses = [r["value_loss"] for r in adversarial[1:]]
        assert all(math.isfinite(v) and v > 0 for v in losses) and len(set(losses)) == len(losses), losses
    if "td" in name:
        assert ref_final["critic"]["warmed_up"] and ref_final["critic"]["steps"] > 3
        # the critic learns from every round's batches: a fresh, finite squared TD error each round
        losses = [r["critic_loss"] for r in adversarial[1:]]
        assert all(math.isfinite(v) and v > 0 for v in losses) and len(set(losses)) == len(losses), losses
    else:
        assert ref_final["critic"] is None and "critic_loss" not in adversarial[-1]

    def after_round_2_with_uncovered_metrics(progress, run_dir):
        if progress["round"] < 2:
            return False
        return len((run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()) > progress["metrics_lines"]

    run_dir, _, alive, returncode = _train_and_kill_when(
        workdir, f"{name}-killed", after_round_2_with_uncovered_metrics, *extra
    )
    assert alive and returncode == -signal.SIGKILL
    assert not load_checkpoint(run_dir)["progress"]["finished"]
    resumed = seqgan("train", SMOKE, "--run-dir", run_dir, "--resume", *TRAIN_SET, *extra, cwd=workdir)
    assert resumed.returncode == 0, resumed.stderr
    assert without_seconds(read_metrics(run_dir)) == without_seconds(read_metrics(ref_dir))
    assert (
        json.loads((run_dir / "results.json").read_text())["rows"]
        == json.loads((ref_dir / "results.json").read_text())["rows"]
    )
    final = load_checkpoint(run_dir)
    for name_ in ("generator", "discriminator"):
        for key, value in ref_final[name_].items():
            assert torch.equal(final[name_][key], value), f"{name_}.{key} differs after resuming"
    for part in ("critic", "value_baseline"):
        if ref_final[part] is not None:
            for key, value in ref_final[part]["value"].items():
                assert torch.equal(final[part]["value"][key], value), f"{part}.{key} differs after resuming"


def test_defaults_are_the_paper_estimate_without_baseline():
    tc = Config().train
    assert (tc.rewards, tc.baseline, tc.normalize_advantages) == ("mc", "none", False)


@pytest.mark.parametrize(
    "override, needles",
    [
        ("train.rewards=a2c", ("train.rewards", "a2c", "mc, td, mcts")),
        ("train.baseline=critic", ("train.baseline", "critic")),
        ("train.td_lambda=1.5", ("train.td_lambda", "[0, 1]")),
        ("train.td_lambda=-0.1", ("train.td_lambda", "[0, 1]")),
        ("train.rollout_num=0", ("train.rollout_num", "at least one completion")),
        ("train.td_completions=-1", ("train.td_completions",)),
        ("train.critic_target_rate=0", ("train.critic_target_rate",)),
    ],
)
def test_bad_settings_are_one_line_config_errors_naming_the_key(override, needles):
    with pytest.raises(ConfigError) as e:
        load_config(SMOKE, [override])
    message = str(e.value)
    assert "\n" not in message and message.startswith("--set:"), message
    for needle in needles:
        assert needle in message, (needle, message)


def test_a_bad_setting_stops_the_cli_before_training(workdir):
    run_dir = workdir / "bad-lambda"
    proc = seqgan(
        "train", SMOKE, "--run-dir", run_dir, "--set", "train.rewards=td", "--set", "train.td_lambda=1.5", cwd=workdir
    )
    assert_one_line_error(proc, "train.td_lambda", "[0, 1]")
    assert not run_dir.exists()


def test_a_checkpoint_without_critic_or_value_net_still_loads(tmp_path):
    """Checkpoints written before these options hold neither key; the paper's setting needs neither."""
    from seqgan.lifecycle import checkpoint_state, restore
    from seqgan.run import Run

    cfg = load_config(SMOKE, ["baselines.rows=[]"])
    run = Run(cfg, tmp_path)
    run.started = 0.0
    run._start_adversarial()
    state = checkpoint_state(run)
    del state["critic"], state["value_baseline"]
    again = Run(cfg, tmp_path)
    restore(again, state)
    assert again.critic is None and again.value_baseline is None
    for key, value in run.rollout_policy.state_dict().items():
        assert torch.equal(again.rollout_policy.state_dict()[key], value)
