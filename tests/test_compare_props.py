"""Properties of the pure statistics behind compare (hypothesis, modest example counts)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.stats import sequential as sq, twosample as stats

pvals = st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(pvals)
def test_bh_is_monotone_and_above_raw(p):
    adj = stats.benjamini_hochberg(p)
    assert all(a >= x - 1e-15 and a <= 1.0 for a, x in zip(adj, p))
    order = sorted(range(len(p)), key=lambda i: p[i])
    assert all(adj[order[i]] <= adj[order[i + 1]] + 1e-15 for i in range(len(p) - 1))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 60), st.integers(0, 60), st.integers(0, 400))
def test_mcnemar_is_symmetric_and_valid(b, c, extra):
    n = b + c + extra
    if n == 0:
        return
    t1, t2 = stats.mcnemar(b, c, n), stats.mcnemar(c, b, n)
    assert abs(t1.p_value - t2.p_value) < 1e-12 and 0.0 <= t1.p_value <= 1.0
    assert abs(t1.delta + t2.delta) < 1e-15 and t1.ci_low <= t1.delta <= t1.ci_high


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 300), st.integers(0, 300), st.integers(0, 300), st.integers(0, 300)),
                min_size=1, max_size=20))
def test_always_valid_p_never_rises(days):
    daily = [(nb, min(xb, nb), min(xb, nb), nc, min(xc, nc), min(xc, nc)) for nb, xb, nc, xc in days]
    res = sq.two_sample([None] * len(daily), daily)
    ps = [lk.p_value for lk in res.looks if lk.p_value is not None]
    assert all(0.0 <= p <= 1.0 for p in ps) and all(a >= b for a, b in zip(ps, ps[1:]))
