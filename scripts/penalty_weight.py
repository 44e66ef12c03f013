"""Where D survives a gradient penalty: D's pre-training alone, over a sweep of penalty weights.

At weight 10 every penalty of the penalty study (results/penalty) made D a constant from its first
d-step: held-out loss ln 2, accuracy 0.5, every reward 0.5. A full run per weight costs 20-30 min of a
core; D's pre-training, from a finished run's pre-trained generator, costs a few minutes, and already
shows whether D separates held-out real from generated sequences (the full runs' round-0 evaluation
comes straight after it).

For each penalty, weight and seed: a fresh D (with seed S, the same initial weights as a run of
seed S: built after a generator from the seeded stream, as a run builds it), the run's D optimiser,
``train.pretrain_d_steps`` sets of fresh negatives from the run's pre-trained G, each trained for
``train.pretrain_d_epochs`` epochs, exactly as Algorithm 1's step 2. Then, in eval mode:
- D's cross-entropy on training data: the first ``train.num_negatives`` training sequences (each
  set trains on a random subset of that size) against the last set's negatives;
- its held-out cross-entropy and accuracy (held-out oracle sequences against fresh samples at
  ``eval.temperature``, as metrics.jsonl's ``d_loss`` / ``d_acc``);
- the mean norm of the one-hot input gradient of D's log-odds on those held-out real sequences,
  the quantity the zero-centred penalties push to 0.

    python scripts/penalty_weight.py results/penalty/none-seed0 --penalties r1,zero_gp,wgan_gp \
        --weights 0.01,0.1,1,10 --seeds 0 --threads 1 --out results/penalty/weights

Writes weights.json (after each finished cell, so an interrupted sweep continues where it stopped),
weights.md and weights.png into --out, and prints the table.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import torch

from seqgan.build import adam, build_discriminator, build_generator
from seqgan.data import oracle_corpus
from seqgan.lifecycle import load_run_models
from seqgan.metrics import discriminator_metrics
from seqgan.penalty import PENALTIES, input_gradients
from seqgan.runtime.hardware import machine, use_bf16
from seqgan.stats import mean_std
from seqgan.train import train_discriminator


def probe(
    run_dir: Path, penalty: str, weight: float, seed: int, data_dir: str | None = None, d_lr: float | None = None
) -> dict:
    """D's pre-training at ``penalty`` / ``weight`` from ``run_dir``'s pre-trained G (D's Adam rate:
    ``d_lr``, or the run's); its figures."""
    ckpt, cfg, oracle, _, generator = load_run_models(run_dir, data_dir, row="pretrained")
    if oracle is None:
        raise ValueError(f"{run_dir}: not a synthetic-data run (the probe's held-out set is the oracle's)")
    tc, dc = cfg.train, cfg.discriminator
    real, test = oracle_corpus(oracle, cfg.oracle.num_train, cfg.oracle.num_test, seed=cfg.oracle.seed)
    bf16 = use_bf16(dc.precision, torch.device("cpu"))
    torch.manual_seed(seed)
    build_generator(cfg, oracle.vocab_size)  # a run builds G first, from the same seeded stream
    discriminator = build_discriminator(cfg, oracle.vocab_size)
    optimizer = adam(discriminator.parameters(), dc.lr if d_lr is None else d_lr, tc.adam_epsilon)
    for _ in range(tc.pretrain_d_steps):
        negatives = generator.sample(tc.num_negatives)  # (num_negatives, T)
        train_discriminator(
            discriminator, optimizer, real, negatives, tc.pretrain_d_epochs, tc.batch_size, bf16, penalty, weight
        )
    discriminator.eval()
    train_loss, _ = discriminator_metrics(discriminator, real[: len(negatives)], negatives, bf16=bf16)
    samples = generator.sample(cfg.eval.num_samples, temperature=cfg.eval.temperature)
    held_out = test[: len(samples)]
    held_out_loss, held_out_acc = discriminator_metrics(discriminator, held_out, samples, bf16=bf16)
    onehot = torch.nn.functional.one_hot(held_out, oracle.vocab_size).float()  # (N, T, V)
    grad_norm = (
        torch.cat(
            [
                input_gradients(discriminator, onehot[i : i + 256], create_graph=False).square().sum(dim=(1, 2)).sqrt()
                for i in range(0, len(onehot), 256)
            ]
        )
        .mean()
        .item()
    )
    return {
        "penalty": penalty,
        "weight": weight,
        "seed": seed,
        "train_loss": train_loss,
        "held_out_loss": held_out_loss,
        "held_out_acc": held_out_acc,
        "gap": held_out_loss - train_loss,
        "grad_norm": grad_norm,
    }


def cells(penalties: list[str], weights: list[float], seeds: list[int]) -> list[tuple[str, float, int]]:
    """Every (penalty, weight, seed) to probe; 'none' once per seed, at weight 0."""
    out = []
    for penalty in penalties:
        for weight in [0.0] if penalty == "none" else weights:
            out.extend((penalty, weight, seed) for seed in seeds)
    return out


def table(records: list[dict]) -> str:
    """Mean +- std over seeds of each (penalty, weight)."""
    lines = [
        "| penalty | weight | seeds | D train-set loss | D held-out loss | gap (held-out − train) "
        "| D held-out accuracy | input-gradient norm (held-out real) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    groups: dict[tuple[str, float], list[dict]] = {}
    for r in records:
        groups.setdefault((r["penalty"], r["weight"]), []).append(r)
    for (penalty, weight), rs in groups.items():
        cells_ = []
        for key, digits in (("train_loss", 3), ("held_out_loss", 3), ("gap", 3), ("held_out_acc", 3), ("grad_norm", 3)):
            mean, std = mean_std([r[key] for r in rs])
            cells_.append(f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if len(rs) > 1 else ""))
        lines.append(
            f"| {penalty} | {'—' if penalty == 'none' else f'{weight:g}'} | {len(rs)} | " + " | ".join(cells_) + " |"
        )
    return "\n".join(lines)


def plot(records: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    panels = (
        ("train_loss", "D train-set loss"),
        ("held_out_acc", "D held-out accuracy"),
        ("grad_norm", "input-gradient norm (held-out real)"),
    )
    for ax, (key, title) in zip(axes, panels):
        for penalty in dict.fromkeys(r["penalty"] for r in records):
            rs = [r for r in records if r["penalty"] == penalty]
            if penalty == "none":
                ax.axhline(mean_std([r[key] for r in rs])[0], color="black", linestyle=":", label="none")
                continue
            weights = sorted({r["weight"] for r in rs})
            means = [mean_std([r[key] for r in rs if r["weight"] == w])[0] for w in weights]
            ax.plot(weights, means, marker="o", label=penalty)
        if key != "grad_norm":
            ax.axhline(0.6931 if key == "train_loss" else 0.5, color="grey", linewidth=0.8, label="constant D")
        else:
            ax.set_yscale("log")
        ax.set_xscale("log")
        ax.set_xlabel("gradient-penalty weight")
        ax.set_title(title)
        ax.legend()
    fig.suptitle("D after D pre-training, by gradient-penalty weight")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path, help="a finished run whose checkpoint holds the pre-trained generator")
    parser.add_argument("--penalties", default="none,r1,zero_gp,wgan_gp")
    parser.add_argument("--weights", default="0.01,0.1,1,10")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument(
        "--d-lr", type=float, default=None, help="D's Adam learning rate (default: the run's discriminator.lr)"
    )
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        penalties = [p for p in args.penalties.split(",") if p]
        unknown = [p for p in penalties if p not in PENALTIES]
        if unknown:
            raise ValueError(f"--penalties: unknown {', '.join(unknown)} (known: {', '.join(PENALTIES)})")
        weights = [float(w) for w in args.weights.split(",") if w]
        if any(w <= 0 for w in weights):
            raise ValueError(f"--weights: each weight must be > 0, got {args.weights}")
        seeds = [int(s) for s in args.seeds.split(",") if s]
        if args.d_lr is not None and args.d_lr <= 0:
            raise ValueError(f"--d-lr: D's learning rate must be > 0, got {args.d_lr:g}")
    except ValueError as e:
        raise SystemExit(f"penalty_weight: {e}") from None
    if args.threads:
        torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    store = args.out / "weights.json"
    saved = json.loads(store.read_text(encoding="utf-8")) if store.exists() else {}
    if saved and saved.get("run_dir") != str(args.run_dir):
        raise SystemExit(
            f"penalty_weight: {store} holds a sweep from {saved.get('run_dir')}, not {args.run_dir}; use another --out"
        )
    if saved and saved.get("d_lr") != args.d_lr:
        raise SystemExit(
            f"penalty_weight: {store} holds a sweep at --d-lr {saved.get('d_lr')}, not {args.d_lr}; use another --out"
        )
    records = saved.get("records", [])
    done = {(r["penalty"], r["weight"], r["seed"]) for r in records}
    todo = [c for c in cells(penalties, weights, seeds) if c not in done]
    command = "python scripts/penalty_weight.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    commands = saved.get("commands", [saved["command"]] if "command" in saved else [])
    if todo and command not in commands:  # each invocation that added cells
        commands.append(command)
    for i, (penalty, weight, seed) in enumerate(todo, 1):
        start = time.time()
        try:
            record = probe(args.run_dir, penalty, weight, seed, args.data_dir, args.d_lr)
        except ValueError as e:
            raise SystemExit(f"penalty_weight: {e}") from None
        record["seconds"] = round(time.time() - start, 1)
        records.append(record)
        partial = store.with_suffix(".json.tmp")  # replaced whole: a kill mid-write leaves the last good file
        partial.write_text(
            json.dumps(
                {
                    "run_dir": str(args.run_dir),
                    "d_lr": args.d_lr,
                    "commands": commands,
                    "machine": machine(),
                    "records": records,
                },
                indent=1,
            )
        )
        partial.replace(store)
        print(
            f"[{i}/{len(todo)}] {penalty} weight {weight:g} seed {seed}: held-out loss {record['held_out_loss']:.4f} "
            f"acc {record['held_out_acc']:.3f} grad norm {record['grad_norm']:.3g} ({record['seconds']:.0f}s)",
            flush=True,
        )
    text = (
        "# D after pre-training, by gradient-penalty weight\n\nCommands:\n\n"
        + "".join(f"    {c}\n" for c in commands)
        + f"\nMachine: {machine()}  \n"
        f"Generator: the pre-trained G of `{args.run_dir}`. D's Adam learning rate: "
        + (f"{args.d_lr:g} (--d-lr)" if args.d_lr else "the run's")
        + ". Losses are cross-entropy alone (no L2, no penalty), "
        "in eval mode; ln 2 = 0.693 and accuracy 0.5 are a D that says 0.5 to everything.\n\n" + table(records) + "\n"
    )
    (args.out / "weights.md").write_text(text, encoding="utf-8")
    plot(records, args.out / "weights.png")
    return text


if __name__ == "__main__":
    print(main())
