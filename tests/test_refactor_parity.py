"""The refactor of issue 25 changed no computation: a smoke run gives the same metrics, bit for bit,
as the code before it (commit ed3c561), and a checkpoint written by that code resumes after it.

The old code is taken from git history (``git archive``) and run beside today's on this machine,
so the comparison holds whatever the CPU; a clone without that commit skips, saying so."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "ed3c561"  # main before the refactor


@pytest.fixture(scope="module")
def old_code(tmp_path_factory) -> Path:
    try:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", BEFORE, "seqgan", "configs/synthetic_smoke.yaml"],
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"commit {BEFORE} (before the refactor) is not in this clone's history: fetch it to compare")
    folder = tmp_path_factory.mktemp("before")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def train(run_dir: Path, code: Path | None, *args: str, config: Path) -> None:
    """``seqgan train`` of the old code (``code``) or today's (None), on the old smoke config: today's reads
    its old section name 'baselines' as 'rows'."""
    env = {**os.environ, "TQDM_DISABLE": "1"}
    if code is not None:  # the old package first on the path
        env["PYTHONPATH"] = str(code)
    cmd = [sys.executable, "-m", "seqgan", "train", str(config), "--run-dir", str(run_dir), *args]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=code or ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def metrics(run_dir: Path) -> list[dict]:
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    for r in records:
        r.pop("seconds")
    return records


@pytest.mark.parametrize(
    "settings",
    [
        [],  # the paper's Monte Carlo rewards, with every Table 1 row
        ["--set", "train.rewards=td", "--set", "train.baseline=value", "--set", "baselines.rows=[]"],
        [
            "--set",
            "train.rewards=mcts",
            "--set",
            "train.baseline=mean",
            "--set",
            "train.normalize_advantages=true",
            "--set",
            "baselines.rows=[mle]",
        ],
    ],
    ids=["paper", "td+value", "mcts+mean"],
)
def test_a_smoke_run_equals_the_code_before_the_refactor_bit_for_bit(old_code, tmp_path, settings):
    config = old_code / "configs" / "synthetic_smoke.yaml"
    train(tmp_path / "before", old_code, *settings, config=config)
    train(tmp_path / "after", None, *settings, config=config)
    before, after = metrics(tmp_path / "before"), metrics(tmp_path / "after")
    assert len(after) == len(before) >= 8
    for old, new in zip(before, after):
        assert new == old
    rows = lambda d: json.loads((d / "results.json").read_text())["rows"]  # noqa: E731
    assert rows(tmp_path / "after") == rows(tmp_path / "before")
    assert (tmp_path / "after" / "samples.txt").read_text() == (tmp_path / "before" / "samples.txt").read_text()


def test_a_checkpoint_written_before_the_refactor_resumes_after_it(old_code, tmp_path):
    """The old code stops after MLE pre-training; today's resumes that checkpoint and ends where the
    old code's uninterrupted run ends."""
    config = old_code / "configs" / "synthetic_smoke.yaml"
    train(tmp_path / "whole", old_code, config=config)
    train(tmp_path / "split", old_code, "--stop-after-pretraining", config=config)
    train(tmp_path / "split", None, "--resume", config=config)
    assert metrics(tmp_path / "split") == metrics(tmp_path / "whole")
