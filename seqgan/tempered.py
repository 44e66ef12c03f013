"""The tempered start: the pre-trained generator swept over sampling temperature, and read where it
matches a trained model, the control that a GAN's gain in quality has to beat.

Caccia et al. (ICLR 2020, "Language GANs falling short") show that cooling an MLE model trades
diversity for quality along a curve, and that a GAN's BLEU gain can be a move along that curve. A
model is compared with the curve of the generator it started from, at its own diversity (Self-BLEU)
or its own NLL-test: ``sweep`` draws the curve, ``curve_at`` and ``read_at`` read it, and ``gap``
is the model minus that control, on a scale where negative is better in every metric.

The run's final table (``reporting.finish``) and the real-data study (``studies/real.py``) both
read their tempered controls here.

Shapes: N samples, T sequence length.
"""

from __future__ import annotations

import re

import torch

from . import metrics
from .bleu import BleuReference
from .corpus import Vocab
from .generator import Generator


def gap(metric: str, model: float, control: float) -> float:
    """The model minus its control, on a scale where lower is better, so that a negative gap is better in
    every metric: NLL-test, Self-BLEU and pitch MSE as they are, BLEU-n as 1 - BLEU-n."""
    return control - model if re.fullmatch(r"bleu\d+", metric) else model - control


def curve_at(points: list[dict], x_key: str, y_key: str, x: float) -> float | None:
    """``y_key`` of a tempered curve at ``x_key`` = ``x``, by linear interpolation between the first
    two neighbouring temperatures (from the coldest) that bracket ``x``; None where none do.

    For NLL-test the curve is cut at the temperature of lowest NLL-test: below it cooling trades
    coverage for quality (sharpening); past it heating costs both, and the curve folds back.
    """
    pts = sorted(points, key=lambda p: p["temperature"])
    if x_key == "nll_test":
        pts = pts[: min(range(len(pts)), key=lambda i: pts[i]["nll_test"]) + 1]
    for p0, p1 in zip(pts, pts[1:]):
        x0, x1 = p0[x_key], p1[x_key]
        if min(x0, x1) <= x <= max(x0, x1):
            return p0[y_key] if x1 == x0 else p0[y_key] + (p1[y_key] - p0[y_key]) * (x - x0) / (x1 - x0)
    return None


def read_at(points: list[dict], x_key: str, x: float) -> dict | None:
    """Every number of a tempered curve, its temperature included, where ``x_key`` = ``x`` (``curve_at``);
    None where no two neighbouring temperatures bracket ``x``."""
    keys = [k for k, v in points[0].items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    at = {k: curve_at(points, x_key, k, x) for k in keys}
    return None if at["temperature"] is None else at


@torch.no_grad()
def sweep(
    generator: Generator,
    temperatures: list[float],
    num_samples: int,
    seed: int,
    test: torch.Tensor,
    vocab: Vocab,
    reference: BleuReference,
    reference_rows: list[list[str]],
    self_bleu_samples: int,
    music: bool = False,
) -> tuple[list[dict], list[list[list[str]]]]:
    """``generator`` at each temperature, scored as ``reporting.evaluate`` scores a run's evaluation: NLL-test
    under the tempered distribution, BLEU-2..n of ``num_samples`` samples against ``reference`` (the
    test split's), Self-BLEU-2..n of the first ``self_bleu_samples`` and, for music, pitch MSE.

    Every temperature draws from the same seed (common random numbers); the caller's random state is
    left as it was.

    Args:
        generator: the generator to sweep (the pre-trained G of a run).
        temperatures: the sampling temperatures, in the order the points are returned.
        num_samples: N samples a temperature.
        seed: the seed of every temperature's draw.
        test: (M, T) test ids, for NLL-test.
        vocab: decodes the samples.
        reference: BLEU's prepared test references.
        reference_rows: the test split's token rows (pitch MSE's references).
        self_bleu_samples: Self-BLEU over the first this many samples.
        music: whether to add pitch MSE.
    Returns:
        The points [{"temperature", "nll_test", "bleu2", ..., "self_bleu2", ...}] and each point's decoded
        samples (N lists of tokens).
    """
    device = generator.out.weight.device
    points, decoded = [], []
    for tau in temperatures:
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed)
            samples = generator.sample(num_samples, temperature=tau)  # (N, T)
        hypotheses = [vocab.decode(row) for row in samples.tolist()]
        point = {"temperature": tau, "nll_test": metrics.nll_test(generator, test, tau)}
        point.update(metrics.real_data_metrics(reference, reference_rows, hypotheses, self_bleu_samples, music))
        points.append(point)
        decoded.append(hypotheses)
    return points, decoded
