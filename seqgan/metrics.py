"""Evaluation: NLL-oracle (quality), NLL-test (coverage), D's accuracy, and the training plot.

NLL-oracle is the oracle's mean per-token NLL (nats) of sequences sampled from the model judged
(the paper's synthetic metric). NLL-test is the model's own per-token NLL of held-out oracle
samples; a generator that collapses onto a few likely sequences scores well on the first and
badly on the second, so both are always reported.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from .discriminator import Discriminator
from .generator import Generator
from .oracle import Oracle


def nll_oracle(oracle: Oracle, samples: torch.Tensor) -> float:
    """The oracle's mean per-token NLL of ``samples`` (B, T)."""
    return oracle.nll(samples.cpu())


def nll_oracle_ragged(oracle: Oracle, seqs: list[list[int]]) -> float:
    """NLL-oracle of sequences of any lengths: the mean over all their tokens."""
    total, count = 0.0, 0
    for i in range(0, len(seqs), 256):
        chunk = seqs[i : i + 256]
        width = max(len(s) for s in chunk)
        padded = torch.zeros(len(chunk), width, dtype=torch.long)
        mask = torch.zeros(len(chunk), width)
        for row, s in enumerate(chunk):
            padded[row, : len(s)] = torch.tensor(s)
            mask[row, : len(s)] = 1.0
        total += oracle.token_nll(padded, mask).sum().item()
        count += int(mask.sum().item())
    return total / count


def nll_test(generator: Generator, test_data: torch.Tensor) -> float:
    """The generator's mean per-token NLL of held-out oracle samples (T)."""
    return generator.nll(test_data)


@torch.no_grad()
def discriminator_metrics(discriminator: Discriminator, real: torch.Tensor, fake: torch.Tensor, bf16: bool) -> tuple[float, float]:
    """D's cross-entropy and accuracy on held-out real vs generated sequences (eval mode)."""
    p_real = torch.cat([
        discriminator.prob_real(real, bf16=bf16), discriminator.prob_real(fake, bf16=bf16)
    ]).clamp(1e-7, 1 - 1e-7)
    labels = torch.cat([torch.ones(len(real)), torch.zeros(len(fake))]).to(p_real.device)
    loss = -(labels * p_real.log() + (1 - labels) * (1 - p_real).log()).mean().item()
    acc = ((p_real > 0.5).float() == labels).float().mean().item()
    return loss, acc


def read_metrics(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def plot_nll_oracle(records: list[dict], adversarial_start: int, out: str | Path, title: str = "") -> None:
    """NLL-oracle over training, SeqGAN and the baseline rows on one plot, a dashed line where
    adversarial training starts (the paper's Figure 2 form)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    pretrain = [(r["step"], r["nll_oracle"]) for r in records if r["phase"] == "pretrain"]
    styles = {
        "pretrain": ("MLE pre-training", "tab:gray"), "mle": ("MLE", "tab:blue"),
        "scheduled_sampling": ("SS", "tab:green"), "pg_bleu": ("PG-BLEU", "tab:purple"), "adversarial": ("SeqGAN", "tab:red"),
    }
    for phase, (label, color) in styles.items():
        points = [(r["step"], r["nll_oracle"]) for r in records if r["phase"] == phase]
        if phase != "pretrain" and pretrain and points and points[0][0] > pretrain[-1][0]:
            points = [pretrain[-1]] + points  # join the curves where the phases meet
        if points:
            xs, ys = zip(*points)
            ax.plot(xs, ys, label=label, color=color, marker="." if len(xs) < 40 else None)
    random = [r["nll_oracle"] for r in records if r["phase"] == "random"]
    if random:
        ax.axhline(random[-1], color="tab:brown", linestyle=":", linewidth=1, label="Random")
    ax.axvline(adversarial_start, color="black", linestyle="--", linewidth=1)
    ax.set_xlabel("MLE pre-training epochs, then adversarial rounds")
    ax.set_ylabel("NLL-oracle (nats / token)")
    if title:
        ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
