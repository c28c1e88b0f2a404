"""How the return on compute reads: ``format.value_for_money`` over every case."""

from __future__ import annotations

import math

import pytest

from analytics.render import format as F


@pytest.mark.parametrize("net, cost, currency, long, short", [
    # a reader's ratio below 1,000x: what each unit of compute returns (lift / cost = roi + 1)
    (37.0, 1.0, "USD", "$1 of compute returns $38", "$38 per $1"),
    (0.35, 1.0, "USD", "$1 of compute returns $1.35", "$1.35 per $1"),
    (999.0, 1.0, "USD", "$1 of compute returns $1,000", "$1,000 per $1"),
    (1000.0, 1.0, "EUR", "€1 of compute returns €1,001", "€1,001 per €1"),
    (370.0, 10.0, "CHF", "1 CHF of compute returns 38 CHF", "38 CHF per 1 CHF"),
    # above 1,000x: the compute cost's share of the value (cost / lift), never "435k x"
    (1001.0, 1.0, "USD", "compute cost is 0.1% of value", "cost 0.1% of value"),
    (13_130_439.0, 36.05, "USD", "compute cost is 0.00027% of value", "cost 0.00027% of value"),
    (435_000.0 * 2.0, 2.0, "USD", "compute cost is 0.00023% of value", "cost 0.00023% of value"),
    (1e12, 1e-3, "USD", "compute cost is under 0.0001% of value", "cost under 0.0001% of value"),
    # no ratio to speak of
    (5.0, 0.0, "USD", "no compute cost", "no compute cost"),
    (-5.0, 0.0, "USD", "no compute cost", "no compute cost"),
    (-5.0, 1.0, "USD", "costs more than it earns", "costs more than it earns"),
    (-0.5, 1.0, "USD", "costs more than it earns", "costs more than it earns"),
    (0.0, 1.0, "USD", "breaks even", "breaks even"),
    # unknown
    (None, 1.0, "USD", F.MISSING, F.MISSING),
    (1.0, None, "USD", F.MISSING, F.MISSING),
    (math.nan, 1.0, "USD", F.MISSING, F.MISSING),
    (math.inf, 1.0, "USD", F.MISSING, F.MISSING),
])
def test_value_for_money(net, cost, currency, long, short):
    assert F.value_for_money(net, cost, currency) == long
    assert F.value_for_money(net, cost, currency, short=True) == short


@pytest.mark.parametrize("roi", [0.01, 1.0, 37.0, 999.9, 1000.0, 1000.1, 5e3, 4.35e5, 1e9])
def test_no_bare_ratio_above_a_thousand(roi):
    text = F.value_for_money(roi * 3.0, 3.0)
    assert "×" not in text and "x" not in text.replace("compute", "")
    if roi > F.ROI_SHARE_ABOVE:
        assert text.startswith("compute cost is ") and text.endswith("% of value")
        share = 100.0 / (roi + 1.0)
        shown = text.removeprefix("compute cost is ").removesuffix("% of value")
        if shown.startswith("under "):
            assert share < float(shown.removeprefix("under "))
        else:
            assert float(shown) == pytest.approx(share, rel=0.05)
    else:
        assert text.startswith("$1 of compute returns $")
        assert float(text.rsplit("$", 1)[1].replace(",", "")) == pytest.approx(roi + 1.0, rel=0.01, abs=0.006)
