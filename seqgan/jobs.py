"""Many ``seqgan train`` runs side by side: subprocesses, one thread each, resumed or reused.

The studies (``seqgan.studies``) and the tuner (``seqgan.tuning``) run their seeds and trials
through ``run_all``: each run is an ordinary ``seqgan train`` command in a directory of its own, so
any run can be resumed or re-run alone, and a finished run is reused only if it is the same run.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import yaml

from .config import Config, current_keys, load_config
from .lifecycle import EXECUTION_KEYS
from .runtime.checkpoint import set_aside_unresumable
from .runtime.files import flat_keys


def budget_overrides(cfg: Config, budget: float) -> list[str]:
    """--set overrides scaling the training phases of ``cfg`` by ``budget`` (at least 1 of each)."""
    if budget <= 0:
        raise ValueError(f"--budget must be positive, got {budget}")
    tc = cfg.train
    scale = lambda n: max(1, round(n * budget)) if n else 0  # noqa: E731
    return [
        f"train.pretrain_g_epochs={scale(tc.pretrain_g_epochs)}",
        f"train.pretrain_d_steps={scale(tc.pretrain_d_steps)}",
        f"train.rounds={scale(tc.rounds)}",
    ]


def train_command(config: str, run_dir: Path, seed: int, overrides: list[str], recipe: str = "train") -> list[str]:
    """The ``seqgan train`` command of one run (``seqgan RECIPE``: ``texygen`` takes the same flags), as
    ``run_all`` takes it."""
    cmd = ["seqgan", recipe, config, "--seed", str(seed), "--run-dir", str(run_dir)]
    for o in overrides:
        cmd += ["--set", o]
    return cmd


def check_finished_run(run_dir: Path, cmd: list[str]) -> None:
    """Refuse to reuse a finished run that the command would not have made: a setting the command
    writes (in its config file or a --set, as ``--resume`` counts them) differs from the run's
    ``config.yaml``. Execution settings (threads, device, data_dir) may differ; so may defaults
    that changed since the run was made, and keys newer than it."""
    pairs = zip(cmd[3::2], cmd[4::2])  # `seqgan train CONFIG --flag value ...`, as train_command writes it
    overrides = [value if flag == "--set" else f"seed={value}" for flag, value in pairs if flag in ("--set", "--seed")]
    cfg = load_config(cmd[2], overrides)
    now = flat_keys(cfg.to_dict())
    saved = flat_keys(current_keys(yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8")) or {}))
    for key in sorted(cfg.explicit_keys):
        if key in EXECUTION_KEYS or key not in now or key not in saved or saved[key] == now[key]:
            continue
        raise ValueError(
            f"{run_dir} holds a finished run with {key}: {saved[key]!r}, but this experiment sets "
            f"{now[key]!r}; move that run aside or write this experiment elsewhere (--out)"
        )


def run_all(commands: list[tuple[Path, list[str]]], jobs: int, quiet: bool = False, check=None) -> int:
    """Run ``seqgan train`` commands, ``jobs`` at a time, with threads = cores // jobs each (at least
    one), unless a command sets ``threads`` itself.

    The same division serves runs that share one GPU (``--set device=cuda``): such a run needs few
    intra-op threads, but its host thread launches every kernel and must not wait for a core.
    cores // jobs keeps all runs' threads within the cores (16 cores, 3 jobs: 5 threads each),
    where torch's default (every core, in every run) would oversubscribe them and stall each
    other's launches. With more jobs than cores the runs share cores, and fewer jobs go faster.

    A run whose directory holds results is skipped, if its settings are the command's
    (``check``, by default ``check_finished_run`` of a ``seqgan train`` command); one with a
    checkpoint is resumed. Each run's
    output goes to RUN_DIR.log. Returns how many runs it started; raises ValueError naming the log
    of a run that failed.
    """
    for run_dir, cmd in commands:  # before anything starts: a finished run is reused only if it is this run
        if (run_dir / "results.json").exists():
            (check or check_finished_run)(run_dir, cmd)
    threads = max(1, (os.cpu_count() or 1) // jobs)
    pending, running = list(commands), []
    failed: list[str] = []
    started = sum(not (run_dir / "results.json").exists() for run_dir, _ in commands)
    try:
        _schedule(pending, running, failed, jobs, threads, quiet)
    finally:  # interrupted: stop the runs too (each can --resume from its last checkpoint)
        for _, proc, log in running:
            proc.terminate()
            proc.wait()
            log.close()
    if failed:
        raise ValueError(f"{len(failed)} run(s) failed: " + "; ".join(failed))
    return started


def _schedule(pending: list, running: list, failed: list, jobs: int, threads: int, quiet: bool) -> None:
    while pending or running:
        while pending and len(running) < jobs:
            run_dir, cmd = pending.pop(0)
            if (run_dir / "results.json").exists():
                continue
            # a --set threads=N of the user's (e.g. one thread beside a long run) wins over cores / jobs
            own = [int(a.split("=", 1)[1]) for a in cmd if a.startswith("threads=")]
            run_threads = own[-1] if own else threads
            argv = [sys.executable, "-m", "seqgan", *cmd[1:], "--set", f"threads={run_threads}"]
            if (run_dir / "checkpoint.pt").exists():
                argv.append("--resume")
            elif (aside := set_aside_unresumable(run_dir)) is not None:
                print(
                    f"note: {run_dir} held an unfinished run without a checkpoint; kept as {aside}, starting it again",
                    flush=True,
                )
            run_dir.parent.mkdir(parents=True, exist_ok=True)
            log = open(run_dir.parent / f"{run_dir.name}.log", "a", encoding="utf-8")
            env = {**os.environ, "OMP_NUM_THREADS": str(run_threads), "TQDM_DISABLE": "1"}
            if not quiet:
                print(f"started: {shlex.join(cmd)}", flush=True)
            running.append((run_dir, subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env), log))
        time.sleep(0.5)
        for item in list(running):
            run_dir, proc, log = item
            if proc.poll() is not None:
                log.close()
                running.remove(item)
                if proc.returncode != 0:
                    failed.append(f"{run_dir} (exit {proc.returncode}; see {run_dir.parent / (run_dir.name + '.log')})")
                elif not quiet:
                    print(f"finished: {run_dir}", flush=True)


def wall_time(seconds: float, runs_started: int, previous_summary: Path) -> float:
    """This invocation's wall time, or, when every run was already finished, the one recorded by the
    invocation that trained them."""
    if runs_started == 0 and previous_summary.exists():
        return json.loads(previous_summary.read_text())["wall_seconds"]
    return seconds
