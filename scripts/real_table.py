"""Summarise real-data runs: MLE against SeqGAN with each task's metrics, and a few decoded samples.

python scripts/real_table.py results/real/poems results/real/obama ... > results/real/table.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

PAPER_METRIC = {
    "poems": "BLEU-2",
    "obama": "BLEU-3, BLEU-4",
    "nottingham": "BLEU-4, MSE",
    "coco": "BLEU-2..5 (Texygen)",
}
KEYS = [
    ("nll_test", "NLL-test"),
    ("bleu2", "BLEU-2"),
    ("bleu3", "BLEU-3"),
    ("bleu4", "BLEU-4"),
    ("bleu5", "BLEU-5"),
    ("self_bleu2", "Self-BLEU-2"),
    ("self_bleu3", "Self-BLEU-3"),
    ("self_bleu4", "Self-BLEU-4"),
    ("self_bleu5", "Self-BLEU-5"),
    ("pitch_mse", "pitch MSE"),
]


def main(run_dirs: list[str]) -> None:
    print("# Real data: MLE against SeqGAN\n")
    for run in map(Path, run_dirs):
        task = run.name
        cfg = yaml.safe_load((run / "config.yaml").read_text())
        results = json.loads((run / "results.json").read_text())
        stats = json.loads((run / "data_stats.json").read_text())
        rows = results["rows"]
        keys = [(k, label) for k, label in KEYS if any(k in r for r in rows.values())]
        tc = cfg["train"]
        print(f"## {task} (the paper's metric: {PAPER_METRIC.get(task, 'BLEU')})\n")
        print(
            f"Command: `seqgan train configs/{task}.yaml --data-dir ../shared/data --seed {cfg['seed']} "
            f"--set threads=1 --run-dir results/real/{task}`  "
        )
        print(
            f"Data: {stats['train']['sequences_out']} training rows, "
            f"{stats['test']['sequences_out']} test rows of T = "
            f"{cfg['data']['max_len']}, vocabulary {stats['vocab']['size']}; "
            f"budget: {tc['pretrain_g_epochs']} MLE epochs, "
            f"{tc['pretrain_d_steps']} D pre-training sets, {tc['rounds']} rounds "
            f"({tc['d_steps']} d-steps x {tc['d_epochs']} "
            f"epochs on {tc['num_negatives']} fresh negatives); "
            f"{cfg['eval']['num_samples']} samples per evaluation, "
            f"Self-BLEU on the first {cfg['eval']['self_bleu_samples']}; "
            f"{results['seconds'] / 60:.0f} min of wall time "
            f"(one thread, sharing the 2 cores with up to nine other runs)\n"
        )
        print("| model | " + " | ".join(label for _, label in keys) + " |")
        print("| --- |" + " ---: |" * len(keys))
        for name in ("pretrained", "MLE", "SeqGAN"):
            if name in rows:
                print(
                    f"| {name} | "
                    + " | ".join(f"{rows[name][k]:.3f}" if k in rows[name] else "" for k, _ in keys)
                    + " |"
                )
        print()
        for label, path in (("SeqGAN", run / "samples_text.txt"), ("MLE", run / "samples_mle_text.txt")):
            if path.exists():
                lines = path.read_text(encoding="utf-8").splitlines()[:4]
                print(f"{label} samples (the first four of `{path.name}`):\n")
                print("```")
                print("\n".join(lines))
                print("```\n")


if __name__ == "__main__":
    main(sys.argv[1:])
