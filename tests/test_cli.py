"""The ``seqgan`` command end to end, in subprocesses: train (artifacts, determinism, refusing an
existing run, resuming after SIGKILL), sample, evaluate, score, and one-line errors (exit 2)."""

from __future__ import annotations

import json
import math
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import np_oracle
from seqgan.config import config_from_dict, load_config
from seqgan.runtime.checkpoint import load_checkpoint, save_checkpoint

REPO = Path(__file__).resolve().parent.parent
SMOKE = REPO / "configs" / "synthetic_smoke.yaml"
ROUNDS = 30  # enough adversarial rounds that a run lasts a few seconds, for the kill test
# checkpoints every 3 rounds, evaluations every 2: metrics lines get written after the last
# checkpoint, which a resume must drop
OVERRIDES = [f"train.rounds={ROUNDS}", "eval.checkpoint_every=3"]
TRAIN_SET = [a for o in OVERRIDES for a in ("--set", o)]
METRIC_KEYS = {"phase", "step", "nll_oracle", "nll_test", "d_loss", "d_acc", "seconds"}


def env(**changes) -> dict:
    e = dict(os.environ)
    e["OMP_NUM_THREADS"] = "1"
    for k, v in changes.items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    return e


def seqgan(*args, cwd: Path, environ: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "seqgan.cli", *map(str, args)],
        cwd=cwd,
        env=environ or env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    assert proc.returncode == 2, f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{proc.stderr}"
    line = lines[0]
    assert line.startswith("seqgan: error:"), line
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    assert "Traceback" not in proc.stderr
    return line


def read_metrics(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]


