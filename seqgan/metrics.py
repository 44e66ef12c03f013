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
from .rollout import score_batch


def eval_batch(device: torch.device, row_size: int) -> int:
    """Sequences evaluated at once on ``device``: 256 on a CPU, where a batch's logits stay near the
    cache; on an accelerator, where each batch is a round of launches, as many as keep a batch's
    largest tensor within 2**27 elements (512 MiB in fp32), ``row_size`` elements a sequence (T x V
    for logits): 1,342 at T = 20, V = 5,000, so NLL-test of 10,000 is 8 batches instead of 40.
    The batch sums are added on the device in float64, so only their rounding changes."""
    return 256 if device.type == "cpu" else max(256, 2**27 // max(row_size, 1))


def nll_oracle(oracle: Oracle, samples: torch.Tensor) -> float:
    """The oracle's mean per-token NLL of ``samples`` (B, T), read to the host once."""
    device = oracle.embedding.device
    return oracle.nll(samples, batch_size=eval_batch(device, samples.shape[1] * oracle.vocab_size))


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


def nll_test(generator: Generator, test_data: torch.Tensor, temperature: float = 1.0) -> float:
    """The generator's mean per-token NLL of held-out oracle samples (T), under its distribution at
    ``temperature`` (the one its samples are drawn from), read to the host once."""
    device = generator.out.weight.device
    batch_size = eval_batch(device, test_data.shape[1] * generator.vocab_size)
    return generator.nll(test_data, batch_size=batch_size, temperature=temperature)


@torch.no_grad()
def discriminator_metrics(
    discriminator: Discriminator, real: torch.Tensor, fake: torch.Tensor, bf16: bool
) -> tuple[float, float]:
    """D's cross-entropy and accuracy on held-out real vs generated sequences (eval mode), in batches
    of ``rollout.score_batch`` (512 on a CPU, all of them on an accelerator) and one host read."""
    device = discriminator.out.weight.device
    batch_size = score_batch(device, 512, real.shape[1])
    p_real = torch.cat(
        [
            discriminator.prob_real(real, batch_size=batch_size, bf16=bf16),
            discriminator.prob_real(fake, batch_size=batch_size, bf16=bf16),
        ]
    ).clamp(1e-7, 1 - 1e-7)
    labels = torch.cat([torch.ones(len(real), device=device), torch.zeros(len(fake), device=device)])
    loss = -(labels * p_real.log() + (1 - labels) * (1 - p_real).log()).mean()
    acc = ((p_real > 0.5).float() == labels).float().mean()
    loss, acc = torch.stack([loss, acc]).tolist()
    return loss, acc


def real_data_metrics(
    reference, reference_rows: list[list[str]], hypotheses: list[list[str]], self_bleu_samples: int, music: bool
) -> dict[str, float]:
    """Real data: mean BLEU-2..n of ``hypotheses`` against a prepared ``bleu.BleuReference`` of the
    test split, Self-BLEU-2..n of the first ``self_bleu_samples`` and, for music, ``pitch_mse``."""
    from .bleu import self_bleu

    out = reference.mean_scores(hypotheses)
    out.update({f"self_{k}": v for k, v in self_bleu(hypotheses[:self_bleu_samples], max_n=reference.max_n).items()})
    if music:
        out["pitch_mse"] = pitch_mse(hypotheses, reference_rows)
    return out


def pitch_mse(hypotheses: list[list[str]], references: list[list[str]], rest: str = "0") -> float:
    """Music: mean over generated melodies of the squared pitch difference (semitones^2) to the
    nearest test melody, position by position over the steps where both sound a note.

    The paper reports an MSE for Nottingham citing Manaris et al. (2007) without a formula; this
    nearest-neighbour reading is ours, so its values are not comparable with the paper's.
    """
    import numpy as np

    def as_array(rows):
        width = max(len(r) for r in rows)
        out = np.full((len(rows), width), np.nan)
        for i, r in enumerate(rows):
            vals = [float(t) if t != rest and t.isdigit() else np.nan for t in r]
            out[i, : len(vals)] = vals
        return out

    hyps = [h for h in hypotheses if any(t != rest for t in h)]
    if not hyps or not references:
        return float("nan")
    h, r = as_array(hyps), as_array(references)
    width = max(h.shape[1], r.shape[1])
    h = np.pad(h, ((0, 0), (0, width - h.shape[1])), constant_values=np.nan)
    r = np.pad(r, ((0, 0), (0, width - r.shape[1])), constant_values=np.nan)
    best = []
    for row in h:
        sq = (r - row) ** 2  # (R, width), nan where either is silent
        counts = (~np.isnan(sq)).sum(axis=1)
        means = np.where(counts > 0, np.nansum(sq, axis=1) / np.maximum(counts, 1), np.inf)
        best.append(means.min())
    best = np.asarray(best)
    return float(best[np.isfinite(best)].mean()) if np.isfinite(best).any() else float("nan")


def read_metrics(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def plot_nll_oracle(
    records: list[dict], adversarial_start: int, out: str | Path, title: str = "", key: str = "nll_oracle"
) -> None:
    """NLL-oracle over training, SeqGAN and the baseline rows on one plot, a dashed line where
    adversarial training starts (the paper's Figure 2 form)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    pretrain = [(r["step"], r[key]) for r in records if r["phase"] == "pretrain"]
    styles = {
        "pretrain": ("MLE pre-training", "tab:gray"),
        "mle": ("MLE", "tab:blue"),
        "scheduled_sampling": ("SS", "tab:green"),
        "pg_bleu": ("PG-BLEU", "tab:purple"),
        "adversarial": ("SeqGAN", "tab:red"),
    }
    for phase, (label, color) in styles.items():
        points = [(r["step"], r[key]) for r in records if r["phase"] == phase]
        if phase != "pretrain" and pretrain and points and points[0][0] > pretrain[-1][0]:
            points = [pretrain[-1]] + points  # join the curves where the phases meet
        if points:
            xs, ys = zip(*points)
            ax.plot(xs, ys, label=label, color=color, marker="." if len(xs) < 40 else None)
    random = [r[key] for r in records if r["phase"] == "random"]
    if random:
        ax.axhline(random[-1], color="tab:brown", linestyle=":", linewidth=1, label="Random")
    ax.axvline(adversarial_start, color="black", linestyle="--", linewidth=1)
    ax.set_xlabel("MLE pre-training epochs, then adversarial rounds")
    ax.set_ylabel(f"{'NLL-oracle' if key == 'nll_oracle' else 'NLL-test'} (nats / token)")
    if title:
        ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
