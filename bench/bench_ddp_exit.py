"""How often a 2-rank torchrun worker that used DDP aborts as it exits, with and without ``end_process``.

    .venv/bin/python bench/bench_ddp_exit.py [--launches 60] [--side-by-side 2] [--out FILE]

Each launch starts ``torchrun --standalone --nproc-per-node 2`` on this file as a worker: it joins a
gloo group, trains a small LSTM under DDP for 3 steps, counts its threads, leaves the group
(``distributed.shutdown``) and counts them again, then ends either as Python ends (``return``) or
through ``distributed.end_process`` (``end_process``); the control (``no_ddp``) does 3 all-reduces
instead of DDP and ends as Python ends. The modes take turns launch by launch, and
``--side-by-side`` loops run at once so that the ranks' exits meet contention, as under pytest in CI.
A launch fails when torchrun's exit status is not 0; an abort is a failure whose output says
"terminate called without an active exception". Prints one JSON line: per mode, launches, failures,
aborts, and the threads a rank holds before and after leaving the group.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

MODES = ("return", "end_process", "no_ddp")
ABORT = "terminate called without an active exception"


def threads() -> int:
    return len(os.listdir("/proc/self/task"))


def worker(mode: str) -> None:
    import torch
    from torch import nn

    from seqgan.runtime import distributed

    torch.set_num_threads(1)
    torch.distributed.init_process_group("gloo")
    if mode == "no_ddp":  # the control: the same collectives' worth of work without a DDP model
        for _ in range(3):
            torch.distributed.all_reduce(torch.randn(16))
    else:
        lstm = distributed.Replica(nn.LSTM(8, 16))  # DDP, as the recipe's Replica
        for _ in range(3):
            lstm("forward", torch.randn(5, 4, 8))[0].sum().backward()
    before = threads()
    distributed.barrier()
    distributed.shutdown()
    print(json.dumps({"rank_threads": [before, threads()]}), flush=True)
    if mode == "end_process":
        distributed.end_process(0)


def launch(mode: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["OMP_NUM_THREADS"] = "1"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", __file__]
    proc = subprocess.run([*cmd, "--worker", mode], env=env, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    # the ranks share torchrun's stdout, so their lines may run together: find each rank's record
    counts = [[int(a), int(b)] for a, b in re.findall(r'\{"rank_threads": \[(\d+), (\d+)\]\}', proc.stdout)]
    return {"mode": mode, "failed": proc.returncode != 0, "aborted": ABORT in out, "threads": counts}


def loop(launches: int) -> list[dict]:
    return [launch(MODES[i % len(MODES)]) for i in range(launches)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=60, help="launches per loop, the modes taking turns")
    parser.add_argument("--side-by-side", type=int, default=2, help="loops running at once")
    parser.add_argument("--out", type=Path, help="append the JSON line to this file")
    parser.add_argument("--worker", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker)
    from seqgan.runtime.hardware import machine

    start = time.time()
    with ThreadPoolExecutor(args.side_by_side) as pool:
        runs = [r for rs in pool.map(loop, [args.launches] * args.side_by_side) for r in rs]
    summary = {}
    for mode in MODES:
        mine = [r for r in runs if r["mode"] == mode]
        counts = [c for r in mine for c in r["threads"]]
        summary[mode] = {
            "launches": len(mine),
            "failed": sum(r["failed"] for r in mine),
            "aborted": sum(r["aborted"] for r in mine),
            "rank_threads_in_group": sorted({c[0] for c in counts}),
            "rank_threads_after_shutdown": sorted({c[1] for c in counts}),
        }
    line = json.dumps(
        {
            "bench": "ddp_exit",
            **summary,
            "side_by_side": args.side_by_side,
            "seconds": round(time.time() - start, 1),
            "machine": machine(),
        }
    )
    print(line)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
