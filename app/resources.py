"""The only place with ``st.cache_resource`` / ``st.cache_data``: a thin adapter over the library.

* The workspace and the :class:`~analytics.log.engine.Engine` are shared resources
  (one per workspace file and modification time); the engine is thread-safe
  (one DuckDB database, a cursor per thread, i.e. per browser session run), and
  its snapshots of small logs are shared by every session.
* Results are cached as data, keyed on the workspace and the query spec
  (:class:`Selection` / :class:`Grouping` are frozen dataclasses, hashed by
  their fields). Streamlit hands every caller its own copy, so a page can never
  change what another session sees. Sessions asking the same question at the
  same moment share one computation (Streamlit holds a lock per key). Nothing
  here runs at import time.
* The answers no filter changes (the portfolio's, the filter bar's, each model's health
  and banners) and every page's default-filter answers (:mod:`app.precompute`) are
  computed ahead, once per workspace and generation, in the background of the server's
  first page (:func:`_home`; ``$LASTMILE_PRECOMPUTE=0`` turns it off).
* With ``$LASTMILE_CONCURRENCY=N``, at most N answers are computed at once, every session
  together (:func:`computed`): users opening first pages with their own filters queue for
  the cores instead of sharing them N ways, and a large log's queries never run many at a
  time in memory. Off by default: not measured faster on the shared 2-core machine of
  bench/README.md, and a quick answer then waits behind long ones.
* With ``$LASTMILE_WORKERS`` set, the answers are computed in worker processes
  (:mod:`app.pool`).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

import streamlit as st

# The modules of the results cached here (unpickled on every cache hit, in every session's
# thread): imported once, now. Imported first by several threads at once (8 users opening
# their first pages), a module can be seen half-initialized ("partially initialized module
# 'pandas'", seen with the answers computed in worker processes).
import pandas  # noqa: F401,E402
import analytics.analyses.compare  # noqa: F401,E402
import analytics.analyses.drift  # noqa: F401,E402
import analytics.analyses.facts  # noqa: F401,E402
import analytics.analyses.health  # noqa: F401,E402
import analytics.metrics  # noqa: F401,E402
import analytics.metrics.compute  # noqa: F401,E402
import analytics.analyses.segments  # noqa: F401,E402
import analytics.analyses.value  # noqa: F401,E402
from analytics.config.workspace import Workspace, load_workspace
from analytics.log.engine import Engine
from analytics.store import open_engine
from analytics.query.selection import Grouping, Selection
from . import pool, state


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
    # and a model's log is read from the incremental store when it answers exactly
    return open_engine(_workspace(path, mtime), snapshot=True, snapshot_seconds=TTL.total_seconds())


#: Bumped by :func:`refresh`: the worker processes' engines belong to a generation.
_generation = [0]


@st.cache_resource(show_spinner=False)
def _pool(size: int) -> pool.Pool:
    return pool.Pool(size, TTL.total_seconds())


def workspace() -> Workspace:
    return _workspace(*_key())


def engine() -> Engine:
    key = _key()
    if pool.workers():  # start the worker processes (they read the logs now, not on a user's page)
        _pool(pool.workers()).warm((*key, _generation[0]))
    if precompute():    # and compute the answers every session asks for, once per generation
        _home(*key, _generation[0])
    return _engine(*key)


def precompute() -> bool:
    """Whether the server computes the filter-free and default answers ahead (:func:`_home`):
    ``$LASTMILE_PRECOMPUTE=1``, which ``lastmile serve`` sets unless told otherwise (a
    server for a team). A bare ``streamlit run`` (the browser tests, a developer) and
    AppTest leave it off: there it is CPU spent on answers no test asks for."""
    return os.environ.get("LASTMILE_PRECOMPUTE", "0").strip() == "1"


def portfolio_estimates(ws: tuple[str, float], spec):
    """The portfolio card's label-free estimates: all data of the serving versions, by week
    (``None`` when the task has no estimate of its primary metric)."""
    from analytics.analyses.estimate import METRICS
    from analytics.metrics import PRIMARY_METRIC
    if PRIMARY_METRIC[spec.task] not in METRICS[spec.task]:
        return None
    serving, _ = serving_selection(ws, Selection.build(spec.name))
    return estimates(ws, serving, Grouping(by=("period",)))


@st.cache_resource(show_spinner=False)
def _home(path: str, mtime: float, generation: int) -> list[Future]:
    """Once per workspace and generation (the server's first page, a re-read): compute in the
    background what every session asks whatever its filters (the portfolio, the filter bar,
    the banners), then every page's questions with the default filters
    (:func:`app.precompute.ahead`), model by model, on two threads (or the worker processes). These answers do not depend on who asks: each page still asks
    only for the models its user may see (app/auth.py). A user who asks meanwhile waits for
    that computation (Streamlit's lock per key) instead of starting another. Returns the
    computations (done or not)."""
    from . import precompute   # it names this module's cached calls
    try:
        models = _workspace(path, mtime).models
    except Exception:  # noqa: BLE001 - a bad workspace is reported by the page
        return []
    started = prefetch(precompute.ahead((path, mtime), models), workers=max(2, pool.workers()))
    return started + prefetch([(precompute.retry, (list(started),))], workers=1)


def refresh() -> None:
    """Forget every cached result and the engine (new log files, new versions): the next run re-reads."""
    _generation[0] += 1      # the workers' engines re-read on their next question
    st.cache_data.clear()
    _home.clear()
    _engine.clear()
    _workspace.clear()


def ws_key() -> tuple[str, float]:
    """What identifies the workspace in every cached result's key."""
    return _key()


def prefetch(calls: list[tuple[Callable, tuple]], workers: int = 2) -> list[Future]:
    """Start the cached ``calls`` (``(function, args)``) on background threads and return them.

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
    futures = [pool.submit(run, fn, args) for fn, args in calls]
    pool.shutdown(wait=False)
    return futures


# ------------------------------------------------------------------ cached results


def concurrency() -> int:
    """How many answers may be computed at once (``$LASTMILE_CONCURRENCY``; 0, the default: no bound)."""
    try:
        return max(0, int(os.environ.get("LASTMILE_CONCURRENCY", "0").strip() or 0))
    except ValueError:
        return 0


_gates: dict[int, threading.BoundedSemaphore] = {}
_gates_lock = threading.Lock()


def _gate(size: int) -> threading.BoundedSemaphore:
    with _gates_lock:
        return _gates.setdefault(size, threading.BoundedSemaphore(size))


def computed(fn: Callable) -> Callable:
    """Compute ``fn`` in one of the :func:`concurrency` slots (under ``st.cache_data``: a
    cache hit never waits). Only for functions that call no other cached function: a slot is
    never held while waiting for another session's computation (Streamlit's lock per key),
    so the slots cannot deadlock."""
    @functools.wraps(fn)
    def inner(*args, **kwargs):
        size = concurrency()
        if not size:
            return fn(*args, **kwargs)
        with _gate(size):
            return fn(*args, **kwargs)
    return inner


@computed
def _answer(task: str, ws: tuple[str, float], *args):
    """Compute one of :data:`app.pool.TASKS`: in the worker processes, or here when there are none."""
    if pool.workers() == 0:
        return pool.TASKS[task](_engine(*ws), *args)
    return _pool(pool.workers()).answer(task, (*ws, _generation[0]), *args)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64)
def facts(ws: tuple[str, float], model: str):
    return _answer("facts", ws, model)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64)
def data_warnings(ws: tuple[str, float], model: str):
    return _answer("data_warnings", ws, model)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=256, hash_funcs=_HASH)
def metrics(ws: tuple[str, float], selection: Selection, grouping: Grouping,
            names: tuple[str, ...] | None = None, label_delay: bool = True):
    return _answer("metrics", ws, selection, grouping, tuple(names) if names else None, label_delay)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64, hash_funcs=_HASH)
@computed
def per_class(ws: tuple[str, float], selection: Selection, grouping: Grouping):
    from analytics.metrics.perclass import compute_per_class
    return compute_per_class(_engine(*ws), selection, grouping)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64, hash_funcs=_HASH)
def weak_segments(ws: tuple[str, float], selection: Selection, metric: str):
    return _answer("weak_segments", ws, selection, metric)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=32)
def quality(ws: tuple[str, float], model: str, start, end, period: str):
    """The data-quality checks of a model per period (analytics.analyses.quality)."""
    return _answer("quality", ws, model, start, end, period)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64)
def model_health(ws: tuple[str, float], model: str):
    return _answer("model_health", ws, model)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=32, hash_funcs=_HASH)
def value_inputs(ws: tuple[str, float], selection: Selection, grouping: Grouping, bins: int):
    """The value aggregates of a selection: every what-if is evaluated on them without a query."""
    return _answer("value_inputs", ws, selection, grouping, bins)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=32, hash_funcs=_HASH)
def compare(ws: tuple[str, float], selection: Selection, baseline: str, candidate: str,
            paired: bool | None = None):
    return _answer("compare", ws, selection, baseline, candidate, paired)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=32, hash_funcs=_HASH)
def default_windows(ws: tuple[str, float], model: str):
    return _answer("default_windows", ws, model)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=32, hash_funcs=_HASH)
def drift(ws: tuple[str, float], model: str, reference: Selection, current: Selection):
    return _answer("drift", ws, model, reference, current)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=32, hash_funcs=_HASH)
def drift_over_time(ws: tuple[str, float], model: str, reference: Selection, selection: Selection,
                    period: str):
    return _answer("drift_over_time", ws, model, reference, selection, period)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64, hash_funcs=_HASH)
def distribution(ws: tuple[str, float], model: str, feature: str, reference: Selection,
                 current: Selection):
    return _answer("distribution", ws, model, feature, reference, current)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=32, hash_funcs=_HASH)
@computed
def report_period(ws: tuple[str, float], model: str, start, end):
    """The ``[start, end)`` a report of ``model`` covers (what its cover will say)."""
    from analytics.render.report import period_of
    return period_of(_engine(*ws), model, start, end)


def report_pdf(eng: Engine, model: str | None, start, end, with_charts: bool = True, progress=None) -> bytes:
    """The PDF report (not cached: built on demand, with progress feedback)."""
    from analytics.render.report import build_report
    from analytics.config.cachedir import cache_root, state_dir
    return build_report(eng, model, start=start, end=end, charts=with_charts, progress=progress,
                        state_dir=state_dir(eng.workspace.path, cache_root()))


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64)
def recommendations(ws: tuple[str, float], model: str):
    """What to do about ``model`` (:mod:`analytics.analyses.recommend`), from its cached health."""
    from analytics.analyses.recommend import recommend
    from analytics.analyses.health import checked_health
    eng = _engine(*ws)
    try:
        health = model_health(ws, model)
    except Exception:  # noqa: BLE001 - an unreadable model: its card says why; no advice
        health = checked_health(eng, eng.spec(model))
    return recommend(eng, model, health=health)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64)
@computed
def timeline(ws: tuple[str, float], model: str):
    """Each version's first day and the start of detected drift (:mod:`analytics.analyses.timeline`)."""
    from analytics.analyses.timeline import events
    return events(_engine(*ws), model)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64)
