"""Small helpers the checks share: one-sided binomial and Poisson tail probabilities."""

from __future__ import annotations


def binom_greater(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p): how likely ``k`` or more by chance."""
    from scipy.stats import binom

    if k <= 0:
        return 1.0
    if p <= 0:
        return 0.0
    return float(binom.sf(k - 1, n, min(p, 1.0)))


def binom_less(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    from scipy.stats import binom

    if p >= 1:
        return 0.0 if k < n else 1.0
    return float(binom.cdf(k, n, max(p, 0.0)))


def poisson_two_sided(k: int, mu: float) -> float:
    """The one-sided Poisson tail in the direction of ``k`` against the mean ``mu``."""
    from scipy.stats import poisson

    if mu <= 0:
        return 0.0 if k > 0 else 1.0
    return float(poisson.cdf(k, mu) if k < mu else poisson.sf(k - 1, mu))
