"""Drift over time after a refresh: only the periods whose days changed are computed again.

The hook of :func:`analytics.analyses.drift.drift_over_time` for the store's answer
cache (:mod:`analytics.store.answers`, :mod:`analytics.store.incremental`). A numeric
target's row of a period depends only on that period's values and the reference: when
no changed day touches the reference window, those rows are kept for every period
without a changed day and computed again for the span of periods holding one.
Categorical targets are computed again whole: whether they are compared at all depends
on how many categories every window holds together (``MAX_CATEGORIES``).
"""

from __future__ import annotations

import polars as pl

from analytics.errors import EmptySelectionError
from analytics.store import incremental as inc


def by_period(q, fn, engine, given: dict, days: dict, *, targets) -> pl.DataFrame | None:
    """The answer on new data from the last one on other data (None: compute it whole);
    ``targets``: :func:`analytics.analyses.drift.targets`."""
    prev = inc.previous(q, days)
    if prev is None:
        return None
    old, changed = prev
    if inc.touches(given["reference"], changed):
        return None
    spec = engine.spec(given["model"])
    tgts = targets(engine, spec, given["features"], prediction=given["prediction"], label=given["label"])
    seen = set(old.select("feature", "role", "kind").unique().iter_rows())
    if any(t.empty or (t.name, t.role, t.kind) not in seen for t in tgts):
        return None   # the log's types changed (or a column has none): the kinds may have
    numeric = [t for t in tgts if t.kind == "numeric"]
    if not numeric:
        return None
    lo, hi = inc.span(changed, given["period"])
    common = dict(period=given["period"], config=given["config"])
    parts = [old.filter((pl.col("kind") == "numeric") & ~pl.col("period").is_between(lo, hi, closed="left"))]
    part = inc.narrowed(given["selection"], lo, hi)
    if part is not None:
        try:
            parts.append(fn(engine, given["model"], given["reference"], part,
                            features=[t.name for t in numeric if t.role == "feature"],
                            prediction=any(t.role == "prediction" for t in numeric),
                            label=any(t.role == "label" for t in numeric), **common))
        except EmptySelectionError:
            pass
    other = [t for t in tgts if t.kind != "numeric"]
    if other:
        parts.append(fn(engine, given["model"], given["reference"], given["selection"],
                        features=[t.name for t in other if t.role == "feature"],
                        prediction=any(t.role == "prediction" for t in other),
                        label=any(t.role == "label" for t in other), **common))
    return pl.concat(parts, how="vertical").sort(["period", "role", "feature"])
