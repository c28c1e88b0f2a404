"""Estimates on the dashboard: the overview and the portfolio draw them dashed with their band,
say "estimated", and never show an untrusted estimate as a measurement."""

from __future__ import annotations

import pytest
from analytics.analyses.estimate import estimate_performance
from analytics.query.selection import Grouping, Selection

from .conftest import figures, open_page


def _estimate_traces(fig):
    return [t for t in fig["data"] if "estimated" in str(t.get("name", ""))]


MODEL = "binary_model"


def test_overview_draws_the_unlabeled_weeks_as_estimates(app, app_engine):
    at = open_page(app, "overview")
    figs = [f for f in figures(at) if _estimate_traces(f)]
    assert len(figs) == 1
    fig = figs[0]
    dashed = [t for t in fig["data"] if t.get("line", {}).get("dash") == "dash"]
    bands = [t for t in fig["data"] if t.get("fill") == "toself"]
    assert dashed and bands and all("estimated" in t["name"] for t in dashed + bands)
    res = estimate_performance(app_engine, Selection.build(MODEL), Grouping(by=("period", "version")))
    last = max(r.group["period"] for r in res.rows)
    want = res.row(version="v1", period=last)
    (marks,) = [t for t in fig["data"] if t.get("mode") == "markers" and t["name"].startswith("v1")]
    assert marks["y"][-1] == pytest.approx(want.estimated["roc_auc"].value, abs=1e-12)
    assert ("NOT TRUSTED" in marks["text"][-1]) == (not want.reliable)
    text = "\n".join(m.value for m in at.markdown)
    assert f"**Estimated** ROC AUC for the week of {last}" in text
    assert ("**not trusted**" in text) == any(not r.reliable for r in res.rows if r.group["period"] == last)
    # the measured chart is still the first one, without estimates
    assert not _estimate_traces(figures(at)[0])


def test_portfolio_card_shows_the_latest_estimate(app):
    at = open_page(app, "portfolio")
    assert not at.exception
    captions = "\n".join(c.value for c in at.caption)
    figs = [f for f in figures(at) if _estimate_traces(f)]
    if "**Estimated**" in captions:     # the generated workspace has weeks without labels
        assert figs and any(t.get("line", {}).get("dash") == "dash" for f in figs for t in f["data"])
    else:
        pytest.fail("the portfolio shows no estimate: " + captions)
