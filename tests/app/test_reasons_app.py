"""Reasons on the dashboard are rounded for people (the one formatter): the overview's
health panel and the portfolio's findings, on the bundled sample."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from .conftest import APP_TIMEOUT, MAIN, open_page

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "lastmile.toml"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?")


def significant_digits(token: str) -> int:
    """Significant digits of a decimal number as shown (integers, i.e. counts, give 0)."""
    mantissa = token.lstrip("+-").split("e")[0].replace(",", "")
    if "." not in mantissa and "e" not in token:
        return 0
    return len(mantissa.replace(".", "").lstrip("0"))


def test_significant_digits_counts_what_a_reader_sees():
    assert [significant_digits(t) for t in ("0.7787", "-0.0534", "147", "2.65", "4.7e-142", "12,345")] \
        == [4, 3, 0, 3, 2, 0]


def _too_precise(text: str) -> list[str]:
    return [t for t in _NUMBER.findall(_DATE.sub("", text)) if significant_digits(t) > 3]


def _reason_lines(at: AppTest) -> list[str]:
    """The bullet lines of every markdown block that lists badges (reasons, findings)."""
    lines = []
    for md in at.markdown:
        lines += [ln for ln in str(md.value).splitlines() if ln.startswith("- :") and "-badge[" in ln]
    return lines


@pytest.fixture
def sample_app(monkeypatch):
    monkeypatch.setenv("LASTMILE_CONFIG", str(SAMPLE))
    return AppTest.from_file(MAIN, default_timeout=APP_TIMEOUT)


def test_health_panel_and_portfolio_reasons_are_rounded(sample_app):
    at = open_page(sample_app, "portfolio")
    lines = _reason_lines(at)
    assert lines and not [t for ln in lines for t in _too_precise(ln)], lines

    at.query_params["model"] = "delivery_eta"
    at.switch_page("views/overview.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    panel = _reason_lines(at)
    # delivery_eta's health on the sample: the drop of its MAE (pull), with its numbers
    drops = [ln for ln in panel if "mae rose from" in ln]
    assert drops and all("% worse" in ln and "p = " in ln and "level" in ln for ln in drops), panel
    assert not [t for ln in panel for t in _too_precise(ln)], panel
