"""What the dashboard computes ahead: every page's questions with default filters.

The views are page scripts (importing one draws it), so the calls each page makes with
the default filter bar (every day, every version, no segment filter, weekly buckets)
are written here, one function per page (:data:`PAGES`), and the page's own choices
(the overview's tiles, the operations' metrics) are read from here by the views;
``tests/app/test_precompute.py`` checks, page by page, that they are exactly the cached
calls an AppTest run of the page makes. Calls whose arguments come from another answer
(the drift page's windows and its first feature, the segments page's weakest slice)
ask that answer first (a cache hit, or the computation it waits for).

* :func:`ahead`: the server's first page (:func:`app.resources._home`) starts, in the
  background, the filter-free answers (:func:`home_calls`), then every page's default
  calls, model by model: through the result caches, so the first visitor of a page
  reads them, and through the store's remembered answers
  (:mod:`analytics.store.answers`), so they outlive the caches' 10 minutes. A call that
  fails beside another (out of memory with two large queries at once) is computed again,
  alone, once the rest is done (:func:`retry`).
* :func:`after_refresh`: after a background store refresh (``[store] refresh_seconds``),
  the same calls past the result caches, so the store remembers the answers on its new
  data before a page asks. "Re-read the logs" clears the caches; the next page starts
  :func:`ahead` again.

``$LASTMILE_PRECOMPUTE=0`` turns both off (:func:`app.resources.precompute`).
"""

from __future__ import annotations

import datetime as _dt
import logging
import threading
from concurrent.futures import Future, wait
from typing import Callable

from analytics.metrics import PRIMARY_METRIC
from analytics.query.selection import Grouping, Selection
from app import resources as r
from app.state import Filters

log = logging.getLogger("lastmile.app")

Call = tuple[Callable, tuple]

#: The portfolio (the home page) shows every model's answers for all data, by week.
PORTFOLIO_PERIOD = "week"
#: The overview's tiles per task (after the primary metric's series).
OVERVIEW_TILES = {
    "binary": ("roc_auc", "precision", "recall", "base_rate"),
    "multiclass": ("macro_f1", "accuracy", "weighted_f1", "macro_recall"),
    "regression": ("mae", "rmse", "bias", "r2"),
}
#: The operations page's metrics.
OPS_METRICS = ("volume", "label_coverage", "latency_p50", "latency_p95", "latency_p99")


def portfolio_calls(ws: tuple[str, float], spec) -> list[Call]:
    """The cached calls behind one model's portfolio card: health, the primary metric and
    volume per week, and the value aggregates per week (when the model has business values)."""
    sel, weekly = Selection.build(spec.name), Grouping(by=("period",), period=PORTFOLIO_PERIOD)
    calls = [(r.model_health, (ws, spec.name)),
             (r.pooled_metrics, (ws, sel, weekly, (PRIMARY_METRIC[spec.task], "volume"), False))]
    if spec.business:
        calls.append((r.value_inputs, (ws, sel, weekly, 0)))
    return calls


def home_calls(ws: tuple[str, float], spec) -> list[Call]:
    """The cached calls of ``spec`` that no filter changes, in the order pages ask them: the
    filter bar's facts and the banner's data warnings (every page), the portfolio card
    (:func:`portfolio_calls`, its estimate and the board's advice), the release timeline and
    the drift reference window (the overview's and drift page's marks and defaults)."""
    calls = [(r.facts, (ws, spec.name)), (r.data_warnings, (ws, spec.name))] + portfolio_calls(ws, spec)
    return calls + [(r.portfolio_estimates, (ws, spec)), (r.recommendations, (ws, spec.name)),
                    (r.version_roles, (ws, spec.name)), (r.timeline, (ws, spec.name)),
                    (r.default_windows, (ws, spec.name))]


def _common(ws, spec) -> list[Call]:
    """What every page with the filter bar asks first: the facts and the data warnings."""
    return [(r.facts, (ws, spec.name)), (r.data_warnings, (ws, spec.name))]


