"""Several processes: torchrun with 2 ranks on CPU (gloo) against one process.

One step of each kind equals one process with the whole batch; a smoke run writes its outputs once;
a 2-process run killed with SIGKILL and resumed ends where an uninterrupted one does; bad launches
and a failing or silent rank end every rank with a one-line error, none hangs.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

import ddp_steps
from seqgan import cli
from seqgan.runtime.checkpoint import load_checkpoint

REPO = Path(__file__).resolve().parent.parent
SMOKE = REPO / "configs" / "synthetic_smoke.yaml"
# checkpoints every 3 rounds, evaluations every 2: a kill after round 4's evaluation leaves metrics
# lines that the round-3 checkpoint does not cover, which the resume must drop and redo
OVERRIDES = ["train.rounds=8", "eval.checkpoint_every=3", "dist_timeout=60"]
TRAIN_SET = [a for o in OVERRIDES for a in ("--set", o)]


def env(**changes) -> dict:
    e = {
        k: v
        for k, v in os.environ.items()
        if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
    }
    e["OMP_NUM_THREADS"] = "1"
    e.update(changes)
    return e


def torchrun(*args) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", *map(str, args)]


def train_cmd(run_dir: Path, *extra) -> list[str]:
    return torchrun("-m", "seqgan", "train", SMOKE, "--run-dir", run_dir, *TRAIN_SET, *extra)


def read_metrics(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]


def without_seconds(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (torchrun starts its workers in sessions of their own)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def kill_tree(pid: int) -> None:
    for p in process_tree(pid):
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("seqgan: error:")]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ddp")


@pytest.fixture(scope="module")
def ddp_run(workdir):
    run_dir = workdir / "a"
    proc = subprocess.run(train_cmd(run_dir), cwd=workdir, env=env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"torchrun failed:\n{proc.stdout}\n{proc.stderr}"
    return run_dir, proc


def test_one_step_on_two_ranks_equals_one_process_with_the_whole_batch(tmp_path):
    proc = subprocess.run(
        torchrun(REPO / "tests" / "ddp_steps.py", tmp_path),
        cwd=tmp_path,
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1)]
    whole = ddp_steps.steps()  # this process: no process group, the whole batch
    for step in ("mle", "d", "pg"):
        for name, value in whole[step]["params"].items():
            assert torch.equal(ranks[0][step]["params"][name], ranks[1][step]["params"][name]), (
                f"{step}: {name} differs between ranks"
            )
            torch.testing.assert_close(
                ranks[0][step]["params"][name], value, rtol=1e-5, atol=1e-6, msg=f"{step}: {name}"
            )
        for key in set(whole[step]) - {"params"}:  # the returned mean loss or reward: the whole batch's
            assert ranks[0][step][key] == pytest.approx(whole[step][key], rel=1e-6), (step, key)
            assert ranks[1][step][key] == ranks[0][step][key], (step, key)
    # the check that roll-out policies and baseline rows are the same on every rank sees one ulp
    assert all(r["replication_check"] == "linear: weights on rank 1 differ from rank 0's" for r in ranks), ranks[0][
        "replication_check"
    ]


def test_smoke_run_under_torchrun_writes_its_outputs_once(ddp_run):
    run_dir, proc = ddp_run
    assert proc.stdout.count("run directory:") == 1 and proc.stdout.count("| SeqGAN |") == 1, proc.stdout
    records = read_metrics(run_dir)
    keys = [(r["phase"], r["step"]) for r in records]
    assert len(keys) == len(set(keys)), "a metrics line was written twice"
    assert {"random", "pretrain", "adversarial", "mle", "scheduled_sampling", "pg_bleu"} <= {
        r["phase"] for r in records
    }
    assert max(r.get("round", 0) for r in records) == 8
    assert len(list((run_dir / "tensorboard").iterdir())) == 1, "one TensorBoard events file, rank 0's"
    for name in ("results.json", "config.yaml", "samples.txt", "samples_mle.txt", "nll_oracle.png"):
        assert (run_dir / name).is_file(), name
    assert not [p for p in run_dir.rglob("*") if p.name.endswith(".tmp")]
    ckpt = load_checkpoint(run_dir)
    assert ckpt["progress"]["finished"] and ckpt["distributed"]["world_size"] == 2
    rng = ckpt["distributed"]["rng_cpu"]
    assert len(rng) == 2 and not torch.equal(rng[0], rng[1]), "each rank has a random stream of its own"


def test_two_process_run_killed_and_resumed_ends_like_an_uninterrupted_one(ddp_run, workdir):
    run_dir, log_path = workdir / "killed", workdir / "killed.log"
    reached = None
    with open(log_path, "w") as log:
        proc = subprocess.Popen(train_cmd(run_dir), cwd=workdir, env=env(), stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 240
            while proc.poll() is None and time.monotonic() < deadline and reached is None:
                time.sleep(0.02)
                try:
                    progress = load_checkpoint(run_dir / "checkpoint.pt")["progress"]
                    lines = len((run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines())
                except (ValueError, FileNotFoundError):
                    continue  # not there yet, or raced a write
                if progress["round"] >= 3 and lines > progress["metrics_lines"]:
                    reached = progress
            alive = proc.poll() is None
            ranks = process_tree(proc.pid)[1:]
            kill_tree(proc.pid)  # the launcher and both ranks at once, like a lost machine
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                kill_tree(proc.pid)
                proc.wait()
    assert len(ranks) >= 2, ranks
    assert reached is not None and alive, "the run was not killed mid-way:\n" + log_path.read_text()
    assert not (run_dir / "results.json").exists()

    resumed = subprocess.run(
        train_cmd(run_dir, "--resume"), cwd=workdir, env=env(), capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    ref_dir = ddp_run[0]
    assert without_seconds(read_metrics(run_dir)) == without_seconds(read_metrics(ref_dir))
    assert (
        json.loads((run_dir / "results.json").read_text())["rows"]
        == json.loads((ref_dir / "results.json").read_text())["rows"]
    )
    assert (run_dir / "samples.txt").read_bytes() == (ref_dir / "samples.txt").read_bytes()
    final, ref = load_checkpoint(run_dir), load_checkpoint(ref_dir)
    for key in ("generator", "discriminator", "rollout_policy"):
        for name, value in ref[key].items():
            assert torch.equal(final[key][name], value), f"{key}.{name} differs after resuming"


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra, needles",
    [
        (["--set", "train.batch_size=31"], ["train.batch_size", "31 does not divide by the world size 2"]),
        (["--set", "dist_backend=nccl"], ["dist_backend", "'nccl' does not fit device 'cpu'"]),
        (["--set", "discriminator.gradient_penalty=r1"], ["discriminator.gradient_penalty", "support only 'none'"]),
        (["--set", "discriminator.compile=default"], ["discriminator.compile", "support only 'none'"]),
        (["--set", "train.rewards=td"], ["train.rewards", "support 'mc' and 'mcts'"]),
        (["--set", "train.baseline=value"], ["train.baseline", "support 'none' and 'mean'"]),
        pytest.param(
            ["--device", "cuda"],
            ["dist_backend", "has no 'nccl' backend"],
            marks=pytest.mark.skipif(dist.is_backend_available("nccl"), reason="this torch has NCCL"),
        ),
    ],
)
def test_a_bad_launch_is_one_line_on_every_rank(extra, needles, tmp_path, monkeypatch, capsys):
    """Each rank checks before it joins the process group, so none waits for another: here as rank 1
    of 2 (rank 0 runs the same code; the torchrun test below shows the launch stopping)."""
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    rc = cli.main(["train", str(SMOKE), "--run-dir", str(tmp_path / "run"), *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and all(n in err[0] for n in needles), err
    assert not (tmp_path / "run").exists() and not dist.is_initialized()


def test_under_torchrun_a_run_directory_is_required(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert cli.main(["train", str(SMOKE)]) == 2
    assert "--run-dir" in capsys.readouterr().err


def test_a_mismatched_backend_stops_both_torchrun_ranks(tmp_path):
    """The launch fails with the one-line refusal naming the key, no rank trains, and no run directory
    is left. Not asserted: that every rank prints it. Once one rank exits with status 2, torchrun
    stops the others (SIGTERM), and on a loaded machine that can come before another rank reaches its
    own check (issue 33); each rank's refusal is test_a_bad_launch_is_one_line_on_every_rank's."""
    run_dir = tmp_path / "run"
    proc = subprocess.run(
        train_cmd(run_dir, "--set", "dist_backend=nccl"),
        cwd=tmp_path,
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    shown = f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert proc.returncode != 0, shown
    lines = error_lines(proc.stderr)  # one from each rank that got as far as its check, nothing else
    assert 1 <= len(lines) <= 2, shown
    assert all("key 'dist_backend'" in line and "'nccl' does not fit device 'cpu'" in line for line in lines), shown
    # rank 0 names the run directory before its check; training would add progress lines and the table
    assert all(line.startswith("run directory:") for line in proc.stdout.splitlines() if line.strip()), shown
    assert "pre-training" not in proc.stderr and "adversarial" not in proc.stderr, shown  # tqdm's bars
    assert not run_dir.exists(), shown


# one rank as torchrun would start it, with train_discriminator made to fail (raise) or fall silent
# (hang) on rank 1 only; plain processes, because torchrun itself stops the others when one fails
RANK_SCRIPT = """
import os, sys, time
import seqgan.train
from seqgan.cli import main
if os.environ["RANK"] == "1":
    def broken(*args, **kwargs):
        if sys.argv[1] == "raise":
            raise RuntimeError("injected failure on rank 1")
        time.sleep(300)
    seqgan.train.train_discriminator = broken
