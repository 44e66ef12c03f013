"""Sizes for configs/text.yaml by measurement (issue 36, item 4): NLL-test and time of G's hidden
sizes and D's widths on real corpora.

    .venv/bin/python bench/bench_text_sizes.py --corpus obama/obama_speeches.txt --corpus poems/shi.txt \\
        [--corpus /usr/share/games/fortunes/fortunes.txt] [--hidden 32,64,128] [--epochs 30] \\
        [--patience 3] [--threads 2] [--out bench/out/text_sizes]
    .venv/bin/python bench/bench_text_sizes.py --smoke    # every code path once on a tiny corpus

For each corpus (read as configs/text.yaml reads it: words, lower case, min_freq 2, rows of 32,
a seeded 10% test split and 10% of the rest as the validation split) and each G hidden size
(embedding as the preset's), MLE pre-training as the recipe runs it (``train.mle_epoch``) until
validation NLL has not fallen for ``--patience`` epochs: the epoch of lowest validation NLL, the
NLL-test there, and the seconds an epoch. Then, from that G, the seconds of one g-step (N = 16
rollouts scored by D) and, for each D width in use (text.yaml's quarter of the paper's filters,
the paper's own), the seconds of one D set (num_negatives fresh negatives, k epochs) and D's
held-out accuracy after ``pretrain_d_steps`` sets. From these it projects the minutes of a whole
text.yaml run (``train.*`` as the preset has them; evaluations not counted).

Wall time on a shared machine is not the machine's speed: run it alone (nothing else busy), with
``--threads`` the cores a user has. Writes ``OUT/text_sizes.json`` and ``OUT/text_sizes.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seqgan import corpus, metrics  # noqa: E402
from seqgan.build import adam, build_discriminator, build_generator, data_dir_of  # noqa: E402
from seqgan.config import load_config  # noqa: E402
from seqgan.discriminator import PAPER_NUM_FILTERS  # noqa: E402
from seqgan.rollout import RolloutPolicy, discriminator_scorer  # noqa: E402
from seqgan.runtime.hardware import machine  # noqa: E402
from seqgan.train import mle_epoch, monte_carlo, policy_gradient_step, train_discriminator  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def pretrain(cfg, data, epochs: int, patience: int) -> tuple[torch.nn.Module, dict]:
    """MLE epochs until validation NLL has not fallen for ``patience`` epochs; G at its best epoch."""
    torch.manual_seed(cfg.seed)
    g = build_generator(cfg, len(data.vocab))
    opt = adam(g.parameters(), cfg.generator.lr, cfg.train.adam_epsilon)
    best, best_state, curve, seconds, cpu = None, None, [], [], []
    for epoch in range(1, epochs + 1):
        started, cpu_started = time.perf_counter(), time.process_time()
        mle_epoch(g, opt, data.train, cfg.train.batch_size, cfg.generator.grad_clip)
        seconds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        point = {
            "epoch": epoch,
            "nll_valid": metrics.nll_test(g, data.valid),
            "nll_test": metrics.nll_test(g, data.test),
        }
        curve.append(point)
        if best is None or point["nll_valid"] < best["nll_valid"]:
            best, best_state = point, {k: v.clone() for k, v in g.state_dict().items()}
        elif epoch - best["epoch"] >= patience:
            break
    g.load_state_dict(best_state)
    return g, {
        "best": best,
        "curve": curve,
        "seconds_per_epoch": sum(seconds) / len(seconds),
        "cpu_seconds_per_epoch": sum(cpu) / len(cpu),  # the process's CPU time: less moved by a busy machine
    }


def discriminator_cost(cfg, data, g, num_filters: list[int]) -> dict:
    """Seconds of one D set, of one g-step scored by this D, and D's held-out accuracy after the preset's sets."""
    cfg.discriminator.num_filters = num_filters
    torch.manual_seed(cfg.seed)
    d = build_discriminator(cfg, len(data.vocab))
    opt = adam(d.parameters(), cfg.discriminator.lr, cfg.train.adam_epsilon)
    tc, sets = cfg.train, []
    for _ in range(max(tc.pretrain_d_steps, 1)):
        started = time.perf_counter()
        negatives = g.sample(tc.num_negatives)
        train_discriminator(d, opt, data.train, negatives, tc.pretrain_d_epochs, tc.batch_size, bf16=False)
        sets.append(time.perf_counter() - started)
    n = min(len(data.test), 1000)
    _, accuracy = metrics.discriminator_metrics(d, data.test[:n], g.sample(n), bf16=False)
    g_opt = adam(g.copy().parameters(), cfg.generator.lr)
    started = time.perf_counter()
    scorer = discriminator_scorer(d, batch_size=tc.score_batch_size, bf16=False)
    policy_gradient_step(
        g.copy(), g_opt, monte_carlo(RolloutPolicy(g, 0.0), scorer, tc.rollout_num), tc.batch_size, 5.0
    )
    g_step = time.perf_counter() - started
    return {"seconds_per_d_set": sum(sets) / len(sets), "seconds_per_g_step": g_step, "d_accuracy": accuracy}


def projected_minutes(cfg, epochs_to_best: int, pre: dict, cost: dict) -> float:
    """A text.yaml run: pre-training to its best epoch (plus the patience), D pre-training, the rounds."""
    tc = cfg.train
    round_s = (
        tc.g_steps * cost["seconds_per_g_step"]
        + tc.d_steps * cost["seconds_per_d_set"] * tc.d_epochs / max(tc.pretrain_d_epochs, 1)
        + cfg.rows.mle_epochs_per_round * pre["seconds_per_epoch"]
    )
    total = epochs_to_best * pre["seconds_per_epoch"] + tc.pretrain_d_steps * cost["seconds_per_d_set"]
    return (total + tc.rounds * round_s) / 60


def write_tables(out: Path, rows: list[dict], threads: int, command: str) -> str:
    """OUT/text_sizes.json and text_sizes.md from the rows so far (written after every size, so that an
    interrupted run keeps what it measured); returns the markdown."""
    header = (
        "| corpus | rows | hidden | D widths | best epoch | NLL-test there | s / MLE epoch (CPU s) | s / g-step | "
        "s / D set | D acc | projected min |"
    )
    table = [header, "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        table.append(
            f"| {Path(r['corpus']).name} | {r['train_rows']} | {r['hidden']} | {r['d_widths']} | {r['best_epoch']} | "
            f"{r['nll_test_at_best']:.3f} | {r['seconds_per_epoch']:.1f} ({r['cpu_seconds_per_epoch']:.1f}) | "
            f"{r['seconds_per_g_step']:.1f} | "
            f"{r['seconds_per_d_set']:.1f} | {r['d_accuracy']:.3f} | {r['projected_minutes']:.0f} |"
        )
    machines = "; ".join(dict.fromkeys(r.get("machine", machine()) for r in rows)) or machine()
    md = "\n".join([f"Machine: {machines}, {threads} threads. Command: `{command}`.", "", *table]) + "\n"
    payload = {"machine": machines, "threads": threads, "command": command, "rows": rows}
    (out / "text_sizes.json").write_text(json.dumps(payload, indent=2) + "\n")
    (out / "text_sizes.md").write_text(md)
    return md


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", action="append", help="a text file, one sequence a line (in the data dir or as given)")
    ap.add_argument("--config", default=str(REPO / "configs" / "text.yaml"))
    ap.add_argument("--hidden", default="32,64,128", help="G hidden sizes")
    ap.add_argument("--epochs", type=int, default=30, help="the most MLE epochs a size gets")
    ap.add_argument("--patience", type=int, default=3, help="epochs without a lower validation NLL before stopping")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default=str(REPO / "bench" / "out" / "text_sizes"))
    ap.add_argument("--smoke", action="store_true", help="a tiny corpus, tiny sizes, one epoch: the code paths only")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    overrides = [] if args.data_dir is None else [f"data_dir={args.data_dir}"]
    hidden = [int(h) for h in args.hidden.split(",")]
    corpora = args.corpus or []
    widths = {"text.yaml (a quarter of the paper's filters)": None, "paper": list(PAPER_NUM_FILTERS)}
    if args.smoke:
        tmp = Path(args.out)
        tmp.mkdir(parents=True, exist_ok=True)
        lines = [" ".join(f"w{(i * 7 + j) % 50}" for j in range(4 + i % 9)) for i in range(200)]
        (tmp / "smoke.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        corpora, hidden, args.epochs = [str(tmp / "smoke.txt")], [8, 16], 2
        overrides += [
            "train.num_negatives=32",
            "train.pretrain_d_steps=1",
            "train.rollout_num=2",
            "train.batch_size=32",
        ]
        widths = {"text.yaml": None}
    if not corpora:
        ap.error("give at least one --corpus (or --smoke)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    command = " ".join(sys.argv)
    saved_path = out / "text_sizes.json"
    # sizes finished before (by an interrupted run of this bench) are kept, not measured again
    saved = json.loads(saved_path.read_text()) if saved_path.exists() else {"rows": []}
    rows = []
    for path in corpora:
        for h in hidden:
            done = [r for r in saved["rows"] if (r["corpus"], r["hidden"]) == (path, h)]
            if len(done) == len(widths):
                rows += done
                print(f"kept from {saved_path}: {path}, hidden {h}", flush=True)
                continue
            cfg = load_config(args.config, [*overrides, f"data.train={path}", f"generator.hidden_dim={h}"])
            data = corpus.load_corpus(cfg.data, data_dir_of(cfg) or os.environ.get("SEQGAN_DATA_DIR"), 0.1)
            g, pre = pretrain(cfg, data, args.epochs, args.patience)
            for label, filters in widths.items():
                cost = discriminator_cost(cfg, data, g, filters or list(cfg.discriminator.num_filters))
                epochs_run = len(pre["curve"])
                rows.append(
                    {
                        "corpus": path,
                        "train_rows": len(data.train),
                        "vocab": len(data.vocab),
                        "hidden": h,
                        "d_widths": label,
                        "best_epoch": pre["best"]["epoch"],
                        "nll_test_at_best": pre["best"]["nll_test"],
                        "nll_valid_at_best": pre["best"]["nll_valid"],
                        "epochs_run": epochs_run,
                        "seconds_per_epoch": pre["seconds_per_epoch"],
                        "cpu_seconds_per_epoch": pre["cpu_seconds_per_epoch"],
                        **cost,
                        "projected_minutes": projected_minutes(cfg, epochs_run, pre, cost),
                        "curve": pre["curve"],
                        "machine": machine(),
                    }
                )
                print(json.dumps({k: v for k, v in rows[-1].items() if k != "curve"}), flush=True)
            write_tables(out, rows, args.threads, command)
    print(write_tables(out, rows, args.threads, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
