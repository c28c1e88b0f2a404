"""The shared formatters and chart functions (pure: result -> text / figure)."""

from __future__ import annotations

import math

import polars as pl
import pytest

from analytics.render import charts, format as F


@pytest.mark.parametrize("fn, value, text", [
    (F.pct, 0.81234, "81.2%"), (F.pct, None, F.MISSING), (F.pct, math.nan, F.MISSING),
    (F.num, 0.81234, "0.812"), (F.num, 12345.6, "12,346"), (F.count, 12345, "12,345"),
    (F.compact, 1_234_567, "1.23M"), (F.compact, 950, "950"), (F.ms, 12.345, "12.3 ms"),
    (F.days, 13.62, "13.6 days"), (F.days, 1.0, "1.0 day"), (F.p_value, 0.00001, "<0.001"),
    (F.p_value, 0.0412, "0.041"), (F.roi, 0.35, "35%"), (F.roi, 719.4, "719×"),
])
def test_formatters(fn, value, text):
    assert fn(value) == text


def test_money_and_deltas():
    assert F.money(-1234.4) == "-$1,234"
    assert F.money(8.0) == "$8.00"
    assert F.money(1_250_000, short=True) == "$1.25M"
    assert F.money(12.5, "CHF") == "12.50 CHF"
    assert F.money(-15, "EUR") == "-€15.00" and F.money(3.0, "inr") == "₹3.00"
    assert F.money(2_500_000, "GBP", short=True) == "£2.5M"
    assert F.money(None) == F.MISSING and F.money(float("nan")) == F.MISSING
    assert F.delta(0.012, "pct") == "+1.2 pp"
    assert F.delta(-0.0042) == "-0.004"
    assert F.delta(0.0) == "±0.000"
    assert F.interval(0.8, 0.9, "pct") == "[80.0%, 90.0%]"
    assert F.interval(None, 0.9) == F.MISSING
    assert (F.p_text(0.0412), F.p_text(1e-9), F.p_text(None)) == ("p = 0.041", "p < 0.001", f"p = {F.MISSING}")


def frame():
    return pl.DataFrame({
        "period": ["2026-03-02", "2026-03-09", "2026-03-02", "2026-03-09"],
        "version": ["v1", "v1", "v2", "v2"], "n": [10, 12, 5, 6],
        "auc": [0.8, 0.82, 0.7, None], "auc_ci_low": [0.75, 0.78, 0.6, None],
        "auc_ci_high": [0.85, 0.86, 0.8, None]})


def test_metric_over_time_draws_a_band_and_a_line_per_group():
    fig = charts.metric_over_time(frame(), "auc", fmt="num").to_plotly_json()
    lines = [t for t in fig["data"] if t.get("mode") == "lines+markers"]
    bands = [t for t in fig["data"] if t.get("fill") == "toself"]
    assert [t["name"] for t in lines] == ["v1", "v2"]
    assert list(lines[0]["y"]) == [0.8, 0.82]
    assert list(bands[0]["y"]) == [0.85, 0.86, 0.78, 0.75]  # upper forward, lower back


def test_charts_without_data_say_so():
    empty = frame().filter(pl.col("n") < 0)
    fig = charts.metric_over_time(empty, "auc", label="ROC AUC").to_plotly_json()
    assert fig["data"] == [] and "No ROC AUC" in fig["layout"]["annotations"][0]["text"]
    assert "Nothing to chart" in charts.explore_chart(empty, y="auc", x=None, color_by=None) \
        .to_plotly_json()["layout"]["annotations"][0]["text"]


def test_bar_by_group_error_bars_are_the_interval():
    f = frame().filter(pl.col("period") == "2026-03-02")
    bar = charts.bar_by_group(f, "auc", "version").to_plotly_json()["data"][0]
    assert list(bar["error_x"]["array"]) == pytest.approx([0.05, 0.1])
    assert list(bar["error_x"]["arrayminus"]) == pytest.approx([0.05, 0.1])


def test_threshold_curve_marks_the_best_threshold():
    fig = charts.threshold_curve_chart([("v1", [0.0, 0.5, 1.0], [1.0, 5.0, 2.0], 0.5, 0.5)]).to_plotly_json()
    best = [t for t in fig["data"] if t.get("mode") == "markers"][0]
    assert list(best["x"]) == [0.5] and list(best["y"]) == [5.0]


def test_a_week_without_an_interval_splits_the_band_instead_of_bridging_it():
    f = pl.DataFrame({"period": ["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23", "2026-03-30"],
                      "version": ["v1"] * 5, "n": [10] * 5,
                      "auc": [0.8, 0.82, None, 0.7, 0.71],
                      "auc_ci_low": [0.75, 0.78, None, 0.6, 0.65],
                      "auc_ci_high": [0.85, 0.86, None, 0.8, 0.77]})
    fig = charts.metric_over_time(f, "auc").to_plotly_json()
    bands = [t for t in fig["data"] if t.get("fill") == "toself"]
    assert [list(b["x"]) for b in bands] == [
        ["2026-03-02", "2026-03-09", "2026-03-09", "2026-03-02"],
        ["2026-03-23", "2026-03-30", "2026-03-30", "2026-03-23"]]
    assert all(None not in list(b["y"]) for b in bands)
