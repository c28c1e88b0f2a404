"""The only place with ``st.cache_resource`` / ``st.cache_data``: a thin adapter over the library.

* The workspace and the :class:`~analytics.engine.Engine` are shared resources
  (one per workspace file and modification time); the engine is thread-safe
  (one DuckDB database, a cursor per thread, i.e. per browser session run), and
  its snapshots of small logs are shared by every session.
* Results are cached as data, keyed on the workspace and the query spec
  (:class:`Selection` / :class:`Grouping` are frozen dataclasses, hashed by
  their fields). Streamlit hands every caller its own copy, so a page can never
  change what another session sees. Nothing here runs at import time.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import streamlit as st

from analytics.engine import Engine
from analytics.selection import Grouping, Selection
from analytics.workspace import Workspace, load_workspace

from . import state

_HASH = {Selection: dataclasses.astuple, Grouping: dataclasses.astuple}
#: How long cached results stay fresh: logs grow while the app runs.
TTL = _dt.timedelta(minutes=10)


def _key() -> tuple[str, float]:
    path = state.config_path()
    try:
        mtime = os.path.getmtime(path)
    except OSError:
        mtime = 0.0
    return path, mtime


@st.cache_resource(show_spinner=False)
def _workspace(path: str, mtime: float) -> Workspace:
    return load_workspace(path)


@st.cache_resource(show_spinner=False)
def _engine(path: str, mtime: float) -> Engine:
    # small logs are joined once (a snapshot every session shares), refreshed as often as results
    return Engine(_workspace(path, mtime), snapshot=True, snapshot_seconds=TTL.total_seconds())


def workspace() -> Workspace:
    return _workspace(*_key())


def engine() -> Engine:
    return _engine(*_key())


def refresh() -> None:
    """Forget every cached result and the engine (new log files, new versions): the next run re-reads."""
    st.cache_data.clear()
    _engine.clear()
    _workspace.clear()


def ws_key() -> tuple[str, float]:
    """What identifies the workspace in every cached result's key."""
    return _key()


def prefetch(calls: list[tuple[Callable, tuple]], workers: int = 2) -> None:
    """Start the cached ``calls`` (``(function, args)``) on background threads and return.

    The page then makes the same calls in its own order: a result already
    computed is a cache hit, one still running is waited for (Streamlit lets
    one thread compute a key while the others wait), so a page of independent
    answers (the portfolio's models) fills in parallel yet draws in order.
    Each thread gets its own engine cursor; DuckDB runs queries without the
    GIL. A call that fails here fails again on the page, which shows it.
    """
    from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

    ctx = get_script_run_ctx()

    def run(fn: Callable, args: tuple) -> Any:
        if ctx is not None:
            add_script_run_ctx(threading.current_thread(), ctx)
        try:
            return fn(*args)
        except Exception:  # noqa: BLE001 - the page's own call reports it
            return None

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lastmile-prefetch")
    for fn, args in calls:
        pool.submit(run, fn, args)
    pool.shutdown(wait=False)


# ------------------------------------------------------------------ cached results


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64)
def facts(ws: tuple[str, float], model: str):
    from analytics.facts import model_facts
    return model_facts(_engine(*ws), model)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64)
def data_warnings(ws: tuple[str, float], model: str):
    return _engine(*ws).data_warnings(model)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=256, hash_funcs=_HASH)
def metrics(ws: tuple[str, float], selection: Selection, grouping: Grouping,
            names: tuple[str, ...] | None = None, label_delay: bool = True):
    from analytics.metrics import compute_metrics
    return compute_metrics(_engine(*ws), selection, grouping, list(names) if names else None, label_delay)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64, hash_funcs=_HASH)
def per_class(ws: tuple[str, float], selection: Selection, grouping: Grouping):
    from analytics.metrics.perclass import compute_per_class
    return compute_per_class(_engine(*ws), selection, grouping)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64, hash_funcs=_HASH)
def weak_segments(ws: tuple[str, float], selection: Selection, metric: str):
    from analytics.segments import weak_segments as _weak
    return _weak(_engine(*ws), selection, metric, pairs=False)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64)
def model_health(ws: tuple[str, float], model: str):
    from analytics.health import model_health as _mh
    return _mh(_engine(*ws), model)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=32, hash_funcs=_HASH)
def value_inputs(ws: tuple[str, float], selection: Selection, grouping: Grouping, bins: int):
    """The value aggregates of a selection: every what-if is evaluated on them without a query."""
    from analytics.value import value_summary
    return value_summary(_engine(*ws), selection, grouping, bins=bins)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=32, hash_funcs=_HASH)
def compare(ws: tuple[str, float], selection: Selection, baseline: str, candidate: str,
            paired: bool | None = None):
    from analytics.compare import compare_versions
    return compare_versions(_engine(*ws), selection, baseline, candidate, paired=paired)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=32, hash_funcs=_HASH)
def default_windows(ws: tuple[str, float], model: str):
    from analytics.drift import default_reference
    return default_reference(_engine(*ws), model)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=32, hash_funcs=_HASH)
def drift(ws: tuple[str, float], model: str, reference: Selection, current: Selection):
    from analytics.drift import compute_drift
    return compute_drift(_engine(*ws), model, reference, current)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=32, hash_funcs=_HASH)
def drift_over_time(ws: tuple[str, float], model: str, reference: Selection, selection: Selection,
                    period: str):
    from analytics.drift import drift_over_time as _dot
    return _dot(_engine(*ws), model, reference, selection, period=period)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64, hash_funcs=_HASH)
def distribution(ws: tuple[str, float], model: str, feature: str, reference: Selection,
                 current: Selection):
    from analytics.drift import distribution as _dist
    return _dist(_engine(*ws), model, feature, reference, current)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=32, hash_funcs=_HASH)
def report_period(ws: tuple[str, float], model: str, start, end):
    """The ``[start, end)`` a report of ``model`` covers (what its cover will say)."""
    from analytics.report import period_of
    return period_of(_engine(*ws), model, start, end)


def report_pdf(eng: Engine, model: str | None, start, end, with_charts: bool = True, progress=None) -> bytes:
    """The PDF report (not cached: built on demand, with progress feedback)."""
    from analytics.report import build_report
    return build_report(eng, model, start=start, end=end, charts=with_charts, progress=progress)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64)
def version_roles(ws: tuple[str, float], model: str):
    """``version -> "serving" | "shadow"`` (:mod:`analytics.roles`)."""
    from analytics.roles import version_roles as _roles
    return _roles(_engine(*ws), model)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64, hash_funcs=_HASH)
def serving_selection(ws: tuple[str, float], selection: Selection):
    """``(selection of the serving versions, "pooled over v1, v2 (serving)...")`` (:mod:`analytics.roles`)."""
    from analytics.roles import pooled_selection
    return pooled_selection(_engine(*ws), selection)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64, hash_funcs=_HASH)
def pooled_metrics(ws: tuple[str, float], selection: Selection, grouping: Grouping,
                   names: tuple[str, ...] | None = None, label_delay: bool = True):
    """Metrics pooled over the serving versions (by default): ``(result, "pooled over v1, v2 (serving)...")``."""
    from analytics.metrics import compute_metrics
    from analytics.roles import pooled_selection
    eng = _engine(*ws)
    sel, caption = pooled_selection(eng, selection)
    return compute_metrics(eng, sel, grouping, list(names) if names else None, label_delay), caption
