"""What a run writes about itself: no machine's path in a config others will run, and the machine,
precision and code version in results.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch
import yaml

from seqgan.config import load_config
from seqgan.runtime.hardware import code_version, machine, use_bf16
from seqgan.tuning.tune import best_config_yaml

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "configs" / "synthetic_smoke.yaml"


def test_a_best_config_carries_no_data_dir_but_every_other_changed_key():
    cfg = load_config(SMOKE, ["data_dir=/somewhere/on/my/machine", "train.rounds=3"])
    written = yaml.safe_load(best_config_yaml(cfg, "# header\n"))
    assert "data_dir" not in written
    assert written["train"]["rounds"] == 3 and written["oracle"]["vocab_size"] == 50


def test_committed_configs_hold_no_machine_path():
    for path in [*ROOT.glob("configs/**/*.yaml"), *ROOT.glob("results/**/best.yaml")]:
        text = path.read_text(encoding="utf-8")
        assert "/work/" not in text and "/home/" not in text and "/root/" not in text, path


def test_a_run_writes_no_data_dir_and_records_machine_precision_and_code(tmp_path):
    run_dir = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "seqgan",
        "train",
        str(SMOKE),
        "--run-dir",
        str(run_dir),
        "--data-dir",
        str(tmp_path),
        "--set",
        "train.rounds=1",
        "--set",
        "baselines.rows=[]",
        "--set",
        "train.pretrain_g_epochs=1",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "TQDM_DISABLE": "1"})
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["data_dir"] == ""
    results = json.loads((run_dir / "results.json").read_text())
    assert results["machine"] == machine()
    bf16 = use_bf16(load_config(SMOKE).discriminator.precision, torch.device("cpu"))
    assert results["d_precision"] == ("bf16" if bf16 else "fp32")
    assert results["code"] == code_version()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True)
    if commit.returncode == 0:  # a checkout: the commit is named
        assert commit.stdout.strip() in results["code"]


def _train(run_dir: Path, data_dir: Path, *args: str) -> None:
    cmd = [sys.executable, "-m", "seqgan", "train", str(SMOKE), "--run-dir", str(run_dir), "--data-dir", str(data_dir)]
    cmd += ["--set", "train.rounds=1", "--set", "rows.names=[]", "--set", "train.pretrain_g_epochs=1", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "TQDM_DISABLE": "1"})
    assert done.returncode == 0, done.stderr


def test_cpu_seconds_are_counted_across_a_resume_and_unknown_after_an_old_checkpoint(tmp_path):
    """results.json's cpu_seconds (a study's compute) adds the CPU time the checkpoint carries to this
    process's; a checkpoint written before CPU time was counted gives null, not a part passed as all."""
    from seqgan.runtime.checkpoint import load_checkpoint, save_checkpoint

    for name, carried in (("counted", 1.0e6), ("old", None)):
        run_dir = tmp_path / name
        _train(run_dir, tmp_path, "--stop-after-pretraining")
        ckpt = load_checkpoint(run_dir / "checkpoint.pt")
        assert 0 < ckpt["cpu_seconds"] < 1.0e6
        if carried is None:
            del ckpt["cpu_seconds"]
        else:
            ckpt["cpu_seconds"] = carried
        save_checkpoint(ckpt, run_dir / "checkpoint.pt")
        _train(run_dir, tmp_path, "--resume")
        results = json.loads((run_dir / "results.json").read_text())
        if carried is None:
            assert results["cpu_seconds"] is None
        else:
            assert carried < results["cpu_seconds"] < carried + 10 * results["seconds"] + 60
