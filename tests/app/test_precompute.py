"""What the server computes ahead (app/precompute.py) is exactly what each page asks with
the default filters: every cached call an AppTest run of the page makes, no more, no less."""

from __future__ import annotations

import functools
import threading

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analytics.config.workspace import load_workspace
from app import precompute, resources

from .conftest import APP_TIMEOUT, MAIN, open_page

MODEL = "binary_model"


#: resources' result caches (``st.cache_data`` functions), by name
CACHED = tuple(n for n, f in vars(resources).items()
               if not n.startswith("_") and hasattr(f, "clear") and hasattr(f, "__wrapped__"))


@pytest.fixture
def recorded(app_ws, monkeypatch):
    """Every call of a cached function, as ``(name, args, kwargs)``, while recording is on."""
    monkeypatch.setenv("LASTMILE_CONFIG", str(app_ws))
    calls: list = []
    on = threading.Event()
    for name in CACHED:
        fn = getattr(resources, name)
        def spy(*args, _fn=fn, _name=name, **kwargs):
            if on.is_set():
                calls.append((_name, args[1:], tuple(sorted(kwargs.items()))))
            return _fn(*args, **kwargs)
        monkeypatch.setattr(resources, name, functools.wraps(fn)(spy))
    return calls, on


@pytest.mark.parametrize("page", list(precompute.PAGES))
def test_the_precomputed_calls_are_the_pages_own(recorded, app_ws, page):
    calls, on = recorded
    st.cache_data.clear()
    at = AppTest.from_file(MAIN, default_timeout=APP_TIMEOUT)
    at.query_params["model"] = MODEL
    at.run()
    on.set()
    at.switch_page(f"views/{page}.py").run()
    on.clear()
    assert not at.exception and not at.error
    names = {id(getattr(resources, n)): n for n in CACHED}
    spec = load_workspace(app_ws).model(MODEL)
    ahead = {(names[id(fn)], args[1:], ()) for fn, args in precompute.page_calls(page, resources.ws_key(), spec)}
    assert ahead == set(calls)


def test_the_server_computes_them_ahead(app_ws, monkeypatch):
    """With LASTMILE_PRECOMPUTE=1, the first page starts every page's default calls."""
    monkeypatch.setenv("LASTMILE_CONFIG", str(app_ws))
    monkeypatch.setenv("LASTMILE_PRECOMPUTE", "1")
    started: list = []
    monkeypatch.setattr(resources, "prefetch", lambda calls, **k: started.extend(calls) or [])
    resources._home.clear()
    open_page(AppTest.from_file(MAIN, default_timeout=APP_TIMEOUT), "report", model=MODEL)
    resources._home.clear()
    pages = {args[0] for fn, args in started if fn is precompute._page}
    assert pages == set(precompute.PAGES)
    assert (resources.facts, (resources.ws_key(), MODEL)) in started


@pytest.mark.parametrize("rows, computed", [(5, True), (0, False)])
def test_a_background_refresh_that_wrote_rows_computes_them_again(app_ws, monkeypatch, rows, computed):
    from types import SimpleNamespace

    from app.components import store_refresh
    monkeypatch.setenv("LASTMILE_PRECOMPUTE", "1")
    done = SimpleNamespace(models=[SimpleNamespace(rows=rows)])
    monkeypatch.setattr(store_refresh, "refresh", lambda ws: done)
    seen: list = []
    monkeypatch.setattr(precompute, "after_refresh", lambda: seen.append(1))
    store_refresh._background(load_workspace(app_ws))
    assert bool(seen) is computed


def test_after_a_refresh_the_answers_are_computed_past_the_caches(recorded, app_ws, monkeypatch):
    calls, _ = recorded
    ran: list = []
    monkeypatch.setattr(precompute, "_page", lambda page, ws, spec, uncached=False: ran.append((page, uncached)))
    precompute.after_refresh()
    assert ran == [(p, True) for p in precompute.PAGES]   # one model
    monkeypatch.undo()
    monkeypatch.setenv("LASTMILE_CONFIG", str(app_ws))
    spec = load_workspace(app_ws).model(MODEL)
    st.cache_data.clear()
    before = resources.metrics.__wrapped__
    hits: list = []
    monkeypatch.setattr(resources.metrics, "__wrapped__", lambda *a: hits.append(a) or before(*a))
    precompute._page("explore", resources.ws_key(), spec, uncached=True)
    assert len(hits) == 1


def test_a_call_that_failed_beside_others_is_computed_again_alone(app_ws, monkeypatch):
    monkeypatch.setenv("LASTMILE_CONFIG", str(app_ws))
    spec = load_workspace(app_ws).model(MODEL)
    tries: list = []

    def quality(*args):
        tries.append(args)
        if len(tries) == 1:
            raise RuntimeError("Out of Memory Error")
        return "checked"
    monkeypatch.setattr(resources, "quality", quality)
    precompute._page("quality", resources.ws_key(), spec)     # fails: logged, kept
    assert len(tries) == 1 and precompute.retry([]) == 1 and len(tries) == 2
    assert precompute.retry([]) == 0
