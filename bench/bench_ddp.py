"""seqgan's units of work on P processes (torchrun, DDP) against one: wall time of each unit on rank 0.

    .venv/bin/python bench/bench_ddp.py [--quick] [--out FILE]                     # one process
    .venv/bin/python -m torch.distributed.run --standalone --nproc-per-node 2 bench/bench_ddp.py [--quick]

The units are the recipe's own helpers at the paper's sizes (V 5000, T 20, models from Config()),
each given the global sizes that ``train.py`` gives them, so under torchrun each rank does its share:
a g-step (batch 64, N 16; 16 with --quick), one D epoch (real + fake sequences), one MLE epoch, and sampling for an
evaluation (each rank its share, then gathered). Fixed synthetic input, one warm-up call, timed
repeats with a barrier before each, median. Prints one JSON line (rank 0) with the world size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import torch

from seqgan.build import adam, build_discriminator, build_generator
from seqgan.config import Config
from seqgan.rollout import RolloutPolicy, discriminator_scorer
from seqgan.runtime import distributed
from seqgan.train import mle_epoch, monte_carlo, policy_gradient_step, train_discriminator

CFG = Config()  # the paper's settings
V, T, B, N = CFG.oracle.vocab_size, CFG.oracle.seq_len, CFG.train.batch_size, CFG.train.rollout_num
SIZES = {"full": dict(seqs=10_000, pg_batch=B, repeats=3), "quick": dict(seqs=1_000, pg_batch=16, repeats=2)}


def cpu_name() -> str:
    for line in open("/proc/cpuinfo", encoding="utf-8"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        distributed.barrier()
        start = time.perf_counter()
        fn()
        distributed.barrier()  # the unit is done when the slowest rank is
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1,000 sequences a D/MLE epoch and a sampling (not 10,000), a g-step of 16 (not 64), 2 repeats (not 3)",
    )
    parser.add_argument("--out", help="also append the JSON line to this file (rank 0)")
    args = parser.parse_args()
    size = SIZES["quick" if args.quick else "full"]
    torch.set_num_threads(1)
    if distributed.launched():
        torch.distributed.init_process_group("gloo")
    torch.manual_seed(0)
    g, d = build_generator(CFG, V), build_discriminator(CFG, V)
    g_opt, d_opt = adam(g.parameters(), CFG.generator.lr), adam(d.parameters(), CFG.discriminator.lr)
    rollout = RolloutPolicy(g, CFG.train.rollout_update_rate)
    reward = discriminator_scorer(d, batch_size=CFG.train.score_batch_size)
    torch.manual_seed(distributed.rank_seed(0, distributed.rank()))
    seqs = size["seqs"]
    real = torch.randint(0, V, (seqs, T), generator=torch.Generator().manual_seed(1))
    fake = torch.randint(0, V, (distributed.share(seqs), T))  # this rank's negatives, as the loop samples them
    units = {
        "g_step": lambda: policy_gradient_step(
            g, g_opt, monte_carlo(rollout, reward, N), size["pg_batch"], CFG.generator.grad_clip
        ),
        "d_epoch": lambda: train_discriminator(d, d_opt, real, fake, 1, B, False),
        "mle_epoch": lambda: mle_epoch(g, g_opt, real, B, CFG.generator.grad_clip),
        "sample": lambda: distributed.gather(g.sample(distributed.share(seqs))),
    }
    result = {name: round(median_seconds(fn, size["repeats"]), 4) for name, fn in units.items()}
    if distributed.is_master():
        line = json.dumps(
            {
                "world_size": distributed.world_size(),
                "seqs": seqs,
                "pg_batch": size["pg_batch"],
                "repeats": size["repeats"],
                "seconds": result,
                "machine": cpu_name(),
                "cores": os.cpu_count(),
                "load_average": os.getloadavg(),
                "torch": torch.__version__,
                "threads_per_rank": 1,
            }
        )
        print(line)
        if args.out:
            with open(args.out, "a", encoding="utf-8") as f:
                f.write(line + "\n")
    distributed.shutdown()
    if distributed.launched():
        distributed.end_process(0)  # DDP kept gloo's threads alive: the interpreter's teardown could abort a rank


if __name__ == "__main__":
    main()
