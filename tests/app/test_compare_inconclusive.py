"""The compare page when the comparison measured nothing (the two versions never served on
the same day in the filter's range): its verdict and reason, no error (seen in
bench/bench_load.py on the sample's ticket_router from 2026-06-08: KeyError on the primary metric)."""

from __future__ import annotations

from analytics.analyses import compare as C
from analytics.analyses.like_for_like import ComparisonWindow
from app import resources
from .conftest import open_page, texts

REASON = "v1 and v2 never served on the same day in the selection, so they cannot be compared like for like."


def test_an_inconclusive_comparison_with_nothing_measured_shows_its_reason(app, app_engine, monkeypatch):
    def nothing(ws, selection, baseline, candidate, paired=None):
        spec = app_engine.spec(selection.model)
        return C._inconclusive(spec, selection, baseline, candidate, C.compare_settings(spec),
                               ComparisonWindow("overlap"), REASON)

    monkeypatch.setattr(resources, "compare", nothing)
    at = open_page(app, "compare", model="binary_model")
    assert not at.exception and not at.error
    assert REASON in texts(at)
