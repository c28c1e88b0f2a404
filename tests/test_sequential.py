"""The always-valid (mSPRT) p-value: closed form, monotonicity, false alarms under
no difference (simulated A/A streams on daily aggregates) and power."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy import integrate, stats

from analytics.stats import sequential as sq


def _stream(rng, days=30, per_day=300, p=(0.1, 0.1)):
    """Daily aggregates of two Bernoulli arms: (n, sum, sumsq) per arm and day."""
    nb, nc = rng.poisson(per_day, days), rng.poisson(per_day, days)
    xb, xc = rng.binomial(nb, p[0]), rng.binomial(nc, p[1])
    return [(a, b, b, c, d, d) for a, b, c, d in zip(nb, xb, nc, xc)]


def test_mixture_lr_is_the_normal_mixture_integral():
    d, v, tau = 0.013, 0.00004, 0.01
    num = integrate.quad(lambda th: stats.norm.pdf(d, th, math.sqrt(v)) * stats.norm.pdf(th, 0, tau),
                         -0.2, 0.2, points=[0.0, d], limit=200)[0]
    assert sq.mixture_lr(d, v, tau) == pytest.approx(num / stats.norm.pdf(d, 0, math.sqrt(v)), rel=1e-7)


def test_confidence_sequence_matches_the_p_value():
    """theta = 0 is at the interval's edge exactly when 1/LR(0) = alpha."""
    v, tau, alpha = 0.0001, 0.02, 0.05
    hw = sq.cs_half_width(v, tau, alpha)
    assert 1 / sq.mixture_lr(hw, v, tau) == pytest.approx(alpha, rel=1e-9)


def test_false_alarm_rate_under_no_difference():
    """200 A/A streams of 30 daily looks: the share that ever reaches alpha stays
    under alpha (plus sampling tolerance), while a naive daily z test inflates it."""
    rng = np.random.default_rng(2026)
    crossed = naive = 0
    for _ in range(200):
        daily = _stream(rng)
        res = sq.two_sample([None] * 30, daily)
        crossed += res.significant
        a = np.cumsum(np.array(daily, dtype=float), axis=0)
        p1, p2 = a[:, 1] / a[:, 0], a[:, 4] / a[:, 3]
        pool = (a[:, 1] + a[:, 4]) / (a[:, 0] + a[:, 3])
        z = (p2 - p1) / np.sqrt(pool * (1 - pool) * (1 / a[:, 0] + 1 / a[:, 3]))
        naive += bool((2 * stats.norm.sf(np.abs(z)) < 0.05).any())
    assert crossed / 200 <= 0.05 + 0.03
    assert naive / 200 > 0.10          # the problem the method solves


def test_paired_false_alarm_rate():
    rng = np.random.default_rng(7)
    crossed = 0
    for _ in range(200):
        n = rng.poisson(200, 30)
        d = [rng.normal(0.0, 1.0, k) for k in n]
        res = sq.paired([None] * 30, [(len(x), x.sum(), (x * x).sum()) for x in d])
        crossed += res.significant
    assert crossed / 200 <= 0.05 + 0.03


def test_detects_a_real_difference_and_never_rises():
    rng = np.random.default_rng(1)
    days = [dt.date(2026, 3, 2) + dt.timedelta(days=i) for i in range(30)]
    res = sq.two_sample(days, _stream(rng, p=(0.10, 0.14)))
    ps = [lk.p_value for lk in res.looks if lk.p_value is not None]
    assert all(a >= b for a, b in zip(ps, ps[1:]))
    assert res.significant and res.first_significant_day is not None
    cur = res.current
    assert cur.ci_low < 0.04 < cur.ci_high and cur.ci_low > 0     # the interval covers the truth, not 0
    d = res.to_dict()
    assert d["p_value"] == ps[-1] and d["first_significant_day"] == res.first_significant_day.isoformat()


def test_too_few_rows_gives_a_reason():
    res = sq.two_sample([None] * 3, [(5, 1, 1, 5, 2, 2)] * 3)
    assert res.p_value is None and "fewer than 30" in res.reason
