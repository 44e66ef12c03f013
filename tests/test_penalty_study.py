"""``seqgan experiment penalty`` end to end at toy size: a run per penalty and seed, and a table and
figure whose figures are those of the runs' own metrics."""

from __future__ import annotations

import json
import math

import pytest

from seqgan.metrics import read_metrics
from test_cli import SMOKE, assert_one_line_error, seqgan


def test_penalty_experiment_end_to_end(tmp_path):
    out = tmp_path / "penalty"
    proc = seqgan(
        "experiment",
        "penalty",
        "--config",
        SMOKE,
        "--penalties",
        "none,r1",
        "--seeds",
        "1",
        "--jobs",
        "2",
        "--out",
        out,
        "--set",
        "train.rounds=2",
        "--set",
        "eval.every=1",
        "--set",
        "baselines.rows=[]",
        cwd=tmp_path,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "penalty.json").read_text())
    for kind in ("none", "r1"):
        config = (out / f"{kind}-seed0" / "config.yaml").read_text()
        assert f"gradient_penalty: {kind}" in config
        last = [r for r in read_metrics(out / f"{kind}-seed0" / "metrics.jsonl") if r["phase"] == "adversarial"][-1]
        row = summary["table"][kind]
        assert row["nll_oracle"]["values"] == [last["nll_oracle"]] and row["d_loss"]["values"] == [last["d_loss"]]
        assert row["gap"]["values"] == [pytest.approx(last["d_loss"] - last["d_train_loss"])]
        assert row["d_acc"]["values"] == [last["d_acc"]]
        seconds = json.loads((out / f"{kind}-seed0" / "results.json").read_text())["seconds"]
        assert row["minutes"]["values"] == [pytest.approx(seconds / 60)]
    # the penalty changed D's training, so the runs part after pre-training G
    assert summary["table"]["none"]["d_train_loss"]["values"] != summary["table"]["r1"]["d_train_loss"]["values"]
    text = (out / "penalty.md").read_text()
    assert "| r1 |" in text and (out / "penalty.png").stat().st_size > 1000
    assert "2 of 2 runs trained by this invocation" in text
    assert summary["table"]["none"]["nll_oracle"]["p_vs_none"] is None  # one seed: Welch's p is undefined
    assert math.isnan(summary["table"]["r1"]["nll_oracle"]["p_vs_none"])


def test_penalty_experiment_names_a_bad_penalty(tmp_path):
    proc = seqgan(
        "experiment", "penalty", "--config", SMOKE, "--penalties", "none,r2", "--out", tmp_path / "p", cwd=tmp_path
    )
    assert_one_line_error(proc, "discriminator.gradient_penalty", "r2")