@computed
def version_roles(ws: tuple[str, float], model: str):
    """``version -> "serving" | "shadow"`` (:mod:`analytics.analyses.roles`)."""
    from analytics.analyses.roles import version_roles as _roles
    return _roles(_engine(*ws), model)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64, hash_funcs=_HASH)
@computed
def serving_selection(ws: tuple[str, float], selection: Selection):
    """``(selection of the serving versions, "pooled over v1, v2 (serving)...")`` (:mod:`analytics.analyses.roles`)."""
    from analytics.analyses.roles import pooled_selection
    return pooled_selection(_engine(*ws), selection)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64, hash_funcs=_HASH)
@computed
def pooled_metrics(ws: tuple[str, float], selection: Selection, grouping: Grouping,
                   names: tuple[str, ...] | None = None, label_delay: bool = True):
    """Metrics pooled over the serving versions (by default): ``(result, "pooled over v1, v2 (serving)...")``."""
    from analytics.metrics.compute import compute_metrics
    from analytics.analyses.roles import pooled_selection
    eng = _engine(*ws)
    sel, caption = pooled_selection(eng, selection)
    return compute_metrics(eng, sel, grouping, list(names) if names else None, label_delay), caption


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64, hash_funcs=_HASH)
@computed
def estimates(ws: tuple[str, float], selection: Selection, grouping: Grouping):
    """Label-free estimates per group (:mod:`analytics.analyses.estimate`)."""
    from analytics.analyses.estimate import estimate_performance
    return estimate_performance(_engine(*ws), selection, grouping)
