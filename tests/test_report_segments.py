"""The report's weak segments: the serving versions over the report period, and only
what is significant (a sentence when nothing is)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from analytics.config.workspace import load_workspace
from analytics.log.engine import Engine
from analytics.render.report import model_input, sections
from analytics.render.report.svg import ChartSet
from .factories import make_workspace


SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "lastmile.toml"
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)


def _section(config: Path, model: str, start=None, end=None) -> dict:
    engine = Engine(load_workspace(config), snapshot=True)
    mi = model_input(engine, engine.spec(model), ChartSet(enabled=False), NOW, start, end)
    return sections.weak_segments(mi, {"kpis": {"versions": list(engine.versions(model))}})


def test_the_sample_finds_partner_for_the_serving_versions():
    """credit_default from v2's launch: v1 and v2 serve (v3, the shadow, is left out);
    channel = partner is the significantly weak segment."""
    s = _section(SAMPLE, "credit_default", "2026-07-20", "2026-11-23")
    assert s["version"] == "v1, v2"
    assert s["none"] is None and s["rows"], s
    assert s["rows"][0]["segment"] == "channel = partner"
    assert all(r["flag"] for r in s["rows"])          # only significant, worse segments are listed
    assert s["highlights"] and "channel = partner" in s["highlights"][0]


def test_no_significant_segment_is_a_sentence_not_a_list(tmp_path):
    g = make_workspace(tmp_path, "binary", n=3000, seed=5)   # segments drawn independently of the labels
    s = _section(g.config, "binary_model")
    assert s["rows"] == [] and s["none"] is not None
    assert s["none"].startswith("No segment is significantly worse than the rest in the report period")
    assert "q < 0.05" in s["none"]


def test_the_template_shows_the_sentence(tmp_path):
    from analytics.render.report import render_html

    g = make_workspace(tmp_path, "binary", n=3000, seed=5)
    s = _section(g.config, "binary_model")
    html = render_html({"portfolio": False, "charts_on": False, "title": "t", "sections": [s], "running": None},
                       "part.html.j2")
    assert "No segment is significantly worse" in html and "<table" not in html.split("Weak segments")[1]
