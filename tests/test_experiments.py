"""The experiment commands: statistics, budget scaling, and table1/temperature end to end at toy size."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pytest

from seqgan import cli, jobs
from seqgan.config import load_config
from seqgan.jobs import budget_overrides, run_all
from seqgan.metrics import pitch_mse
from seqgan.stats import mean_std, welch_p
from seqgan.studies.experiments import TABLE1_ROWS, curve_at_nll_test
from test_cli import SMOKE, assert_one_line_error, seqgan


def test_welch_p_matches_a_hand_computed_value():
    # a = [1, 2, 3, 4], b = [3, 5, 7, 9]: means 2.5 and 6, variances 5/3 and 20/3, n = 4 each
    # t = -3.5 / sqrt(5/12 + 20/12) = -2.4249; Welch-Satterthwaite df = 4.4118; two-sided p = 0.0665
    p = welch_p([1, 2, 3, 4], [3, 5, 7, 9])
    assert p == pytest.approx(0.0665, abs=5e-4)
    assert welch_p([1, 2, 3], [1, 2, 3]) == pytest.approx(1.0)
    assert math.isnan(welch_p([1.0], [2.0, 3.0]))


def test_mean_std_is_the_sample_standard_deviation():
    mean, std = mean_std([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5 and std == pytest.approx(math.sqrt(5 / 3))
    assert math.isnan(mean_std([7.0])[1])


def test_budget_scales_every_phase_alike():
    cfg = load_config(SMOKE)  # 4 MLE epochs, 2 D sets, 10 rounds
    assert budget_overrides(cfg, 0.5) == ["train.pretrain_g_epochs=2", "train.pretrain_d_steps=1", "train.rounds=5"]
    assert budget_overrides(cfg, 0.01) == ["train.pretrain_g_epochs=1", "train.pretrain_d_steps=1", "train.rounds=1"]
    with pytest.raises(ValueError, match="budget"):
        budget_overrides(cfg, 0)


def test_pitch_mse_finds_the_nearest_melody_and_skips_rests():
    refs = [["60", "62", "64"], ["70", "70", "70"]]
    assert pitch_mse([["60", "62", "64"]], refs) == 0.0
    assert pitch_mse([["61", "62", "0"]], refs) == pytest.approx(0.5)  # (1 + 0) / 2 sounding steps
    assert pitch_mse([["69", "71", "70"], ["60", "60", "60"]], refs) == pytest.approx((2 / 3 + 20 / 3) / 2)


def test_table1_and_temperature_end_to_end(tmp_path):
    out = tmp_path / "t1"
    proc = seqgan(
        "experiment",
        "table1",
        "--config",
        SMOKE,
        "--seeds",
        "2",
        "--jobs",
        "2",
        "--out",
        out,
        "--device",
        "cpu",
        "--set",
        "train.rounds=2",
        "--set",
        "eval.every=1",
        cwd=tmp_path,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads((out / "table1.json").read_text())
    for s in (0, 1):  # --device reaches every run: its command and its config.yaml
        assert "--set device=cpu" in summary["run_commands"][s]
        assert "\ndevice: cpu\n" in (out / f"seed{s}" / "config.yaml").read_text()
    assert [r["row"] for r in summary["rows"]] == ["Random", "MLE", "SS", "PG-BLEU", "SeqGAN"]
    for r in summary["rows"]:
        per_seed = [
            json.loads((out / f"seed{s}" / "results.json").read_text())["rows"][r["row"]]["nll_oracle"] for s in (0, 1)
        ]
        assert r["nll_oracle_per_seed"] == per_seed
        assert r["nll_oracle_mean"] == pytest.approx(sum(per_seed) / 2)
    assert summary["rows"][0]["nll_oracle_mean"] > summary["rows"][1]["nll_oracle_mean"]  # Random is worst
    assert "| SeqGAN |" in (out / "table1.md").read_text() and (out / "table1.csv").read_text().count("\n") == 6
    # a second invocation reuses the finished runs
    again = seqgan(
        "experiment",
        "table1",
        "--config",
        SMOKE,
        "--seeds",
        "2",
        "--out",
        out,
        "--set",
        "train.rounds=2",
        "--set",
        "eval.every=1",
        cwd=tmp_path,
    )
    assert again.returncode == 0 and "started:" not in again.stdout

    proc = seqgan(
        "experiment",
        "temperature",
        "--runs",
        out / "seed0",
        out / "seed1",
        "--temperatures",
        "0.7,1.0,1.3",
        "--num",
        "200",
        "--out",
        tmp_path / "temp",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "temp" / "temperature.json").read_text())
    points = summary["points"]
    for row in ("pretrained", "MLE", "SeqGAN"):
        curve = sorted((p["temperature"], p["nll_oracle"], p["nll_test"]) for p in points if p["row"] == row)
        assert [c[0] for c in curve] == [0.7, 1.0, 1.3]
        assert curve[0][1] < curve[-1][1]  # colder samples are likelier under the oracle
    # the pre-trained curve is the generator at the end of pre-training: its T = 1 point is the
    # run's pre-training evaluation (same seeded sampler aside, so compare NLL-test, which is exact)
    pretrain = [json.loads(line) for line in (out / "seed0" / "metrics.jsonl").read_text().splitlines()]
    pretrain_test = [r["nll_test"] for r in pretrain if r["phase"] == "pretrain"][-1]
    run0 = summary["per_run"][0]
    assert next(p for p in run0["curves"]["pretrained"] if p["temperature"] == 1.0)["nll_test"] == pytest.approx(
        pretrain_test, rel=1e-6
    )
    seqgan_t1 = run0["seqgan_t1"]
    for label, gap in run0["gap"].items():  # SeqGAN minus its control: negative is better
        curve = [(p["nll_test"], p["nll_oracle"]) for p in run0["curves"][label]]
        y = curve_at_nll_test(curve, seqgan_t1["nll_test"])
        assert gap == (None if y is None else pytest.approx(seqgan_t1["nll_oracle"] - y))
    assert "gap: SeqGAN - pre-trained curve" in (tmp_path / "temp" / "temperature.md").read_text()
    assert (tmp_path / "temp" / "temperature.png").stat().st_size > 1000
    assert run0["run_key"] == hashlib.sha256((out / "seed0" / "results.json").read_bytes()).hexdigest()[:16]

    # a re-run reads the sweeps back, keyed on each run's results.json: no checkpoint is loaded, and a
    # run moved to another folder is still found
    before = (tmp_path / "temp" / "temperature.json").read_text()
    for s in (0, 1):
        (out / f"seed{s}" / "checkpoint.pt").rename(tmp_path / f"checkpoint{s}.pt")
    (out / "seed1").rename(tmp_path / "moved")
    proc = seqgan(
        "experiment", "temperature", "--runs", out / "seed0", tmp_path / "moved", "--temperatures", "0.7,1.0,1.3",
        "--num", "200", "--out", tmp_path / "temp", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    again = json.loads((tmp_path / "temp" / "temperature.json").read_text())
    assert [r["curves"] for r in again["per_run"]] == [r["curves"] for r in json.loads(before)["per_run"]]
    assert again["machine"] == json.loads(before)["machine"]  # where the sweeps were made


def test_temperature_sweep_of_a_run_without_baseline_rows(tmp_path):
    # a tuning trial or confirmation run (baselines.rows=[]) has no MLE row: its sweep has the rest
    run = tmp_path / "run"
    proc = seqgan(
        "train",
        SMOKE,
        "--run-dir",
        run,
        "--set",
        "baselines.rows=[]",
        "--set",
        "train.rounds=1",
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    proc = seqgan(
        "experiment",
        "temperature",
        "--runs",
        run,
        "--temperatures",
        "0.8,1.0",
        "--num",
        "100",
        "--out",
        tmp_path / "temp",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "has no 'mle' row" in proc.stdout and "its MLE curve is left out" in proc.stdout
    (run0,) = json.loads((tmp_path / "temp" / "temperature.json").read_text())["per_run"]
    assert sorted(run0["curves"]) == ["SeqGAN", "pretrained"] and list(run0["gap"]) == ["pretrained"]
    assert (
        f"| {run} |" in (md := (tmp_path / "temp" / "temperature.md").read_text()) and md.rstrip().count("| n/a |") == 1
    )


def test_curve_at_nll_test_interpolates_along_nll_test():
    curve = [(7.6, 7.9), (7.2, 8.3), (7.4, 8.0)]  # (nll_test, nll_oracle), in any order
    assert curve_at_nll_test(curve, 7.3) == pytest.approx(8.15)
    assert curve_at_nll_test(curve, 7.5) == pytest.approx(7.95)
    assert curve_at_nll_test(curve, 7.6) == pytest.approx(7.9)
    assert curve_at_nll_test(curve, 7.7) is None and curve_at_nll_test(curve, 7.1) is None


def test_experiment_argument_errors(tmp_path):
    assert_one_line_error(seqgan("experiment", "table1", "--seeds", "a,b", "--config", SMOKE, cwd=tmp_path), "--seeds")
    assert_one_line_error(seqgan("experiment", "temperature", cwd=tmp_path), "--runs")
    assert_one_line_error(
        seqgan("experiment", "table1", "--config", SMOKE, "--budget", "0", "--out", tmp_path / "x", cwd=tmp_path),
        "budget",
    )


def test_a_run_that_lost_its_checkpoint_is_started_again_and_its_remains_kept(tmp_path, capsys):
    """A sweep continued on a new machine finds, from git, a run's metrics without its checkpoint:
    it keeps them aside (RUN_DIR.unfinished) and runs the seed again instead of failing on the
    'already holds a run' refusal."""
    run_dir = tmp_path / "none-seed0"
    run_dir.mkdir()
    (run_dir / "metrics.jsonl").write_text('{"phase": "pretrain", "step": 5, "nll_oracle": 99.0}\n')
    cmd = [
        "seqgan",
        "train",
        str(SMOKE),
        "--run-dir",
        str(run_dir),
        "--seed",
        "0",
        "--set",
        "train.rounds=1",
        "--set",
        "baselines.rows=[]",
        "--set",
        "threads=1",
    ]
    assert run_all([(run_dir, cmd)], jobs=1) == 1
    assert "held an unfinished run without a checkpoint; kept as" in capsys.readouterr().out
    assert (run_dir / "results.json").exists()
    assert "99.0" not in (run_dir / "metrics.jsonl").read_text()
    assert "99.0" in (tmp_path / "none-seed0.unfinished" / "metrics.jsonl").read_text()


def test_a_finished_run_is_reused_only_if_the_command_would_have_made_it(tmp_path):
    """results.json alone does not make a run this experiment's: the settings the command writes
    must match the run's config.yaml (execution settings such as threads may differ)."""
    import yaml

    run_dir = tmp_path / "none-seed0"
    run_dir.mkdir()
    made = load_config(SMOKE, ["discriminator.gradient_penalty=none", "seed=0", "threads=2"])
    (run_dir / "config.yaml").write_text(yaml.safe_dump(made.to_dict(), sort_keys=False))
    (run_dir / "results.json").write_text("{}\n")

    def cmd(*overrides):
        return [
            "seqgan",
            "train",
            str(SMOKE),
            "--seed",
            "0",
            "--run-dir",
            str(run_dir),
            *[a for o in overrides for a in ("--set", o)],
        ]

    assert run_all([(run_dir, cmd("discriminator.gradient_penalty=none", "threads=1"))], jobs=1, quiet=True) == 0
    with pytest.raises(ValueError) as err:
        run_all([(run_dir, cmd("discriminator.gradient_penalty=none", "discriminator.precision=fp32"))], jobs=1)
    assert str(err.value) == (
        f"{run_dir} holds a finished run with discriminator.precision: 'auto', but this experiment "
        "sets 'fp32'; move that run aside or write this experiment elsewhere (--out)"
    )
    with pytest.raises(ValueError, match="with seed: 0, but this experiment sets 1"):
        run_all([(run_dir, ["seqgan", "train", str(SMOKE), "--seed", "1", "--run-dir", str(run_dir)])], jobs=1)