# as `python -m seqgan` ends a torchrun worker: no interpreter teardown under gloo's threads (it aborts
# a rank now and then: docs/distributed.md)
from seqgan.runtime import distributed
distributed.end_process(main(sys.argv[2:]))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# the timeout bounds every wait on the other rank, joining the group included (two cold `import torch` on
# busy cores): 20 s, not less, so that on a loaded machine only the injected hang can exhaust it
@pytest.mark.parametrize("mode, timeout", [("raise", 60), ("hang", 20)])
def test_when_a_rank_fails_or_falls_silent_the_other_exits_within_the_timeout(mode, timeout, tmp_path):
    port = _free_port()
    args = ["train", str(SMOKE), "--run-dir", str(tmp_path / "run"), "--set", f"dist_timeout={timeout}"]
    procs = []
    try:
        for rank in (0, 1):
            rank_env = env(
                RANK=str(rank),
                LOCAL_RANK=str(rank),
                WORLD_SIZE="2",
                LOCAL_WORLD_SIZE="2",
                MASTER_ADDR="127.0.0.1",
                MASTER_PORT=str(port),
            )
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", RANK_SCRIPT, mode, *args],
                    cwd=tmp_path,
                    env=rank_env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        start = time.monotonic()
        out, err = procs[0].communicate(timeout=timeout + 120)
        waited = time.monotonic() - start
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.communicate()
    assert procs[0].returncode == 1, err
    assert "Traceback" not in err, err
    lines = error_lines(err)
    assert len(lines) == 1 and "rank 0: stopped because another rank failed" in lines[0], err
    assert err.strip().splitlines()[-1] == lines[0]
    if mode == "hang":  # nothing but the timeout can end the wait
        assert "Timed out" in lines[0] and waited >= timeout, (waited, lines)


