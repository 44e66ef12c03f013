"""Thread settings for the D training step on a small CPU: threads, OpenMP binding, pinning.

    .venv/bin/python bench/threads.py [--steps 30] [--rounds 3] [--variants default,1,bind-close,...]

Each variant is a child process (OpenMP reads its settings at start) that times ``--steps`` D
training steps (``train.train_discriminator``, batch 64, paper sizes, fp32) and the step's matrix
products alone at their shapes (``bench.d_step_gemms``: the floor), in wall time. The variants run
in turn, ``--rounds`` times, and the table gives each one's median over rounds, so a load that
drifts hits every variant alike. Wall time is the point here, so measure on a quiet machine: the
script prints the load average before and after.

Variants (2 threads unless named otherwise): ``default`` (torch's choice of threads), ``1`` (one
thread), ``2``, ``bind-close`` (OMP_PROC_BIND=close, OMP_PLACES=cores), ``bind-spread``,
``taskset`` (the process pinned to CPUs 0-1 with os.sched_setaffinity), ``passive``
(OMP_WAIT_POLICY=PASSIVE: threads sleep between parallel regions instead of spinning), and three
allocators: ``glibc-keep`` (glibc told to keep freed memory: MALLOC_MMAP_THRESHOLD_,
MALLOC_TRIM_THRESHOLD_, MALLOC_TOP_PAD_), ``jemalloc`` and ``tcmalloc`` (LD_PRELOAD of Debian's
libjemalloc2 and libtcmalloc-minimal4; a child fails if the library is missing). The table also
gives the minor page faults a step: fresh pages the kernel zeroed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

VARIANTS = {
    "default": ({}, 0),
    "1": ({"OMP_NUM_THREADS": "1"}, 1),
    "2": ({"OMP_NUM_THREADS": "2"}, 2),
    "bind-close": ({"OMP_NUM_THREADS": "2", "OMP_PROC_BIND": "close", "OMP_PLACES": "cores"}, 2),
    "bind-spread": ({"OMP_NUM_THREADS": "2", "OMP_PROC_BIND": "spread", "OMP_PLACES": "cores"}, 2),
    "taskset": ({"OMP_NUM_THREADS": "2", "SEQGAN_BENCH_PIN": "0,1"}, 2),
    "passive": ({"OMP_NUM_THREADS": "2", "OMP_WAIT_POLICY": "PASSIVE"}, 2),
    # the allocator: glibc returns large freed blocks to the kernel, so each step's new gradient and
    # activation buffers are fresh pages, zeroed by the kernel on first touch (minor page faults)
    "glibc-keep": (
        {
            "OMP_NUM_THREADS": "2",
            "MALLOC_MMAP_THRESHOLD_": str(2**30),
            "MALLOC_TRIM_THRESHOLD_": str(2**31),
            "MALLOC_TOP_PAD_": str(2**28),
        },
        2,
    ),
    "jemalloc": ({"OMP_NUM_THREADS": "2", "LD_PRELOAD": "libjemalloc.so.2"}, 2),
    "tcmalloc": ({"OMP_NUM_THREADS": "2", "LD_PRELOAD": "libtcmalloc_minimal.so.4"}, 2),
}


def child(steps: int, threads: int) -> dict:
    """In the child: time D steps and the floor under this process's settings; returns seconds a step."""
    if os.environ.get("SEQGAN_BENCH_PIN"):
        os.sched_setaffinity(0, {int(c) for c in os.environ["SEQGAN_BENCH_PIN"].split(",")})
    import torch

    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    import bench as b  # bench/bench.py: d_step_gemms and the paper's sizes
    from seqgan.build import adam, build_discriminator
    from seqgan.train import train_discriminator

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    d = build_discriminator(b.CFG, b.V)
    opt = adam(d.parameters(), b.CFG.discriminator.lr)
    real = torch.randint(0, b.V, (steps * b.B // 2, b.T))
    fake = torch.randint(0, b.V, (steps * b.B // 2, b.T))
    train_discriminator(d, opt, real[: b.B], fake[: b.B], 1, b.B, False)  # warm-up
    faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    t0 = time.perf_counter()
    train_discriminator(d, opt, real, fake, 1, b.B, False)
    step = (time.perf_counter() - t0) / steps
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults0) / steps
    floor, peak = b.d_step_gemms(d, b.B, b.T, torch.float32, repeats=5)
    return {"step_s": step, "floor_s": floor, "peak_gflops": peak, "faults": faults, "threads": torch.get_num_threads()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)  # threads, in the child
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.steps, args.child)))
        return
    names = args.variants.split(",")
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        sys.exit(f"--variants: unknown {', '.join(unknown)} (known: {', '.join(VARIANTS)})")
    load_start = os.getloadavg()
    runs: dict[str, list[dict]] = {n: [] for n in names}
    for _ in range(args.rounds):
        for name in names:
            env_extra, threads = VARIANTS[name]
            env = {k: v for k, v in os.environ.items() if not k.startswith("OMP_")} | env_extra
            out = subprocess.run(
                [sys.executable, __file__, "--steps", str(args.steps), "--child", str(threads)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"  {name}: {1e3 * runs[name][-1]['step_s']:.1f} ms a step", file=sys.stderr, flush=True)
    import platform

    cpu = next(
        (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
        platform.processor(),
    )
    print(f"## D training step under thread settings ({cpu}, {os.cpu_count()} CPUs, fp32, batch 64, wall time)\n")
    print(
        f"Median of {args.rounds} rounds of {args.steps} steps each; load average {load_start} at start, "
        f"{os.getloadavg()} at end.\n"
    )
    print(
        "| variant | threads | ms a step | its matrix products alone, ms | step / products | peak GFLOP/s "
        "| page faults a step |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in names:
        med = {k: statistics.median(r[k] for r in runs[name]) for k in ("step_s", "floor_s", "peak_gflops", "faults")}
        print(
            f"| {name} | {runs[name][0]['threads']} | {1e3 * med['step_s']:.1f} | {1e3 * med['floor_s']:.1f} | "
            f"{med['step_s'] / med['floor_s']:.2f}x | {med['peak_gflops']:.0f} | {med['faults']:.0f} |"
        )


if __name__ == "__main__":
    main()
