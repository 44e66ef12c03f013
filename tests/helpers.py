"""Small helpers shared by the tests: statistics, and tiny corpora."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np


def assert_frequencies(counts, probs, z: float = 5.0, what: str = "frequencies") -> None:
    """Empirical ``counts`` (V,) agree with ``probs`` (V,): every category within ``z`` standard
    errors, a chi-square statistic within ``z`` of its mean, and categories of probability 0 never
    drawn."""
    counts = np.asarray(counts, dtype=np.float64)
    probs = np.asarray(probs, dtype=np.float64)
    assert counts.shape == probs.shape, (counts.shape, probs.shape)
    assert abs(probs.sum() - 1.0) < 1e-6, probs.sum()
    n = counts.sum()
    zero = probs == 0
    assert counts[zero].sum() == 0, f"{what}: drew categories of probability 0: {np.flatnonzero(zero & (counts > 0))}"
    expected = n * probs
    sd = np.sqrt(n * probs * (1 - probs))
    worst = np.max(np.abs(counts - expected)[~zero] / (sd[~zero] + 1e-12))
    assert worst < z, f"{what}: a category is {worst:.1f} standard errors off (counts {counts}, expected {expected})"
    keep = expected > 5
    dof = max(int(keep.sum()) - 1, 1)
    chi2 = float((((counts - expected) ** 2)[keep] / expected[keep]).sum())
    assert chi2 < dof + z * math.sqrt(2 * dof), f"{what}: chi-square {chi2:.1f} for {dof} degrees of freedom"


def write_tiny_captions(
    folder: Path, seed: int, words: list[str], lengths: tuple[int, int], num_lines: int, num_train: int
) -> tuple[Path, Path]:
    """A caption-like corpus for the Texygen recipe's tests: ``num_lines`` lines of ``lengths`` (low, high)
    words drawn from ``words`` by a seeded RNG; the first ``num_train`` are train.txt, the rest test.txt."""
    rng = random.Random(seed)
    lines = [" ".join(rng.choice(words) for _ in range(rng.randint(*lengths))) for _ in range(num_lines)]
    (folder / "train.txt").write_text("\n".join(lines[:num_train]) + "\n")
    (folder / "test.txt").write_text("\n".join(lines[num_train:]) + "\n")
    return folder / "train.txt", folder / "test.txt"
