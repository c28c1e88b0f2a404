"""The dashboard and the store: "Re-read the logs" refreshes it; then pages read it."""

from __future__ import annotations

import shutil

from streamlit.testing.v1 import AppTest

from analytics.config.store import store_root
from analytics.store import open_engine
from analytics.config.workspace import load_workspace

from .conftest import APP_TIMEOUT, BUSINESS, MAIN, open_page
from ..factories import make_workspace


def test_re_reading_the_logs_refreshes_the_store(tmp_path, monkeypatch):
    g = make_workspace(tmp_path / "ws", "binary", n=1500, seed=5, business=BUSINESS)
    monkeypatch.setenv("LASTMILE_CONFIG", str(g.config))
    at = open_page(AppTest.from_file(MAIN, default_timeout=APP_TIMEOUT), "operations")
    assert not at.exception
    assert open_engine(load_workspace(g.config)).stored("binary_model") is None
    at.button(key="lm_refresh").click().run()
    assert not at.exception and not at.error
    assert open_engine(load_workspace(g.config)).stored("binary_model") is not None
    tiles = {m.label: m.value for m in at.metric}
    # the page now answers from the store, with the raw logs' numbers
    shutil.rmtree(store_root(load_workspace(g.config)))
    at2 = open_page(AppTest.from_file(MAIN, default_timeout=APP_TIMEOUT), "operations")
    assert {m.label: m.value for m in at2.metric} == tiles
