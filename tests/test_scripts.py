"""The scripts/ tools that turn finished runs into tables."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_run(path: Path, seed: int, nll_oracle: float, nll_test: float) -> Path:
    path.mkdir(parents=True)
    (path / "results.json").write_text(
        json.dumps({"seed": seed, "rows": {"SeqGAN": {"nll_oracle": nll_oracle, "nll_test": nll_test}}})
    )
    return path


def test_ablation_table_has_each_arms_mean_std_and_welchs_p(tmp_path, capsys):
    from scipy import stats

    ablation = load_script("ablation")
    a = [fake_run(tmp_path / f"a{s}", s, o, t) for s, o, t in [(0, 7.0, 7.5), (1, 7.2, 7.6), (2, 7.4, 7.7)]]
    b = [fake_run(tmp_path / f"b{s}", s, o, t) for s, o, t in [(0, 8.0, 7.5), (1, 8.1, 7.9), (2, 8.5, 7.6)]]
    out = tmp_path / "table.md"
    ablation.main(["--title", "T", "--arm", "A", *map(str, a), "--arm", "B", *map(str, b), "--out", str(out)])
    text = out.read_text()
    assert "| A | 0, 1, 2 | 7.200 ± 0.200 | 7.000, 7.200, 7.400 | 7.600 ± 0.100 |" in text
    p = stats.ttest_ind([7.0, 7.2, 7.4], [8.0, 8.1, 8.5], equal_var=False).pvalue
    assert f"NLL-oracle {p:.3g}," in text
    assert "--arm A" in text and capsys.readouterr().out == text + "\n"


def test_ablation_names_an_unfinished_run(tmp_path):
    ablation = load_script("ablation")
    done = fake_run(tmp_path / "done", 0, 7.0, 7.0)
    (tmp_path / "running").mkdir()
    with pytest.raises(SystemExit, match="running/results.json: no such file"):
        ablation.main(
            [
                "--title",
                "T",
                "--arm",
                "A",
                str(done),
                "--arm",
                "B",
                str(tmp_path / "running"),
                "--out",
                str(tmp_path / "t.md"),
            ]
        )


def test_d_output_l2_takes_the_papers_l2_term_out_of_ds_logged_training_loss(tmp_path):
    import torch

    from seqgan.runtime.checkpoint import FORMAT

    d_output_l2 = load_script("d_output_l2")
    run = tmp_path / "run"
    run.mkdir()
    state = {
        "format": FORMAT,
        "config": {"discriminator": {"l2_reg": 0.2}},
        "discriminator": {"out.weight": torch.tensor([[1.0, 2.0], [3.0, 0.0]]), "out.bias": torch.tensor([1.0, 0.0])},
    }
    torch.save(state, run / "checkpoint.pt")
    records = [
        {"phase": "adversarial", "round": 1, "d_train_loss": 2.0},
        {"phase": "adversarial", "round": 2, "d_train_loss": 1.75},
        {"phase": "mle", "round": 2},
    ]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    # 0.2 * 0.5 * (1 + 4 + 9 + 0 + 1 + 0) = 1.5, from the last logged loss 1.75
    assert d_output_l2.output_l2_term(run) == (pytest.approx(1.5), 1.75)
    assert f"| {run} | 1.7500 | 1.5000 | 0.2500 |" in d_output_l2.main([str(run)])
    with pytest.raises(SystemExit, match="no such checkpoint"):
        d_output_l2.main([str(tmp_path / "missing")])


def test_penalty_weight_probe_finds_a_constant_d_at_a_large_weight_and_continues_a_sweep(tmp_path):
    import math
    import subprocess
    import sys as _sys

    penalty_weight = load_script("penalty_weight")
    run = tmp_path / "run"
    # enough D pre-training at toy size (a larger learning rate) that an unpenalised D separates the sets
    subprocess.run(
        [
            _sys.executable,
            "-m",
            "seqgan",
            "train",
            str(ROOT / "configs" / "synthetic_smoke.yaml"),
            "--run-dir",
            str(run),
            "--set",
            "train.rounds=0",
            "--set",
            "baselines.rows=[]",
            "--set",
            "train.pretrain_d_steps=10",
            "--set",
            "train.pretrain_d_epochs=3",
            "--set",
            "discriminator.lr=0.001",
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    out = tmp_path / "sweep"
    penalty_weight.main([str(run), "--penalties", "none,r1", "--weights", "1000", "--threads", "1", "--out", str(out)])
    records = {(r["penalty"], r["weight"]): r for r in json.loads((out / "weights.json").read_text())["records"]}
    none, r1 = records[("none", 0.0)], records[("r1", 1000.0)]
    # R1 at weight 1000 flattens D in one-hot space: a constant D, loss ln 2 on both sets
    assert r1["grad_norm"] < 0.1 * none["grad_norm"]
    assert abs(r1["held_out_loss"] - math.log(2)) < 0.01 and abs(r1["train_loss"] - math.log(2)) < 0.01
    assert none["train_loss"] < math.log(2) - 0.05 and none["gap"] > r1["gap"] + 0.05
    # a second call adds only the new cell and keeps the finished ones as they were
    text = penalty_weight.main(
        [str(run), "--penalties", "none,r1", "--weights", "1000,1", "--threads", "1", "--out", str(out)]
    )
    again = json.loads((out / "weights.json").read_text())["records"]
    assert len(again) == 3 and {(r["penalty"], r["weight"]): r for r in again}[("r1", 1000.0)] == r1
    assert (
        len(json.loads((out / "weights.json").read_text())["commands"]) == 2
        and text.count("    python scripts/penalty_weight.py") == 2
    )
    assert "| r1 | 1000 | 1 |" in text and "| r1 | 1 | 1 |" in text and (out / "weights.png").stat().st_size > 1000
    with pytest.raises(SystemExit, match="holds a sweep from"):
        penalty_weight.main([str(tmp_path / "other"), "--out", str(out)])
    with pytest.raises(SystemExit, match="unknown r2"):
        penalty_weight.main([str(run), "--penalties", "r2", "--out", str(out)])
    with pytest.raises(SystemExit, match="--d-lr: D's learning rate must be > 0, got 0"):
        penalty_weight.main([str(run), "--d-lr", "0", "--out", str(out)])
    with pytest.raises(SystemExit, match="holds a sweep at --d-lr None, not 0.01"):
        penalty_weight.main([str(run), "--penalties", "none", "--d-lr", "0.01", "--out", str(out)])
    # --d-lr sets D's Adam rate: the same cell at another rate is another D
    fast = tmp_path / "fast"
    text = penalty_weight.main(
        [str(run), "--penalties", "none", "--d-lr", "0.01", "--threads", "1", "--out", str(fast)]
    )
    (default_none,) = [r for r in json.loads((out / "weights.json").read_text())["records"] if r["penalty"] == "none"]
    (fast_none,) = json.loads((fast / "weights.json").read_text())["records"]
    assert fast_none["train_loss"] != default_none["train_loss"] and "0.01 (--d-lr)" in text


def test_paper_run_summary_counts_rounds_from_the_logs_heartbeats_past_the_last_evaluation(tmp_path):
    paper_run = load_script("paper_run")
    run = tmp_path / "seed0"
    run.mkdir()
    records = [
        {"phase": "pretrain", "step": 120, "nll_oracle": 9.0, "seconds": 1000.0},
        {"phase": "adversarial", "step": 120, "round": 0, "nll_oracle": 9.0, "seconds": 2000.0},
        {"phase": "adversarial", "step": 130, "round": 10, "nll_oracle": 8.9, "seconds": 7000.0},
    ]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    beats = "".join(
        f"[adversarial round {k}/200] mean_reward=0.1 d_loss=0.1 ({2000 + 500 * k}s)\n" for k in range(1, 15)
    )
    (tmp_path / "seed0.log").write_text("[D pre-training 50/50] d_loss=0.1 (1900s)\n" + beats)
    text = paper_run.main(run)
    # round 14 ended at 9000 s: 500 s a round from round 0, and 186 rounds to go
    assert "| adversarial rounds | 14/200 | 500 a round |" in text
    assert f"Projected total: {(9000 + 500 * 186) / 3600:.1f} h of training." in text
    assert "Training time so far: 2.50 h" in text