def overview(ws, spec, flt: Filters) -> list[Call]:
    from analytics.analyses.estimate import METRICS
    sel, task, primary = flt.selection(), spec.task, PRIMARY_METRIC[spec.task]
    calls = _common(ws, spec) + [
        (r.pooled_metrics, (ws, sel, Grouping(by=("period",), period=flt.period),
                            OVERVIEW_TILES[task] + ("volume", "label_coverage"))),
        (r.model_health, (ws, spec.name)),
        (r.metrics, (ws, sel, Grouping(by=("period", "version"), period=flt.period), (primary, "label_coverage")))]
    if primary in METRICS[task]:
        calls.append((r.estimates, (ws, sel, Grouping(by=("period", "version"), period=flt.period))))
    if task == "multiclass":
        calls.append((r.per_class, (ws, sel, Grouping(by=("version",)))))
        if len(r.facts(ws, spec.name).versions) > 1:
            calls.append((r.per_class, (ws, sel, Grouping())))
    return calls + [(r.timeline, (ws, spec.name))]


def drift_windows(selection: Selection, default_ref: Selection, default_cur: Selection) -> tuple[Selection, Selection]:
    """The drift page's (reference, current) with the default windows and no time range set."""
    first, last = default_ref.start.date(), default_ref.end.date() - _dt.timedelta(days=1)
    ref = selection.replace(start=_dt.datetime.combine(first, _dt.time()),
                            end=_dt.datetime.combine(last, _dt.time()) + _dt.timedelta(days=1))
    return ref, selection.replace(start=default_cur.start, end=default_cur.end)


def drift(ws, spec, flt: Filters) -> list[Call]:
    sel = flt.selection()
    ref, cur = drift_windows(sel, *r.default_windows(ws, spec.name))
    res = r.drift(ws, spec.name, ref, cur)
    targets = [f.name if role == "feature" else role for role, f in res.targets()]
    feature = (res.drifted_features or targets)[0]
    return _common(ws, spec) + [
        (r.default_windows, (ws, spec.name)), (r.drift_over_time, (ws, spec.name, ref, sel, flt.period)),
        (r.drift, (ws, spec.name, ref, cur)), (r.distribution, (ws, spec.name, feature, ref, cur)),
        (r.timeline, (ws, spec.name))]


def weakest_first(frame, metric: str, d):
    """The segments page's table order: the worst value on top, unknown values last."""
    return frame.sort(metric, descending=d.higher_is_better is False, nulls_last=True)


def segments(ws, spec, flt: Filters) -> list[Call]:
    from analytics.metrics import get_metric
    segs = list(spec.columns.segments)
    if not segs:
        return _common(ws, spec)
    metric, keys = PRIMARY_METRIC[spec.task], (segs[0],)
    d = get_metric(metric, spec.task)
    selection, _ = r.serving_selection(ws, flt.selection())
    by_segment = (r.metrics, (ws, selection, Grouping(by=keys), (metric,), False))
    calls = _common(ws, spec) + [(r.serving_selection, (ws, flt.selection())), by_segment]
    if d.kind == "label":
        calls.append((r.weak_segments, (ws, selection, metric)))
    else:
        calls.append((r.metrics, (ws, selection, Grouping(), (metric,), False)))
    frame = by_segment[0](*by_segment[1]).to_polars()
    if d.kind == "label" and frame[metric].drop_nulls().is_empty():
        return calls
    row = weakest_first(frame, metric, d).row(0, named=True)
    sel = flt.selection().replace(where=tuple({**dict(flt.where), **{k: (str(row[k]),) for k in keys}}.items()))
    return calls + [(r.metrics, (ws, sel, Grouping(by=("period", "version"), period=flt.period), (metric,), False)),
                    (r.timeline, (ws, spec.name))]


def compare(ws, spec, flt: Filters) -> list[Call]:
    versions = list(r.facts(ws, spec.name).versions)
    if len(versions) < 2:
        return _common(ws, spec)
    # the first version against the next one, pairing detected ("auto": None)
    return _common(ws, spec) + [(r.compare, (ws, flt.selection().replace(versions=()), versions[0], versions[1], None))]


