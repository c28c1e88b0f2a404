"""The overview's per-class panel on the bundled sample's ticket_router (multiclass)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics.config.workspace import load_workspace
from analytics.log.engine import Engine
from analytics.metrics.perclass import compute_per_class
from analytics.query.selection import Grouping, Selection
from analytics.render import format as F
from .conftest import APP_TIMEOUT, MAIN, figures, open_page


SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "lastmile.toml"


@pytest.fixture
def router(monkeypatch):
    monkeypatch.setenv("LASTMILE_CONFIG", str(SAMPLE))
    return open_page(AppTest.from_file(MAIN, default_timeout=APP_TIMEOUT), "overview", model="ticket_router",
                     **{"from": "2026-06-01", "to": "2026-12-31"})


def _flat(rows) -> list:
    return [x for r in rows for x in r]


def _heatmap(at):
    maps = [f for f in figures(at) if any(t.get("type") == "heatmap" for t in f["data"])]
    assert len(maps) == 1
    return next(t for t in maps[0]["data"] if t["type"] == "heatmap")


def test_overview_shows_per_class_table_and_heat_map(router):
    at = router
    assert at.subheader and any(s.value == "Per class" for s in at.subheader)
    engine = Engine(load_workspace(SAMPLE))
    want = compute_per_class(engine, Selection.build("ticket_router", start="2026-06-01", end="2027-01-01"))
    row = want.rows[0]
    hm = _heatmap(at)
    assert hm["x"] == list(row.confusion.classes) == hm["y"]
    # row-normalised by default: each cell the share of its true class
    assert _flat(hm["z"]) == pytest.approx(_flat(row.confusion.row_normalized), abs=1e-9)
    frame = at.dataframe[-1].value
    tech = frame[frame["class"] == "technical"].iloc[0]
    assert tech["recall"] == F.pct(row.cls("technical").recall.value)
    assert int(tech["support"]) == row.cls("technical").support

    # counts, and one version: v1's technical tickets mostly go to account
    at.segmented_control(key="ov_pc_scale").set_value("Counts")
    at.selectbox(key="ov_pc_version").set_value("v1").run()
    assert not at.exception, [e.value for e in at.exception]
    v1 = compute_per_class(engine, Selection.build("ticket_router", start="2026-06-01", end="2027-01-01"),
                           Grouping(by=("version",))).row(version="v1")
    hm = _heatmap(at)
    assert hm["z"] == [list(r) for r in v1.confusion.counts]
    i, j = hm["y"].index("technical"), hm["x"].index("account")
    assert hm["z"][i][j] > hm["z"][i][i]
    assert at.query_params["pc_version"] == "v1" and at.query_params["pc_scale"] == "counts"
