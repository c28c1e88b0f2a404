"""The Data quality page (app/views/quality.py) on the bundled sample: the heat map
lists delivery_eta's incidents worst first, the drill-down draws a row's history."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from .conftest import APP_TIMEOUT, MAIN, figures, open_page

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "lastmile.toml"


@pytest.fixture
def page(monkeypatch):
    monkeypatch.setenv("LASTMILE_CONFIG", str(SAMPLE))
    return open_page(AppTest.from_file(MAIN, default_timeout=APP_TIMEOUT), "quality", model="delivery_eta",
                     period="day", **{"from": "2026-07-01", "to": "2026-08-31"})


def _heatmap(at):
    maps = [t for f in figures(at) for t in f["data"] if t.get("type") == "heatmap"]
    assert len(maps) == 1
    return maps[0]


def test_quality_page_heat_map_worst_first_and_history(page):
    at = page
    hm = _heatmap(at)
    top = hm["y"][:4]
    assert set(top) == {"out_of_quantiles · distance_km", "out_of_range · distance_km", "scale · distance_km",
                        "volume · all versions"}
    row = hm["y"].index("volume · all versions")
    col = hm["x"].index("2026-07-08")
    assert hm["z"][row][col] == 2 and "0.03x" in hm["customdata"][row][col]
    problems = at.dataframe[-1].value
    assert set(problems["check"]) == {"out_of_quantiles", "out_of_range", "scale", "volume"}
    assert set(problems["level"]) == {"pull"}
    at.selectbox(key="dq_row").set_value("scale · distance_km").run()
    assert not at.exception, [e.value for e in at.exception]
    hist = [f for f in figures(at) if any(t.get("type") == "scatter" for t in f["data"])][-1]
    line = next(t for t in hist["data"] if t.get("name") == "observed")
    assert max(y for y in line["y"] if y is not None) > 500 and len(line["x"]) == 62
