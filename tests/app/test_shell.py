"""The frame every page shares: URL state, page switches, errors as messages."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from .conftest import APP_TIMEOUT, MAIN, open_page


def test_url_parameters_seed_the_filter_bar_and_survive_page_switches(app):
    at = open_page(app, "operations", version="v2", where=["region=EU"], **{"from": "2026-03-09", "to": "2026-03-29"})
    assert at.multiselect(key="flt_versions").value == ["v2"]
    assert at.multiselect(key="flt_seg_region").value == ["EU"]
    assert at.date_input(key="flt_range").value == (dt.date(2026, 3, 9), dt.date(2026, 3, 29))
    at.switch_page("views/segments.py").run()
    assert at.multiselect(key="flt_versions").value == ["v2"]
    assert at.multiselect(key="flt_seg_region").value == ["EU"]
    assert at.query_params["version"] == "v2"
    assert at.query_params["where"] == "region=EU"
    assert at.query_params["from"] == "2026-03-09"


def test_changing_a_filter_writes_the_url(app):
    at = open_page(app, "operations")
    assert "version" not in at.query_params
    at.multiselect(key="flt_versions").set_value(["v1"]).run()
    at.multiselect(key="flt_seg_channel").set_value(["web", "branch"]).run()
    assert at.query_params["version"] == "v1"
    assert sorted(at.query_params["where"]) == ["channel=branch", "channel=web"]
    at.date_input(key="flt_range").set_value((dt.date(2026, 3, 10), dt.date(2026, 3, 20))).run()
    assert (at.query_params["from"], at.query_params["to"]) == ("2026-03-10", "2026-03-20")


def test_stale_url_values_are_dropped_not_fatal(app):
    at = open_page(app, "operations", model="no_such_model", version=["v9", "v1"], where=["region=Mars"])
    assert at.selectbox(key="flt_model").value == "binary_model"
    assert at.multiselect(key="flt_versions").value == ["v1"]
    assert at.multiselect(key="flt_seg_region").value == []
    assert not at.error


def test_a_broken_workspace_is_one_sentence_not_a_traceback(tmp_path, monkeypatch):
    bad = tmp_path / "lastmile.toml"
    bad.write_text("[[models]]\nname = 'm'\n")
    monkeypatch.setenv("LASTMILE_CONFIG", str(bad))
    at = AppTest.from_file(MAIN, default_timeout=APP_TIMEOUT).run()
    assert not at.exception
    assert len(at.error) == 1
    assert "missing required key 'task'" in at.error[0].value


def test_sessions_do_not_share_filters(app_ws, monkeypatch):
    monkeypatch.setenv("LASTMILE_CONFIG", str(app_ws))
    a = open_page(AppTest.from_file(MAIN, default_timeout=APP_TIMEOUT), "operations", version="v1")
    b = open_page(AppTest.from_file(MAIN, default_timeout=APP_TIMEOUT), "operations")
    assert a.multiselect(key="flt_versions").value == ["v1"]
    assert b.multiselect(key="flt_versions").value == []
    assert a.metric[0].value != b.metric[0].value


def test_empty_states_explain_and_data_warnings_show(tmp_path, monkeypatch):
    """A range with no labels says why (with the log's label delay); row defects show as a banner."""
    from tests.factories import make_workspace

    from .conftest import texts

    g = make_workspace(tmp_path, "binary", n=1500, seed=5, unlabeled_after_day=30, nan_scores=7)
    monkeypatch.setenv("LASTMILE_CONFIG", str(g.config))
    at = open_page(AppTest.from_file(MAIN, default_timeout=APP_TIMEOUT), "overview", **{"from": "2026-04-10"})
    shown = texts(at)
    assert "No labeled predictions in this range yet: labels arrive about" in shown
    assert "days after the prediction" in shown
    assert "Data warnings" in shown and "7" in shown
    assert all(m.help for m in at.metric)  # every statistic has its tooltip
    assert not at.error


def test_changing_the_model_resets_its_dependent_filters(tmp_path, monkeypatch):
    from tests.factories import make_workspace

    other = {"name": "other", "task": "binary", "predictions": "pred/*.parquet", "outcomes": "out/*.parquet",
             "columns": {"id": "pid", "timestamp": "ts", "label": "y", "score": "score",
                         "label_timestamp": "label_ts", "segments": ["channel"]}}
    g = make_workspace(tmp_path, "binary", n=800, seed=9, extra_model=other)
    monkeypatch.setenv("LASTMILE_CONFIG", str(g.config))
    at = open_page(AppTest.from_file(MAIN, default_timeout=APP_TIMEOUT), "operations",
                   model="binary_model", version="v2", where=["region=EU"])
    assert at.multiselect(key="flt_versions").value == ["v2"]
    at.selectbox(key="flt_model").set_value("other").run()
    assert not at.exception and not at.error
    assert at.query_params["model"] == "other"
    assert "version" not in at.query_params and "where" not in at.query_params
    assert [w.key for w in at.sidebar.multiselect] == ["flt_seg_channel"]  # one version: no version filter
    assert at.metric[0].value == "800"


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_every_page_works_for_other_tasks(tmp_path, monkeypatch, task):
    """Every page renders for multiclass and regression models (no business values: explained)."""
    from tests.factories import make_workspace

    g = make_workspace(tmp_path, task, n=1200, seed=6)
    monkeypatch.setenv("LASTMILE_CONFIG", str(g.config))
    at = AppTest.from_file(MAIN, default_timeout=APP_TIMEOUT).run()
    assert not at.exception and not at.error
    for page in ("overview", "segments", "compare", "drift", "value", "operations", "explore", "report"):
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])
        assert at.title[0].value


def test_a_bug_is_one_sentence_and_the_traceback_goes_to_the_log(app, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("analytics.render.charts.volume_chart", broken)  # drawn by Operations only
    at = open_page(app, "operations")
    assert not at.exception
    assert "This is a bug in Lastmile" in at.error[0].value and "ZeroDivisionError" in at.error[0].value
    assert any("page 'Operations' failed" in r.getMessage() and r.exc_info for r in caplog.records)


def test_re_reading_the_logs_drops_cached_results(app, monkeypatch):
    from analytics.log.engine import Engine

    at = open_page(app, "operations")
    calls = []
    original = Engine.execute
    monkeypatch.setattr(Engine, "execute", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    at.run()
    assert calls == []  # cached
    at.button(key="lm_refresh").click().run()
    assert calls and not at.exception and not at.error


@pytest.mark.parametrize("page", ["portfolio", "quality"])
def test_the_navigation_links_every_page_including_the_portfolio(app, page):
    """The default page lives at the root (its url_path is ""): it still gets its link."""
    at = open_page(app, page)
    labels = [el.proto.label for el in at.get("page_link")]
    assert labels[:2] == ["Portfolio", "Model overview"] and "Data quality" in labels and "Report" in labels
