"""Reasons on the dashboard are rounded for people (the one formatter): the overview's
health panel on the bundled sample (the portfolio's plain findings: tests/test_health.py)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from ..test_format import too_precise
from .conftest import APP_TIMEOUT, MAIN, open_page

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "lastmile.toml"


def test_health_panel_reasons_are_rounded(monkeypatch):
    monkeypatch.setenv("LASTMILE_CONFIG", str(SAMPLE))
    at = open_page(AppTest.from_file(MAIN, default_timeout=APP_TIMEOUT), "overview", model="delivery_eta")
    panel = [ln for md in at.markdown for ln in str(md.value).splitlines()
             if ln.startswith("- :") and "-badge[" in ln]
    # delivery_eta's health on the sample: the drop of its MAE (pull), with its numbers, window and level
    drops = [ln for ln in panel if "mae rose from" in ln]
    assert drops and all("% worse" in ln and "p = " in ln and "level" in ln for ln in drops), panel
    assert not [t for ln in panel for t in too_precise(ln)], panel