class _FinishedRun:
    """A stand-in for a ``seqgan train`` process that has already written its config.yaml (as
    ``seqgan train`` writes it: the config with the command's settings) and its results."""

    def __init__(self, argv, stdout, stderr, env, started):
        import yaml

        run_dir = Path(argv[argv.index("--run-dir") + 1])
        seed = int(argv[argv.index("--seed") + 1])
        run_dir.mkdir(parents=True, exist_ok=True)
        sets = [f"seed={seed}", *(b for a, b in zip(argv, argv[1:]) if a == "--set")]
        (run_dir / "config.yaml").write_text(yaml.safe_dump(load_config(argv[4], sets).to_dict(), sort_keys=False))
        rows = {
            row: {"nll_oracle": 9.0 + i + 0.1 * seed, "nll_test": 8.0 + 0.1 * seed} for i, row in enumerate(TABLE1_ROWS)
        }
        (run_dir / "results.json").write_text(json.dumps({"rows": rows}))
        started.append((argv, env))
        self.returncode = 0

    def poll(self):
        return 0


def test_table1_on_one_gpu_sends_the_device_to_every_run_and_divides_threads_over_the_cores(tmp_path, monkeypatch):
    """`seqgan experiment table1 --device cuda --seeds 0,1,2 --jobs 3` on a 16-core machine: each run's
    command and config carry device=cuda, the three start side by side with 16 // 3 threads each,
    and the table names the device and gives mean ± std and Welch p over the seeds."""
    started = []
    monkeypatch.setattr(
        jobs.subprocess, "Popen", lambda argv, stdout, stderr, env: _FinishedRun(argv, stdout, stderr, env, started)
    )
    monkeypatch.setattr(jobs.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(jobs.os, "cpu_count", lambda: 16)
    monkeypatch.setattr(cli.signal, "signal", lambda *args: None)  # keep pytest's SIGTERM handler
    out = tmp_path / "t1"
    assert (
        cli.main(
            [
                "experiment",
                "table1",
                "--config",
                str(SMOKE),
                "--device",
                "cuda",
                "--seeds",
                "0,1,2",
                "--jobs",
                "3",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert len(started) == 3
    for seed, (argv, env) in enumerate(started):
        assert argv[argv.index("--seed") + 1] == str(seed)
        sets = [b for a, b in zip(argv, argv[1:]) if a == "--set"]
        assert "device=cuda" in sets and sets[-1] == "threads=5" and env["OMP_NUM_THREADS"] == "5"
        assert "\ndevice: cuda\n" in (out / f"seed{seed}" / "config.yaml").read_text()
    summary = json.loads((out / "table1.json").read_text())
    assert summary["device"] == "cuda" and summary["jobs"] == 3 and "--device cuda" in summary["command"]
    mle = next(r for r in summary["rows"] if r["row"] == "MLE")
    assert mle["nll_oracle_mean"] == pytest.approx(10.1) and mle["nll_oracle_std"] == pytest.approx(0.1)
    assert mle["p_seeds"] < 1e-3
    assert "device cuda, 3 run(s) at a time" in (out / "table1.md").read_text()
    # a second invocation reuses the runs, and the table still says how they were trained
    assert (
        cli.main(["experiment", "table1", "--config", str(SMOKE), "--seeds", "0,1,2", "--jobs", "1", "--out", str(out)])
        == 0
    )
    assert len(started) == 3 and "device cuda, 3 run(s) at a time" in (out / "table1.md").read_text()
