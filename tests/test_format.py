"""The one formatter (``analytics.render.format``): numbers, money, shares, p-values,
dates and the ROI rule as people read them (pure functions, no data)."""

from __future__ import annotations

import datetime as _dt
import math
import re

import pytest

from analytics.render import format as F

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?")


def significant_digits(token: str) -> int:
    """Significant digits of a decimal number as shown (integers, i.e. counts, give 0)."""
    mantissa = token.lstrip("+-").split("e")[0].replace(",", "")
    if "." not in mantissa and "e" not in token:
        return 0
    return len(mantissa.replace(".", "").lstrip("0"))


def too_precise(text: str, most: int = 3) -> list[str]:
    """The numbers of ``text`` (dates left out) shown with more than ``most`` significant digits."""
    return [t for t in _NUMBER.findall(_DATE.sub("", text)) if significant_digits(t) > most]


def test_significant_digits_counts_what_a_reader_sees():
    assert [significant_digits(t) for t in ("0.7787", "-0.0534", "147", "2.65", "4.7e-142", "12,345")] \
        == [4, 3, 0, 3, 2, 0]
    assert too_precise("v1: roc_auc fell from 0.7787 in 2026-05-25 to 2026-06-21 to 0.725 (n = 12,345)") == ["0.7787"]


@pytest.mark.parametrize("v, text", [
    (0.73647, "0.736"), (6.219, "6.22"), (147.39, "147"), (12345.6, "12,300"), (-0.05337, "-0.0534"),
    (4.092, "4.09"), (9.996, "10.0"), (0.0009996, "0.00100"), (1_234_567.0, "1,230,000"), (0.0, "0"),
    (2e-10, "2e-10"), (None, F.MISSING), (math.nan, F.MISSING), (math.inf, F.MISSING),
])
def test_sig_three_significant_digits(v, text):
    assert F.sig(v) == text


def test_sig_never_shows_more_than_three_significant_digits():
    for v in (0.123456, 1.23456, 12.3456, 123.456, 1234.56, 98765.4, 0.00987654, -5.55555):
        text = F.sig(v).replace(",", "").replace("-", "")
        digits = (text.replace(".", "") if "." in text else text.rstrip("0")).lstrip("0")
        assert len(digits) <= 3, (v, F.sig(v))
        assert float(F.sig(v).replace(",", "")) == pytest.approx(v, rel=5e-3)


@pytest.mark.parametrize("v, text", [(0.0274, "+0.0274"), (-2.2714, "-2.27"), (0.0, "0"), (None, F.MISSING)])
def test_signed(v, text):
    assert F.signed(v) == text


@pytest.mark.parametrize("v, threshold, digits, text", [
    (0.1996, 0.2, 2, "0.1996"),      # not "0.20 < 0.2"
    (0.2004, 0.2, 2, "0.2004"),
    (0.44, 0.2, 2, "0.44"),
    (0.2, 0.2, 2, "0.20"),           # equal stays equal
    (0.04996, 0.05, 3, "0.04996"),
    (0.7787, None, 3, "0.779"),
])
def test_against_keeps_the_side_of_the_threshold(v, threshold, digits, text):
    assert F.against(v, threshold, digits) == text


@pytest.mark.parametrize("v, text", [
    (1_234_567.0, "$1.23M"), (-1_234_567.0, "-$1.23M"), (555_000.0, "$555k"), (-555_400.0, "-$555k"),
    (12.5, "$12.5"), (2.5e9, "$2.5B"), (None, F.MISSING),
])
def test_money_short_with_units_and_signs(v, text):
    assert F.money(v, "USD", short=True) == text


def test_money_other_currencies():
    assert F.money(-1234.5, "USD") == "-$1,234" or F.money(-1234.5, "USD") == "-$1,235"
    assert F.money(2_500_000.0, "CHF", short=True) == "2.5M CHF"
    assert F.money(-40.0, "EUR", short=True) == "-€40"


@pytest.mark.parametrize("v, text", [(0.8123, "81.2%"), (0.069, "6.9%"), (None, F.MISSING)])
def test_pct(v, text):
    assert F.pct(v) == text


def test_percentage_points():
    assert F.points(0.0123) == "+1.2 pp" and F.points(-0.004) == "-0.4 pp" and F.points(None) == F.MISSING


@pytest.mark.parametrize("p, words", [
    (6.7e-34, "very unlikely to be chance (p < 0.001)"),
    (0.012, "unlikely to be chance (p = 0.012)"),
    (0.31, "could be chance (p = 0.310)"),
    (None, "not tested"),
])
def test_p_values_in_words_with_the_value(p, words):
    assert F.p_words(p) == words


@pytest.mark.parametrize("p, alpha, text", [
    (2e-10, 0.05, "p = 2e-10 < 0.05"), (0.012, 0.05, "p = 0.012 < 0.05"), (0.31, 0.05, "p = 0.31 >= 0.05"),
    (0.04996, 0.05, "p = 0.04996 < 0.05"), (0.0004, 0.0001, "p = 0.00040 >= 0.0001"), (None, 0.05, "p missing"),
])
def test_p_against_the_level(p, alpha, text):
    assert F.p_against(p, alpha) == text


def test_dates_and_ranges():
    start, end = _dt.datetime(2026, 5, 25), _dt.datetime(2026, 6, 22)
    assert F.date(start) == "2026-05-25" and F.date("2026-05-25T10:00:00") == "2026-05-25"
    assert F.last_day(end) == "2026-06-21" and F.last_day(_dt.date(2026, 6, 22)) == "2026-06-21"
    assert F.date_range(start, end) == "2026-05-25 to 2026-06-21"
    assert F.date_range(start, _dt.date(2026, 6, 21), exclusive=False) == "2026-05-25 to 2026-06-21"
    assert F.date(None) == F.MISSING


@pytest.mark.parametrize("v, text", [
    (0.35, "35%"), (37.2, "37.2×"), (719.4, "719×"), (1000.0, "1,000×"),
    (435_000.0, "compute cost is 0.00023% of value"), (1e12, "compute cost is under 0.0001% of value"),
    (None, F.MISSING),
])
def test_roi_rule(v, text):
    assert F.roi(v) == text
    assert "k x" not in F.roi(v) and "kx" not in F.roi(v)


def test_roi_and_value_for_money_agree_above_a_thousand():
    for r in (1000.5, 5e3, 4.35e5, 2.9e5):
        assert F.roi(r) == F.value_for_money(r * 2.0, 2.0)


def test_metric_cell_and_cell_keep_the_table_style():
    assert F.metric_cell(0.81234) == "0.8123" and F.metric_cell(0.81234, "pct") == "81.2%"
    assert F.metric_cell(None) == "-" and F.metric_cell(12.345, "ms") == "12.3 ms"
    assert F.cell(True) == "yes" and F.cell(12345) == "12,345" and F.cell(0.5) == "0.5000"
    assert F.cell(2e-5) == "2e-05" and F.cell(math.nan) == "-" and F.cell(None) == "-"
