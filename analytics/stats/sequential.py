"""Always-valid inference for a running A/B test: the mixture SPRT (mSPRT).

A fixed-horizon p-value read every day and acted on as soon as it dips under
``alpha`` raises false alarms far above ``alpha`` (ten looks give ~20% at
``alpha = 0.05``). The mixture sequential probability ratio test of Johari,
Koomen, Pekelis and Walsh ("Peeking at A/B tests", KDD 2017) gives instead a
p-value sequence that is valid at every look at once:
``P(exists n: p_n <= alpha | no difference) <= alpha``.

Method (per look ``n``, on cumulative data):

* ``d_n`` is the estimated difference (candidate minus baseline) of a per-row
  mean (a rate, an error, a loss) and ``V_n`` its variance: ``s_b^2/n_b +
  s_c^2/n_c`` for two independent arms, ``s_d^2/n`` for paired differences.
* With a normal mixing distribution ``N(0, tau^2)`` over the true difference
  the mixture likelihood ratio against "no difference" is, in closed form,
  ``L_n = sqrt(V_n / (V_n + tau^2)) * exp(d_n^2 tau^2 / (2 V_n (V_n + tau^2)))``.
* The always-valid p-value is ``p_n = min(1, min_{k <= n} 1 / L_k)`` (it never
  goes up), and the confidence sequence is the set of differences ``theta``
  the same test would not reject, ``d_n +- sqrt(V_n (V_n + tau^2) / tau^2 *
  (log((V_n + tau^2) / V_n) + 2 log(1 / alpha)))`` at each look (each look's
  own interval is reported, not the running intersection: when the true
  difference moves over time -- a drift -- the intersection can come out
  empty, and the latest interval is the useful one).

The normal likelihood is the large-sample (CLT) approximation, as in the
paper's treatment of conversion rates; with daily looks over a few hundred
rows a day the false-alarm rate stays at or under ``alpha`` (tested by
simulation in ``tests/test_sequential.py``).

Mixing variance: ``tau`` is the size of difference the test is tuned to
detect fastest. Lastmile sets ``tau = tau_rel * sigma``, with ``sigma`` the
pooled per-row standard deviation measured at the *first* look that has at
least ``min_rows`` rows per arm, and keeps it fixed after that (so yesterday's
p-values never change when today's data arrives). ``tau_rel`` defaults to
0.1, a "small" standardised effect; ``[models.compare] sequential_tau``
changes it. A larger ``tau`` reacts faster to big differences and slower to
small ones; validity holds for any fixed choice.

Everything here works on aggregates (counts, sums, sums of squares per day),
so it is pure Python and fast; :mod:`analytics.analyses.compare` gets the daily
aggregates from the engine.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from typing import Any, Sequence

from analytics.results import record

#: Default mixing standard deviation, relative to the per-row standard deviation.
DEFAULT_TAU_REL = 0.1
#: Rows per arm needed before the mixing scale is fixed and looks are reported.
DEFAULT_MIN_ROWS = 30


@dataclass(frozen=True)
class Look:
    """One daily look: cumulative counts and the always-valid answer so far."""

    day: _dt.date | None
    n_baseline: int
    n_candidate: int
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None

    def to_dict(self) -> dict[str, Any]:
        return record(self, day=self.day.isoformat() if self.day else None)


@dataclass(frozen=True)
class SequentialResult:
    """The always-valid p-value and confidence sequence, look by look."""

    metric: str
    method: str
    alpha: float
    tau: float | None
    looks: tuple[Look, ...]
    reason: str | None = None

    @property
    def current(self) -> Look | None:
        return self.looks[-1] if self.looks else None

    @property
    def p_value(self) -> float | None:
        return self.current.p_value if self.current else None

    @property
    def significant(self) -> bool:
        """Has the always-valid p-value reached ``alpha`` (at any look so far)?"""
        return self.p_value is not None and self.p_value <= self.alpha

    @property
    def first_significant_day(self) -> _dt.date | None:
        for lk in self.looks:
            if lk.p_value is not None and lk.p_value <= self.alpha:
                return lk.day
        return None

    def to_dict(self) -> dict[str, Any]:
        cur = self.current
        fsd = self.first_significant_day
        return {"metric": self.metric, "method": self.method, "alpha": self.alpha, "tau": self.tau,
                "p_value": self.p_value, "delta": cur.delta if cur else None,
                "ci_low": cur.ci_low if cur else None, "ci_high": cur.ci_high if cur else None,
                "significant": self.significant,
                "first_significant_day": fsd.isoformat() if fsd else None,
                "looks": [lk.to_dict() for lk in self.looks], "reason": self.reason}


def mixture_lr(delta: float, var: float, tau: float) -> float:
    """The mSPRT mixture likelihood ratio of "difference ``delta`` with variance ``var``"
    against "no difference", mixing over ``N(0, tau^2)`` (closed form, see module doc)."""
    t2 = tau * tau
    log_lr = 0.5 * math.log(var / (var + t2)) + delta * delta * t2 / (2.0 * var * (var + t2))
    return math.exp(min(log_lr, 700.0))


def cs_half_width(var: float, tau: float, alpha: float) -> float:
    """Half-width of the mSPRT confidence sequence at a look with variance ``var``."""
    t2 = tau * tau
    return math.sqrt(var * (var + t2) / t2 * (math.log((var + t2) / var) + 2.0 * math.log(1.0 / alpha)))


def _var(n: float, s: float, ss: float) -> float | None:
    """Sample variance (ddof=1) from count, sum and sum of squares."""
    if n < 2:
        return None
    return max((ss - s * s / n) / (n - 1), 0.0)


def always_valid(days: Sequence[_dt.date | None], ns: Sequence[tuple[int, int]],
                 deltas: Sequence[float | None], variances: Sequence[float | None],
                 sigmas: Sequence[float | None], alpha: float = 0.05,
                 tau_rel: float = DEFAULT_TAU_REL, min_rows: int = DEFAULT_MIN_ROWS,
                 metric: str = "", method: str = "mSPRT") -> SequentialResult:
    """The always-valid p-values and confidence sequence over cumulative looks.

    ``deltas``/``variances`` are each look's estimated difference and its
    variance; ``sigmas`` the pooled per-row standard deviation (fixes ``tau``
    at the first look where both arms have ``min_rows`` rows).
    """
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    tau = None
    p_run = 1.0
    looks = []
    for day, (nb, nc), d, v, sg in zip(days, ns, deltas, variances, sigmas):
        if tau is None and min(nb, nc) >= min_rows and sg:
            tau = tau_rel * sg
        if tau is None or d is None or not v:
            looks.append(Look(day, nb, nc, d, None, None, None if tau is None else p_run))
            continue
        p_run = min(p_run, 1.0 / mixture_lr(d, v, tau))
        hw = cs_half_width(v, tau, alpha)
        looks.append(Look(day, nb, nc, d, d - hw, d + hw, min(p_run, 1.0)))
    reason = None
    if tau is None:
        reason = f"fewer than {min_rows} labeled rows per side (or no variance) at every look"
    return SequentialResult(metric=metric, method=method, alpha=alpha, tau=tau, looks=tuple(looks), reason=reason)


def two_sample(days: Sequence[_dt.date | None],
               daily: Sequence[tuple[float, float, float, float, float, float]],
               alpha: float = 0.05, tau_rel: float = DEFAULT_TAU_REL,
               min_rows: int = DEFAULT_MIN_ROWS, metric: str = "") -> SequentialResult:
    """mSPRT for the difference of two independent means from *daily* aggregates
    ``(n_b, sum_b, sumsq_b, n_c, sum_c, sumsq_c)`` (accumulated here, day by day)."""
    acc = [0.0] * 6
    ns, ds, vs, sgs = [], [], [], []
    kept_days = []
    for day, row in zip(days, daily):
        acc = [a + float(x or 0) for a, x in zip(acc, row)]
        nb, sb, qb, nc, sc, qc = acc
        if nb == 0 or nc == 0:  # the test starts when both arms have rows
            continue
        kept_days.append(day)
        ns.append((int(nb), int(nc)))
        vb, vc = _var(nb, sb, qb), _var(nc, sc, qc)
        if vb is None or vc is None:
            ds.append(None); vs.append(None); sgs.append(None)
            continue
        ds.append(sc / nc - sb / nb)
        vs.append(vb / nb + vc / nc)
        sgs.append(math.sqrt(((nb - 1) * vb + (nc - 1) * vc) / (nb + nc - 2)))
    return always_valid(kept_days, ns, ds, vs, sgs, alpha, tau_rel, min_rows, metric,
                        "mSPRT, two independent samples, normal mixture")


def paired(days: Sequence[_dt.date | None], daily: Sequence[tuple[float, float, float]],
           alpha: float = 0.05, tau_rel: float = DEFAULT_TAU_REL,
           min_rows: int = DEFAULT_MIN_ROWS, metric: str = "") -> SequentialResult:
    """mSPRT for the mean of paired differences (candidate minus baseline per id)
    from daily aggregates ``(n, sum_d, sumsq_d)``."""
    acc = [0.0] * 3
    ns, ds, vs, sgs = [], [], [], []
    for row in daily:
        acc = [a + float(x or 0) for a, x in zip(acc, row)]
        n, s, q = acc
        ns.append((int(n), int(n)))
        v = _var(n, s, q)
        if v is None:
            ds.append(None); vs.append(None); sgs.append(None)
            continue
        ds.append(s / n)
        vs.append(v / n)
        sgs.append(math.sqrt(v))
    return always_valid(days, ns, ds, vs, sgs, alpha, tau_rel, min_rows, metric,
                        "mSPRT, paired differences, normal mixture")
