"""Small statistics helpers shared by the tests."""

from __future__ import annotations

import math

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
