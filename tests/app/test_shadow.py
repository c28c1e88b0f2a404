"""The bundled sample's shadow (credit_default v3 re-scores half of v1's applicants):
the Value headline and the Operations traffic leave it out and say what they pool."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analytics.analyses.value import compute_value
from analytics.config.workspace import load_workspace
from analytics.log.engine import Engine
from analytics.metrics.compute import compute_metrics
from analytics.query.selection import Grouping, Selection
from analytics.render import format as F
from .conftest import APP_TIMEOUT, MAIN, ROOT, figures, metric_values, open_page, texts


SAMPLE = ROOT / "sample_data" / "lastmile.toml"
MODEL = "credit_default"


@pytest.fixture(scope="module")
def sample_engine():
    return Engine(load_workspace(SAMPLE))


@pytest.fixture
def sample_app(monkeypatch):
    monkeypatch.setenv("LASTMILE_CONFIG", str(SAMPLE))
    return AppTest.from_file(MAIN, default_timeout=APP_TIMEOUT)


def test_value_headline_leaves_the_shadow_out(sample_app, sample_engine):
    at = open_page(sample_app, "value", model=MODEL)
    res = compute_value(sample_engine, Selection.build(MODEL), Grouping(by=("version",)))
    t = res.totals
    assert t.shadow_versions == ("v3",)
    everything = sum(r.net_value for r in res.rows)
    shown = metric_values(at)
    assert shown["Net value"] == F.money(t.net_value, short=True)
    assert shown["Net value"] != F.money(everything, short=True)  # v3's value is not added
    assert shown["Compute cost"] == F.money(sum(r.compute_cost for r in res.rows))  # its cost is
    words = texts(at)
    assert "pooled over v1, v2 (serving); v3 (shadow) left out" in words
    assert "`v3`** is a shadow" in words and "Value if promoted" in words
    # the sample's ROI is above 1,000x: the tile shows compute's share of value, short enough to fit
    assert shown["Compute cost share"].endswith("%") and len(shown["Compute cost share"]) <= 9
    assert "×" not in shown["Compute cost share"] and "x" not in shown["Compute cost share"]


def test_operations_traffic_leaves_the_shadow_out(sample_app, sample_engine):
    at = open_page(sample_app, "operations", model=MODEL)
    weeks = compute_metrics(sample_engine, Selection.build(MODEL), Grouping(by=("period", "version")), ["volume"])
    serving = sum(r.n for r in weeks.rows if r.group["version"] != "v3")
    assert serving < sum(r.n for r in weeks.rows)
    volume = figures(at)[0]
    assert {t["name"] for t in volume["data"]} == {"v1", "v2"}
    assert sum(sum(t["y"]) for t in volume["data"]) == serving
    assert metric_values(at)["Predictions"] == F.count(serving)
    assert "pooled over v1, v2 (serving); v3 (shadow) left out" in texts(at)
