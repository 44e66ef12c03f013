"""Statistics over seeds: the unit of every test here is the seed, not the sequence."""

from __future__ import annotations

import math


def welch_p(a: list[float], b: list[float]) -> float:
    """Two-sided p-value of Welch's t-test (unequal variances); nan when it is undefined."""
    from scipy import stats

    if len(a) < 2 or len(b) < 2:
        return float("nan")
    result = stats.ttest_ind(a, b, equal_var=False)
    return float(result.pvalue)


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (n - 1); the std is nan for one value."""
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else float("nan")
    return mean, std


def format_p(p: float) -> str:
    """A p-value for a table: two significant digits, n/a when undefined."""
    if math.isnan(p):
        return "n/a"
    if p == 0.0:
        return "< 1e-300"  # below the smallest double
    return f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}"
