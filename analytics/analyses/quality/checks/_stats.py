"""Small helpers the checks share: the outside-the-bounds aggregate, one-sided binomial and Poisson tail probabilities
(``scipy.special``'s distribution functions: ``scipy.stats`` takes seconds to import)."""

from __future__ import annotations

import ibis

from ..registry import Measure


def outside_bounds(col, t, ref, cfg):
    """The period's aggregates for a check of values outside the reference's ``[lo, hi]``:
    ``valid`` (non-missing numbers) and ``out`` (how many fall outside; none when the
    reference had no values)."""
    x = col.num(t)
    out = {"valid": x.count()}
    if ref.get("lo") is None:
        return out
    lo, hi = ibis.literal(float(ref["lo"])), ibis.literal(float(ref["hi"]))
    out["out"] = ((x < lo) | (x > hi)).cast("int64").sum()
    return out


def outside_measure(cur, ref, bounds: str, names: tuple[str, str], expected: float, note: str = ""):
    """The finding of a check of values outside the reference's ``[lo, hi]`` (``bounds``
    says which, ``names`` are the JSON keys of ``lo`` and ``hi``): the share outside, and
    the one-sided binomial p-value against ``expected``, the share a new draw of an
    unchanged distribution would put outside."""
    if ref.get("lo") is None:
        return Measure(None, "no values in the reference")
    valid, k = int(cur["valid"] or 0), int(cur.get("out") or 0)
    if not valid:
        return Measure(None, "no values in the period")
    share = k / valid
    return Measure(share, f"{share:.2%} of values outside the reference's {bounds} "
                          f"[{ref['lo']:.6g}, {ref['hi']:.6g}]{note}",
                   {"share": share, "outside": k, "valid": valid, names[0]: ref["lo"], names[1]: ref["hi"]},
                   binom_greater(k, valid, expected))


def binom_greater(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p): how likely ``k`` or more by chance."""
    from scipy.special import bdtrc

    if k <= 0:
        return 1.0
    if p <= 0:
        return 0.0
    if p >= 1:
        return 1.0
    return float(bdtrc(k - 1, n, p))


def binom_less(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    from scipy.special import bdtr

    if k >= n or p <= 0:
        return 1.0
    if p >= 1:
        return 0.0
    return float(bdtr(k, n, p))


def poisson_two_sided(k: int, mu: float) -> float:
    """The one-sided Poisson tail in the direction of ``k`` against the mean ``mu``."""
    from scipy.special import pdtr, pdtrc

    if mu <= 0:
        return 0.0 if k > 0 else 1.0
    if k < mu:
        return float(pdtr(k, mu))
    return float(pdtrc(k - 1, mu)) if k > 0 else 1.0