def test_a_rank_that_never_joins_stops_the_other_in_one_line_within_the_timeout(tmp_path):
    # rank 0 of two, and no rank 1: joining the group waits dist_timeout, then says so in one line
    rank_env = env(
        RANK="0",
        LOCAL_RANK="0",
        WORLD_SIZE="2",
        LOCAL_WORLD_SIZE="2",
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(_free_port()),
    )
    run_dir = tmp_path / "run"
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "seqgan", "train", str(SMOKE), "--run-dir", str(run_dir), "--set", "dist_timeout=5"],
        cwd=tmp_path,
        env=rank_env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    waited = time.monotonic() - start
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    lines = error_lines(proc.stderr)
    assert len(lines) == 1 and "rank 0: stopped because another rank failed" in lines[0], proc.stderr
    assert "Timed out" in lines[0] and waited >= 5, (waited, lines)
    assert not run_dir.exists()


# a worker as ``python -m seqgan`` runs it, with an exit-time hook that prints only if Python's own
# teardown runs, and a last line left in stdout's buffer (a pipe: block-buffered)
MAIN_SCRIPT = """
import atexit, runpy, sys
atexit.register(lambda: print("teardown ran"))
sys.argv = ["seqgan", "train", sys.argv[1], "--run-dir", sys.argv[2]]
print("buffered line", end="")
runpy.run_module("seqgan", run_name="__main__")
"""


@pytest.mark.parametrize("launched", [False, True])
def test_a_torchrun_worker_ends_with_mains_status_and_its_output_flushed_without_the_teardown(launched, tmp_path):
    """Under torchrun ``python -m seqgan`` ends through ``end_process`` (DDP keeps gloo's threads alive
    past destroy_process_group, and Python's teardown of them can abort a finished rank): the exit
    status is main's, buffered output still arrives, and no exit-time hook runs. Without torchrun the
    process ends as Python ends. (A missing config: main returns 2 before any process group.)"""
    e = env(RANK="0", WORLD_SIZE="2") if launched else env()
    proc = subprocess.run(
        [sys.executable, "-c", MAIN_SCRIPT, str(tmp_path / "missing.yaml"), str(tmp_path / "run")],
        cwd=REPO,
        env=e,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert len(error_lines(proc.stderr)) == 1 and "missing.yaml" in proc.stderr, proc.stderr
    assert proc.stdout.startswith("buffered line"), proc.stdout
    assert ("teardown ran" in proc.stdout) is not launched, proc.stdout