def without_seconds(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


def snapshot(run_dir: Path) -> dict:
    return {
        str(p.relative_to(run_dir)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(run_dir.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli")


def _train(workdir: Path, name: str, *extra) -> tuple[Path, subprocess.CompletedProcess]:
    run_dir = workdir / name
    proc = seqgan("train", SMOKE, "--run-dir", run_dir, *TRAIN_SET, *extra, cwd=workdir)
    assert proc.returncode == 0, f"training failed:\n{proc.stdout}\n{proc.stderr}"
    return run_dir, proc


@pytest.fixture(scope="module")
def run_a(workdir):
    return _train(workdir, "a")


@pytest.fixture(scope="module")
def run_b(workdir):
    """The same run again, into the default run directory of a working directory that already
    holds a run there: the new run must go beside it."""
    cwd = workdir / "cwd_b"
    earlier = cwd / "runs" / "synthetic_smoke-seed0"
    earlier.mkdir(parents=True)
    (earlier / "marker.txt").write_text("an earlier run\n")
    proc = seqgan("train", SMOKE, *TRAIN_SET, cwd=cwd)
    assert proc.returncode == 0, f"training failed:\n{proc.stdout}\n{proc.stderr}"
    return cwd / "runs" / "synthetic_smoke-seed0-2", proc


# -- train ----------------------------------------------------------------------------------------


def test_train_without_a_terminal_logs_a_line_per_d_set_and_round(run_a):
    """No bar is drawn into a log file, so long phases must still show they are moving."""
    _, proc = run_a
    out = proc.stdout + proc.stderr
    for line in ("[D pre-training 1/", "[adversarial round 1/"):
        assert line in out, f"no {line!r} heartbeat in:\n{out[-2000:]}"
    rounds = [out_line for out_line in out.splitlines() if out_line.startswith("[adversarial round ")]
    assert rounds[-1].startswith(f"[adversarial round {len(rounds)}/{len(rounds)}]") and "d_loss=" in rounds[-1]


def test_train_writes_every_artifact(run_a):
    run_dir, _ = run_a
    for name in ("config.yaml", "metrics.jsonl", "checkpoint.pt", "samples.txt", "results.json", "nll_oracle.png"):
        assert (run_dir / name).is_file(), name
        assert (run_dir / name).stat().st_size > 0, name
    events = list((run_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert len(events) == 1 and events[0].stat().st_size > 0
    leftovers = [p.name for p in run_dir.rglob("*") if p.name.endswith(".tmp")]
    assert not leftovers, leftovers


def test_config_yaml_is_the_resolved_config(run_a):
    run_dir, _ = run_a
    saved = load_config(run_dir / "config.yaml")
    assert saved == load_config(SMOKE, OVERRIDES)
    assert saved.train.rounds == ROUNDS
    assert config_from_dict(load_checkpoint(run_dir)["config"]) == saved


def test_metrics_records(run_a):
    run_dir, _ = run_a
    cfg = load_config(run_dir / "config.yaml")
    records = read_metrics(run_dir)
    for r in records:
        assert METRIC_KEYS <= r.keys(), r
        for key in ("nll_oracle", "nll_test", "d_loss"):
            assert math.isfinite(r[key]) and r[key] > 0, r
        assert 0.0 <= r["d_acc"] <= 1.0
    rows = ("mle", "scheduled_sampling", "pg_bleu")
    by_phase = {p: [r for r in records if r["phase"] == p] for p in ("random", "pretrain", "adversarial", *rows)}
    assert {r["phase"] for r in records} == set(by_phase)
    # the Random row is the untrained generator, evaluated once, first, and worst of all
    assert [r["step"] for r in by_phase["random"]] == [0] and records[0]["phase"] == "random"
    assert by_phase["random"][0]["nll_test"] > by_phase["pretrain"][-1]["nll_test"]
    pre = cfg.train.pretrain_g_epochs
    every = cfg.eval.every
    assert [r["step"] for r in by_phase["pretrain"]] == list(range(every, pre + 1, every))
    adv_steps = [pre] + [pre + k for k in range(every, ROUNDS + 1, every)]
    assert [r["step"] for r in by_phase["adversarial"]] == adv_steps
    for row in rows:
        assert [r["step"] for r in by_phase[row]] == adv_steps, row
    assert [r["round"] for r in by_phase["adversarial"]] == [s - pre for s in adv_steps]
    # adversarial records after round 0 carry the mean reward, a probability
    assert all(0 < r["mean_reward"] < 1 for r in by_phase["adversarial"][1:])
    # seconds never go backwards
    seconds = [r["seconds"] for r in records]
    assert seconds == sorted(seconds)
    # MLE pre-training learns: the held-out NLL falls from the first evaluation to the last
    assert by_phase["pretrain"][-1]["nll_test"] < by_phase["pretrain"][0]["nll_test"]
    # every row starts from the same pre-trained generator: identical NLL-test at round 0
    for row in rows:
        assert (
            by_phase["adversarial"][0]["nll_test"]
            == by_phase[row][0]["nll_test"]
            == by_phase["pretrain"][-1]["nll_test"]
        )
    # and then they part ways
    finals = [by_phase[p][-1]["nll_test"] for p in ("adversarial", *rows)]
    assert len(set(finals)) == len(finals), finals


def test_results_and_printed_table(run_a):
    run_dir, proc = run_a
    results = json.loads((run_dir / "results.json").read_text())
    records = read_metrics(run_dir)
    for row, phase in (
        ("Random", "random"),
        ("pretrained", "pretrain"),
        ("MLE", "mle"),
        ("SS", "scheduled_sampling"),
        ("PG-BLEU", "pg_bleu"),
        ("SeqGAN", "adversarial"),
    ):
        last = [r for r in records if r["phase"] == phase][-1]
        assert results["rows"][row] == {
            "nll_oracle": last["nll_oracle"],
            "nll_test": last["nll_test"],
            "step": last["step"],
        }
        line = next(out_line for out_line in proc.stdout.splitlines() if out_line.startswith(f"| {row} |"))
        assert f"{last['nll_oracle']:.3f}" in line and f"{last['nll_test']:.3f}" in line
    assert results["seed"] == 0
    assert "| MLE |" in proc.stdout and "| SeqGAN |" in proc.stdout


def test_samples_files(run_a):
    run_dir, _ = run_a
    cfg = load_config(run_dir / "config.yaml")
    for name in (
        "samples.txt",
        "samples_mle.txt",
        "samples_scheduled_sampling.txt",
        "samples_pg_bleu.txt",
        "samples_random.txt",
    ):
        rows = [list(map(int, line.split())) for line in (run_dir / name).read_text().splitlines()]
        assert len(rows) == cfg.eval.num_samples
        assert all(len(r) == cfg.oracle.seq_len for r in rows)
        assert all(0 <= t < cfg.oracle.vocab_size for r in rows for t in r)
        assert len({tuple(r) for r in rows}) > len(rows) // 2  # samples, not one repeated line


def test_plot_is_a_png(run_a):
    run_dir, _ = run_a
    data = (run_dir / "nll_oracle.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 100 and height > 100
    assert data.rstrip(b"\x00")[-8:-4] == b"IEND"


def tensorboard_scalars(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar series of a run's TensorBoard directory, as TensorBoard would show it."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir / "tensorboard"))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_tensorboard_scalars_follow_the_metrics(run_a):
    run_dir, _ = run_a
    scalars = tensorboard_scalars(run_dir)
    records = read_metrics(run_dir)
    for tag, phase in (("pretrain", "pretrain"), ("seqgan", "adversarial"), ("mle", "mle"), ("pg_bleu", "pg_bleu")):
        events = scalars[f"{tag}/nll_oracle"]
        rows = [r for r in records if r["phase"] == phase]
        assert [step for step, _ in events] == [r["step"] for r in rows]
        np.testing.assert_allclose([v for _, v in events], [r["nll_oracle"] for r in rows], rtol=1e-6)
    assert len(scalars["seqgan/mean_reward_train"]) == ROUNDS


def test_default_run_dir_does_not_touch_an_earlier_run(run_b):
    run_dir, proc = run_b
    assert "run directory: runs/synthetic_smoke-seed0-2" in proc.stdout
    earlier = run_dir.parent / "synthetic_smoke-seed0"
    assert [p.name for p in earlier.iterdir()] == ["marker.txt"]
    assert (run_dir / "results.json").is_file()


def test_same_seed_gives_identical_metrics(run_a, run_b):
    a, b = read_metrics(run_a[0]), read_metrics(run_b[0])
    assert len(a) > 10
    assert without_seconds(a) == without_seconds(b)
    assert (run_a[0] / "samples.txt").read_bytes() == (run_b[0] / "samples.txt").read_bytes()


def test_other_seed_gives_other_metrics(run_a, workdir):
    """Also: at the default roll-out update rate 0 the roll-out policy ends equal to the generator
    (beta <- theta after every round, the paper's G_beta = G_theta), while at 0.8 it trails behind."""
    run_dir = workdir / "seed1"
    proc = seqgan(
        "train",
        SMOKE,
        "--run-dir",
        run_dir,
        "--seed",
        "1",
        "--set",
        "train.rounds=2",
        "--set",
        "train.rollout_update_rate=0.8",
        cwd=workdir,
    )
    assert proc.returncode == 0, proc.stderr
    other = read_metrics(run_dir)
    for phase in ("random", "pretrain"):
        ours = next(r for r in other if r["phase"] == phase)
        theirs = next(r for r in read_metrics(run_a[0]) if r["phase"] == phase)
        assert ours["step"] == theirs["step"] and ours["nll_test"] != theirs["nll_test"], phase
    assert json.loads((run_dir / "results.json").read_text())["seed"] == 1

    def policy_and_generator(path):
        ckpt = load_checkpoint(path)
        return ckpt["rollout_policy"], ckpt["generator"]

    beta, theta = policy_and_generator(run_a[0])
    assert beta.keys() == {f"policy.{k}" for k in theta}
    assert all(torch.equal(beta[f"policy.{k}"], v) for k, v in theta.items())
    beta, theta = policy_and_generator(run_dir)
    trained = [k for k in theta if k != "lstm.bias_hh_l0"]  # the single-bias LSTM's b_hh stays zero
    assert not any(torch.equal(beta[f"policy.{k}"], theta[k]) for k in trained)
    assert torch.equal(theta["lstm.bias_hh_l0"], torch.zeros_like(theta["lstm.bias_hh_l0"]))


def test_existing_run_dir_is_refused_untouched(run_a, workdir):
    run_dir, _ = run_a
    before = snapshot(run_dir)
    proc = seqgan("train", SMOKE, "--run-dir", run_dir, *TRAIN_SET, cwd=workdir)
    assert_one_line_error(proc, str(run_dir), "--resume")
    assert snapshot(run_dir) == before


def _train_and_signal_when(workdir: Path, name: str, poll, sig: int, *extra) -> tuple[Path, object, bool, int]:
    """Start a smoke run in a subprocess and send it ``sig`` as soon as ``poll(run_dir, log_path)``
    returns something other than None; return (run_dir, that value, alive at the signal, rc)."""
    run_dir, log_path = workdir / name, workdir / f"{name}.log"
    cmd = [sys.executable, "-m", "seqgan.cli", "train", str(SMOKE), "--run-dir", str(run_dir), *TRAIN_SET, *extra]
    reached, alive = None, False
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=workdir, env=env(), stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 240
            while proc.poll() is None and time.monotonic() < deadline:
                reached = poll(run_dir, log_path)
                if reached is not None:
                    break
                time.sleep(0.01)
            alive = proc.poll() is None
            if alive:
                os.kill(proc.pid, sig)
            proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert reached is not None, "never reached the signal point:\n" + log_path.read_text()
    return run_dir, reached, alive, proc.returncode


def _train_and_kill_when(workdir: Path, name: str, ready, *extra) -> tuple[Path, dict, bool, int]:
    """SIGKILL a smoke run as soon as ``ready(progress, run_dir)`` holds for its checkpoint's progress;
    return (run_dir, progress at the kill, alive at the kill, rc)."""

    def poll(run_dir: Path, log_path: Path) -> dict | None:
        ckpt = run_dir / "checkpoint.pt"
        if not ckpt.exists():
            return None
        try:
            progress = load_checkpoint(ckpt)["progress"]
        except ValueError:
            return None  # raced a write (or the file vanished between checks): retry
        return progress if ready(progress, run_dir) else None

    return _train_and_signal_when(workdir, name, poll, signal.SIGKILL, *extra)


def test_resume_after_sigkill_matches_uninterrupted_run(run_a, workdir):
    def after_round_2_with_uncovered_metrics(progress, run_dir):
        # an adversarial checkpoint (round >= 2) followed by metrics lines that it does not cover:
        # the resume must drop those lines and redo them
        if progress["round"] < 2:
            return False
        lines = len((run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines())
        return lines > progress["metrics_lines"]

    run_dir, reached, alive, returncode = _train_and_kill_when(workdir, "killed", after_round_2_with_uncovered_metrics)
    ckpt = run_dir / "checkpoint.pt"
    assert alive, f"the run finished before it was killed; raise ROUNDS ({ROUNDS})"
    assert returncode == -signal.SIGKILL
    assert not (run_dir / "results.json").exists()
    state = load_checkpoint(ckpt)
    assert not state["progress"]["finished"] and 2 <= state["progress"]["round"] < ROUNDS

    resumed = seqgan("train", SMOKE, "--run-dir", run_dir, "--resume", *TRAIN_SET, cwd=workdir)
    assert resumed.returncode == 0, resumed.stderr
    assert "| SeqGAN |" in resumed.stdout and "| MLE |" in resumed.stdout

    ref_dir = run_a[0]
    assert without_seconds(read_metrics(run_dir)) == without_seconds(read_metrics(ref_dir))
    ours = json.loads((run_dir / "results.json").read_text())
    ref = json.loads((ref_dir / "results.json").read_text())
    assert ours["rows"] == ref["rows"]
    assert (run_dir / "samples.txt").read_bytes() == (ref_dir / "samples.txt").read_bytes()
    final, ref_final = load_checkpoint(run_dir), load_checkpoint(ref_dir)
    assert final["progress"]["finished"]
    for key in ("generator", "discriminator", "rollout_policy"):
        for name, value in ref_final[key].items():
            assert torch.equal(final[key][name], value), f"{key}.{name} differs after resuming"
    assert set(final["baselines"]) == {"random", "mle", "scheduled_sampling", "pg_bleu"}
    for row, saved in ref_final["baselines"].items():
        for name, value in saved["generator"].items():
            assert torch.equal(final["baselines"][row]["generator"][name], value), (
                f"baseline {row}: {name} differs after resuming"
            )

    # TensorBoard: events logged after the checkpoint by the killed process are purged on resume
    ours_tb, ref_tb = tensorboard_scalars(run_dir), tensorboard_scalars(ref_dir)
    assert ours_tb.keys() == ref_tb.keys()
    for tag in ref_tb:
        assert [s for s, _ in ours_tb[tag]] == [s for s, _ in ref_tb[tag]], tag
        np.testing.assert_allclose([v for _, v in ours_tb[tag]], [v for _, v in ref_tb[tag]], rtol=1e-6, err_msg=tag)

    # resuming a finished run changes nothing and reports the same results
    before = (run_dir / "metrics.jsonl").read_bytes()
    again = seqgan("train", SMOKE, "--run-dir", run_dir, "--resume", *TRAIN_SET, cwd=workdir)
    assert again.returncode == 0, again.stderr
    assert (run_dir / "metrics.jsonl").read_bytes() == before
    assert "| SeqGAN |" in again.stdout


def test_ctrl_c_finishes_the_round_checkpoints_and_resumes_to_the_same_end(run_a, workdir):
    """A stop request (SIGINT) loses no finished round: the checkpoint holds every round the log
    reported, the exit says how to continue, and the resumed run ends where an uninterrupted one does."""

    def after_round_4(run_dir: Path, log_path: Path) -> bool | None:
        return True if "[adversarial round 4/" in log_path.read_text() else None

    run_dir, _, alive, returncode = _train_and_signal_when(workdir, "ctrl_c", after_round_4, signal.SIGINT)
    out = (workdir / "ctrl_c.log").read_text()
    assert alive, "the run finished before the stop request:\n" + out
    assert returncode == 130, out
    assert (
        "stopping after the current unit of work" in out and "continue with --resume" in out and "Traceback" not in out
    )
    last_round = max(
        int(line.split()[2].split("/")[0]) for line in out.splitlines() if line.startswith("[adversarial round ")
    )
    state = load_checkpoint(run_dir / "checkpoint.pt")
    assert state["progress"]["round"] == last_round and 4 <= last_round < ROUNDS
    assert state["progress"]["metrics_lines"] == len(read_metrics(run_dir))

    resumed = seqgan("train", SMOKE, "--run-dir", run_dir, "--resume", *TRAIN_SET, cwd=workdir)
    assert resumed.returncode == 0, resumed.stderr
    assert without_seconds(read_metrics(run_dir)) == without_seconds(read_metrics(run_a[0]))
    final, ref_final = load_checkpoint(run_dir), load_checkpoint(run_a[0])
    for name, value in ref_final["generator"].items():
        assert torch.equal(final["generator"][name], value), f"generator.{name} differs after resuming"


def test_resume_of_a_checkpoint_older_than_a_key(workdir):
    """A checkpoint written before ``generator.single_bias`` existed (its config lacks the key, and
    its LSTM has two trained biases) resumes under today's config, which defaults the key to True:
    the missing key takes the value that reproduces the old run, which ends where it would have."""
    old = ("--set", "generator.single_bias=false", "--set", "train.rounds=8")
    ref = seqgan("train", SMOKE, "--run-dir", workdir / "two_bias_ref", *TRAIN_SET, *old, cwd=workdir)
    assert ref.returncode == 0, ref.stderr
    run_dir, _, alive, _ = _train_and_kill_when(workdir, "two_bias", lambda progress, _: progress["round"] >= 3, *old)
    assert alive, "the run finished before it was killed"
    ckpt = load_checkpoint(run_dir)
    del ckpt["config"]["generator"]["single_bias"]  # as an older seqgan wrote it
    save_checkpoint(ckpt, run_dir / "checkpoint.pt")

    resumed = seqgan(
        "train", SMOKE, "--run-dir", run_dir, "--resume", *TRAIN_SET, "--set", "train.rounds=8", cwd=workdir
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "predates generator.single_bias" in resumed.stdout + resumed.stderr
    assert without_seconds(read_metrics(run_dir)) == without_seconds(read_metrics(workdir / "two_bias_ref"))
    final = load_checkpoint(run_dir)["generator"]
    assert torch.count_nonzero(final["lstm.bias_hh_l0"]) > 0  # still the two-bias LSTM it started as


def test_resume_without_checkpoint_fails(workdir):
    proc = seqgan("train", SMOKE, "--run-dir", workdir / "never", "--resume", cwd=workdir)
    assert_one_line_error(proc, "--resume", str(workdir / "never"))


def test_resume_with_other_experiment_settings_is_refused(run_a, workdir):
    """A resumed run is the run that was started: changing an experiment setting is an error, and
    the run directory is left alone."""
    run_dir, _ = run_a
    before = snapshot(run_dir)
    proc = seqgan(
        "train", SMOKE, "--run-dir", run_dir, "--resume", *TRAIN_SET, "--set", "train.rollout_num=5", cwd=workdir
    )
    assert_one_line_error(proc, "train.rollout_num")
    assert snapshot(run_dir) == before


def test_resume_after_a_default_changed_keeps_the_runs_value(capsys):
    """A default that changed since the run started (value_lr 1e-3 -> 1e-2) takes the run's value on
    --resume, with a note; the same key written in the file or with --set is still refused."""
    from seqgan.config import load_config
    from seqgan.lifecycle import RunError, resumed_config

    cfg = load_config(SMOKE, ["train.rounds=3"])
    saved = cfg.to_dict()
    saved["train"]["value_lr"] = 0.001  # as the run was saved under the old default
    resumed = resumed_config(cfg, saved)
    assert resumed.train.value_lr == 0.001 and resumed.train.rounds == 3
    assert "defaults of train.value_lr changed" in capsys.readouterr().out
    with pytest.raises(RunError, match="train.value_lr"):
        resumed_config(load_config(SMOKE, ["train.rounds=3", "train.value_lr=0.01"]), saved)
    with pytest.raises(RunError, match="train.rounds"):
        resumed_config(load_config(SMOKE, ["train.rounds=4"]), saved)


def test_resume_without_run_dir_fails(workdir):
    cwd = workdir / "resume_no_dir"
    cwd.mkdir()
    proc = seqgan("train", SMOKE, "--resume", cwd=cwd)
    assert_one_line_error(proc, "--resume", "--run-dir")
    assert list(cwd.iterdir()) == []


# -- sample, evaluate -----------------------------------------------------------------------------


def test_sample_prints_sequences_deterministically(run_a, workdir):
    run_dir, _ = run_a
    one = seqgan("sample", run_dir, "--num", 5, "--seed", 1, cwd=workdir)
    assert one.returncode == 0, one.stderr
    rows = [list(map(int, line.split())) for line in one.stdout.splitlines()]
    assert len(rows) == 5 and all(len(r) == 8 for r in rows)
    assert all(0 <= t < 50 for r in rows for t in r)
    # they come from the trained generator with that seed
    from seqgan.build import build_generator

    ckpt = load_checkpoint(run_dir)
    g = build_generator(config_from_dict(ckpt["config"]), 50)
    g.load_state_dict(ckpt["generator"])
    torch.manual_seed(1)
    assert g.sample(5).tolist() == rows

    two = seqgan("sample", run_dir, "--num", 5, "--seed", 2, cwd=workdir)
    assert two.returncode == 0 and two.stdout != one.stdout
    out = workdir / "five.txt"
    written = seqgan("sample", run_dir / "checkpoint.pt", "--num", 5, "--seed", 1, "--out", out, cwd=workdir)
    assert written.returncode == 0, written.stderr
    assert written.stdout == ""
    assert out.read_text() == one.stdout


def test_sample_same_seed_twice(run_a, workdir):
    a = seqgan("sample", run_a[0], "--num", 5, "--seed", 1, cwd=workdir)
    b = seqgan("sample", run_a[0], "--num", 5, "--seed", 1, cwd=workdir)
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout


def test_evaluate_prints_json(run_a, workdir):
    run_dir, _ = run_a
    proc = seqgan("evaluate", run_dir, cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    last = [r for r in read_metrics(run_dir) if r["phase"] == "adversarial"][-1]
    # NLL-test is deterministic: the final generator on the run's held-out set, as logged last
    assert result["nll_test"] == pytest.approx(last["nll_test"], rel=1e-5)
    # NLL-oracle is a sample estimate near the logged one
    assert result["nll_oracle"] == pytest.approx(last["nll_oracle"], abs=0.3)
    assert result["num_samples"] == load_config(run_dir / "config.yaml").eval.num_samples
    assert result["progress"]["finished"] is True
    fewer = seqgan("evaluate", run_dir / "checkpoint.pt", "--num", 64, "--seed", 3, cwd=workdir)
    assert fewer.returncode == 0, fewer.stderr
    other = json.loads(fewer.stdout)
    assert other["num_samples"] == 64
    assert other["nll_test"] == result["nll_test"]
    assert other["nll_oracle"] != result["nll_oracle"]


# -- score ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_npz(workdir) -> tuple[Path, dict]:
    arrays = np_oracle.random_params(vocab=7, emb=3, hidden=4, seed=42)
    path = workdir / "small_oracle.npz"
    np.savez(path, **arrays)
    return path, arrays


def test_score_with_own_npz_oracle(small_npz, workdir):
    path, arrays = small_npz
    seqs = [[1, 2, 3, 4, 5], [6], [0, 0, 6, 1], [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2]]
    tokens = workdir / "tokens.txt"
    tokens.write_text(
        "\n".join(" ".join(map(str, s)) for s in seqs[:2])
        + "\n\n"
        + "\n".join(" ".join(map(str, s)) for s in seqs[2:])
        + "\n"
    )
    proc = seqgan("score", "--oracle", path, tokens, cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["num_sequences"] == 4
    assert result["nll_oracle"] == pytest.approx(np_oracle.ragged_mean_nll(arrays, seqs), rel=1e-4)


def test_score_with_paper_oracle(paper_oracle_path, workdir):
    arrays = dict(np.load(paper_oracle_path))
    seqs = torch.randint(0, 5000, (6, 20), generator=torch.Generator().manual_seed(0)).tolist()
    tokens = workdir / "paper_tokens.txt"
    tokens.write_text("".join(" ".join(map(str, s)) + "\n" for s in seqs))
    proc = seqgan(
        "score",
        "--oracle",
        "paper",
        tokens,
        cwd=workdir,
        environ=env(SEQGAN_DATA_DIR=str(paper_oracle_path.parent.parent)),
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["num_sequences"] == 6
    assert result["nll_oracle"] == pytest.approx(np_oracle.token_nll(arrays, np.array(seqs)).mean(), rel=1e-4)


# -- errors: exit 2, one line naming what is at fault ------------------------------------------------


def test_unknown_config_key(workdir):
    bad = workdir / "bad_key.yaml"
    bad.write_text("seed: 0\ntrain:\n  roundz: 3\n")
    proc = seqgan("train", bad, "--run-dir", workdir / "bad_key_run", cwd=workdir)
    assert_one_line_error(proc, "train.roundz", f"{bad}:3")
    assert not (workdir / "bad_key_run").exists()


def test_bad_set_override(workdir):
    proc = seqgan("train", SMOKE, "--run-dir", workdir / "bad_set_run", "--set", "train.rounds=lots", cwd=workdir)
    assert_one_line_error(proc, "train.rounds")
    assert not (workdir / "bad_set_run").exists()


@pytest.fixture(scope="module")
def corrupt_run(run_a, workdir) -> Path:
    run_dir = workdir / "corrupt"
    run_dir.mkdir()
    data = (run_a[0] / "checkpoint.pt").read_bytes()
    (run_dir / "checkpoint.pt").write_bytes(data[: len(data) // 2])
    return run_dir


def test_corrupt_checkpoint_for_sample(corrupt_run, workdir):
    assert_one_line_error(seqgan("sample", corrupt_run, "--num", 3, cwd=workdir), str(corrupt_run / "checkpoint.pt"))


def test_corrupt_checkpoint_for_evaluate(corrupt_run, workdir):
    path = corrupt_run / "checkpoint.pt"
    assert_one_line_error(seqgan("evaluate", path, cwd=workdir), str(path))


def test_missing_checkpoint_for_sample(workdir):
    empty = workdir / "no_run"
    empty.mkdir()
    assert_one_line_error(seqgan("sample", empty, cwd=workdir), str(empty / "checkpoint.pt"))


def test_score_token_outside_vocabulary(small_npz, workdir):
    path, _ = small_npz
    tokens = workdir / "oov.txt"
    tokens.write_text("1 2 3\n\n4 5 7\n")
    assert_one_line_error(seqgan("score", "--oracle", path, tokens, cwd=workdir), f"{tokens}:3", "7")


def test_score_non_utf8_file(small_npz, workdir):
    path, _ = small_npz
    tokens = workdir / "latin1.txt"
    tokens.write_bytes(b"1 2 3\n4 \xe9 5\n")
    assert_one_line_error(seqgan("score", "--oracle", path, tokens, cwd=workdir), f"{tokens}:2", "byte offset 8")


def test_score_empty_file(small_npz, workdir):
    path, _ = small_npz
    tokens = workdir / "empty.txt"
    tokens.write_text("")
    assert_one_line_error(seqgan("score", "--oracle", path, tokens, cwd=workdir), str(tokens))


def test_score_bad_oracle_file(workdir):
    bogus = workdir / "bogus.npz"
    bogus.write_text("not numpy\n")
    tokens = workdir / "ok.txt"
    tokens.write_text("1 2\n")
    assert_one_line_error(seqgan("score", "--oracle", bogus, tokens, cwd=workdir), str(bogus))


def test_score_paper_oracle_without_data_dir(workdir):
    tokens = workdir / "ok_paper.txt"
    tokens.write_text("1 2\n")
    proc = seqgan("score", "--oracle", "paper", tokens, cwd=workdir, environ=env(SEQGAN_DATA_DIR=None))
    assert_one_line_error(proc, "SEQGAN_DATA_DIR")


def test_resume_after_sigkill_in_pretraining(workdir):
    """A kill during MLE pre-training resumes from the last mid-phase checkpoint, exactly."""
    extra = ["--set", "train.pretrain_g_epochs=80", "--set", "train.rounds=2", "--set", "eval.every=4"]
    ref_dir, ref_proc = _train(workdir, "pretrain-ref", *extra)
    assert ref_proc.returncode == 0, ref_proc.stderr
    run_dir, _, alive, returncode = _train_and_kill_when(
        workdir, "pretrain-killed", lambda progress, _: 4 <= progress["g_epoch"] < 70, *extra
    )
    assert alive and returncode == -signal.SIGKILL
    ckpt = run_dir / "checkpoint.pt"
    state = load_checkpoint(ckpt)["progress"]
    assert state["round"] == 0 and state["d_step"] == 0 and state["g_epoch"] < 80
    resumed = seqgan("train", SMOKE, "--run-dir", run_dir, "--resume", *TRAIN_SET, *extra, cwd=workdir)
    assert resumed.returncode == 0, resumed.stderr
    assert without_seconds(read_metrics(run_dir)) == without_seconds(read_metrics(ref_dir))
    final, ref_final = load_checkpoint(run_dir), load_checkpoint(ref_dir)
    for name, value in ref_final["generator"].items():
        assert torch.equal(final["generator"][name], value), name


def test_run_stopped_before_any_periodic_checkpoint_can_resume(workdir):
    """The first checkpoint is written before training starts, so even an early stop is resumable."""
    run_dir, _, alive, returncode = _train_and_kill_when(
        workdir, "early-killed", lambda progress, _: progress["g_epoch"] == 0 and progress["round"] == 0
    )
    assert alive and returncode == -signal.SIGKILL
    resumed = seqgan("train", SMOKE, "--run-dir", run_dir, "--resume", *TRAIN_SET, cwd=workdir)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((run_dir / "results.json").read_text())["rows"]["SeqGAN"]


def test_bad_device_and_file_run_dir_are_one_line_errors(workdir):
    assert_one_line_error(seqgan("train", SMOKE, "--device", "cuda:x", cwd=workdir), "device", "cuda:x")
    a_file = workdir / "not_a_dir"
    a_file.write_text("x\n")
    assert_one_line_error(seqgan("train", SMOKE, "--run-dir", a_file, cwd=workdir), "is a file")
    assert a_file.read_text() == "x\n"


def test_a_run_started_from_a_shared_pretraining_ends_where_it_would_from_scratch(workdir):
    # settings read only after MLE pre-training: what a tuning study searches
    later = [
        "train.rounds=3",
        "discriminator.gradient_penalty=r1",
        "train.rollout_num=2",
        "generator.pg_lr=0.005",
        "train.pretrain_d_steps=1",
        "train.rewards=td",
    ]
    trial = [a for o in later for a in ("--set", o)]
    scratch, shared, forked = workdir / "fork-scratch", workdir / "fork-shared", workdir / "fork-trial"
    proc = seqgan("train", SMOKE, "--run-dir", scratch, *trial, cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    proc = seqgan("train", SMOKE, "--run-dir", shared, "--stop-after-pretraining", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert "stopped after MLE pre-training" in proc.stdout and not (shared / "results.json").exists()
    state = load_checkpoint(shared)
    assert (state["progress"]["g_epoch"], state["progress"]["d_step"], state["progress"]["round"]) == (4, 0, 0)
    proc = seqgan("train", SMOKE, "--run-dir", forked, "--start-from", shared, *trial, cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert without_seconds(read_metrics(forked)) == without_seconds(read_metrics(scratch))
    # pre-training was not done again: its evaluations are the shared run's lines, timings and all
    shared_lines = (shared / "metrics.jsonl").read_text().splitlines()
    assert len(shared_lines) == state["progress"]["metrics_lines"] > 0
    assert (forked / "metrics.jsonl").read_text().splitlines()[: len(shared_lines)] == shared_lines
    assert (
        json.loads((forked / "results.json").read_text())["rows"]
        == json.loads((scratch / "results.json").read_text())["rows"]
    )
    assert (forked / "samples.txt").read_bytes() == (scratch / "samples.txt").read_bytes()
    assert load_config(forked / "config.yaml") == load_config(scratch / "config.yaml")
    # the shared run is left as it was: another run can start from it
    assert load_checkpoint(shared)["progress"]["g_epoch"] == 4 and not (shared / "results.json").exists()

    # a key that MLE pre-training reads must agree; the start must be the end of pre-training
    proc = seqgan(
        "train",
        SMOKE,
        "--run-dir",
        workdir / "fork-bad",
        "--start-from",
        shared,
        "--set",
        "generator.lr=0.02",
        cwd=workdir,
    )
    assert_one_line_error(proc, str(shared), "generator.lr", "only keys read after MLE pre-training may differ")
    proc = seqgan("train", SMOKE, "--run-dir", workdir / "fork-bad", "--start-from", scratch, *trial, cwd=workdir)
    assert_one_line_error(proc, str(scratch), "not at the end of 4 epochs of MLE pre-training")
    # without D pre-training a finished run's counters are those of the end of pre-training too
    ended = workdir / "fork-ended"
    proc = seqgan(
        "train", SMOKE, "--run-dir", ended, "--set", "train.pretrain_d_steps=0", "--set", "train.rounds=0", cwd=workdir
    )
    assert proc.returncode == 0, proc.stderr
    proc = seqgan("train", SMOKE, "--run-dir", workdir / "fork-bad", "--start-from", ended, *trial, cwd=workdir)
    assert_one_line_error(proc, str(ended), "(adversarial training started)")
    proc = seqgan("train", SMOKE, "--run-dir", forked, "--resume", "--start-from", shared, cwd=workdir)
    assert_one_line_error(proc, "--resume and --start-from")
    assert not (workdir / "fork-bad").exists()