def value(ws, spec, flt: Filters) -> list[Call]:
    sel = flt.selection()
    return _common(ws, spec) + [
        (r.value_inputs, (ws, sel, Grouping(by=("period", "version"), period=flt.period), 0)),
        (r.value_inputs, (ws, sel, Grouping(by=("version",)), 1000)),
        (r.version_roles, (ws, spec.name)), (r.timeline, (ws, spec.name))]


def operations(ws, spec, flt: Filters) -> list[Call]:
    sel = flt.selection()
    calls = _common(ws, spec) + [
        (r.pooled_metrics, (ws, sel, Grouping(), OPS_METRICS)),
        (r.metrics, (ws, sel, Grouping(by=("period", "version"), period=flt.period), OPS_METRICS)),
        (r.version_roles, (ws, spec.name))]
    if spec.business:
        calls.append((r.value_inputs, (ws, sel, Grouping(by=("period", "version"), period=flt.period), 0)))
    return calls + [(r.timeline, (ws, spec.name))]


def quality(ws, spec, flt: Filters) -> list[Call]:
    return _common(ws, spec) + [(r.quality, (ws, spec.name, None, None, flt.period))]


def explore(ws, spec, flt: Filters) -> list[Call]:
    grouping = Grouping(by=("period", "version"), period=flt.period)
    return _common(ws, spec) + [(r.metrics, (ws, flt.selection(), grouping, (PRIMARY_METRIC[spec.task], "volume")))]


#: page (app/views/<page>.py) -> its cached calls with the default filters
PAGES: dict[str, Callable[..., list[Call]]] = {
    "overview": overview, "drift": drift, "segments": segments, "compare": compare, "value": value,
    "operations": operations, "quality": quality, "explore": explore,
}


def page_calls(page: str, ws: tuple[str, float], spec) -> list[Call]:
    """The cached calls ``app/views/<page>.py`` makes for ``spec`` with the default filters."""
    return PAGES[page](ws, spec, Filters(model=spec.name))


#: The calls that failed while others ran beside them (e.g. out of memory at 20M rows with two
#: large queries at once), retried one at a time once the rest is done (:func:`retry`).
_failed: list[Call] = []
_failed_lock = threading.Lock()


def _page(page: str, ws, spec, uncached: bool = False) -> None:
    """Compute ``page``'s default calls (``uncached``: past the result caches, so the store
    remembers them); a call that fails is logged and kept for :func:`retry`."""
    for fn, args in page_calls(page, ws, spec):
        call = (getattr(fn, "__wrapped__", fn) if uncached else fn, args)
        try:
            call[0](*args)
        except Exception as exc:  # noqa: BLE001 - the page's own call reports it; the next calls still run
            log.warning("precompute: %s of %s (%s page) failed: %s", getattr(fn, "__name__", fn), spec.name, page, exc)
            with _failed_lock:
                _failed.append(call)


def retry(futures: list[Future]) -> int:
    """Once ``futures`` are done, compute again, alone, the calls that failed; the count retried."""
    wait(futures)
    with _failed_lock:
        calls, _failed[:] = list(_failed), []
    for fn, args in calls:
        try:
            fn(*args)
        except Exception as exc:  # noqa: BLE001 - the page's own call reports it
            log.warning("precompute: %s failed again: %s", getattr(fn, "__name__", fn), exc)
    return len(calls)


def ahead(ws: tuple[str, float], models) -> list[Call]:
    """The calls :func:`app.resources._home` starts: what every page asks first, then the
    rest of the filter-free answers, then each model's pages (the first model's first)."""
    calls = [c for m in models for c in home_calls(ws, m)[:2]]
    calls += [c for m in models for c in home_calls(ws, m)[2:]]
    return calls + [(_page, (page, ws, m)) for m in models for page in PAGES]


def after_refresh() -> None:
    """After a background store refresh: every page's default answers on the new data,
    past the result caches (which keep serving their answers until they expire)."""
    ws = r.ws_key()
    for spec in r.workspace().models:
        for page in PAGES:
            try:
                _page(page, ws, spec, uncached=True)
            except Exception:  # noqa: BLE001 - the page's own call reports it
                log.debug("precompute of %s for %s failed", page, spec.name, exc_info=True)
    retry([])
