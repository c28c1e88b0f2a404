"""Drift over time after a refresh: only the periods whose days changed are computed again.

The hook of :func:`analytics.analyses.drift.drift_over_time` for the store's answer
cache (:mod:`analytics.store.answers`, :mod:`analytics.store.incremental`). A target's
row of a period depends only on that period's values and the reference's, so the rows
of every period without a changed day are kept, and the runs of periods holding one
are computed again, when no changed day touches the reference window.

Which days changed depends on the target: a feature read from the prediction files and
the prediction itself depend on the prediction rows alone, so a day rebuilt only for
late outcomes (same prediction files, :func:`~analytics.store.incremental.prediction_days`)
changes none of their rows; the label (and a feature logged with the outcomes, or a
selection filtering on one) counts every changed day. Targets with the same changed
days are computed together.

Categorical targets have one rule over every window and target together: when the counts
of all windows hold more than ``20 * MAX_CATEGORIES`` rows none is compared. Rows are
kept (and a subset of targets or periods computed) only when no kept row says so, and
when every window together cannot exceed it (at most as many categories per window as
the column holds in the whole log: one small query); otherwise the answer is computed whole.
"""

from __future__ import annotations

import polars as pl

from analytics.errors import EmptySelectionError
from analytics.store import incremental as inc
from .evaluation import MAX_CATEGORIES

#: The whole-answer limit of the categorical counts (see :func:`.evaluation._categorical_stats`).
CATEGORY_ROWS = 20 * MAX_CATEGORIES


def by_period(q, fn, engine, given: dict, days: dict, *, targets) -> pl.DataFrame | None:
    """The answer on new data from the last one on other data (None: compute it whole);
    ``targets``: :func:`analytics.analyses.drift.targets`."""
    prev = inc.previous_split(q, days)
    if prev is None:
        return None
    old, changed, changed_pred = prev
    spec = engine.spec(given["model"])
    tgts = targets(engine, spec, given["features"], prediction=given["prediction"], label=given["label"])
    seen = set(old.select("feature", "role", "kind").unique().iter_rows())
    if any(t.empty or (t.name, t.role, t.kind) not in seen for t in tgts):
        return None   # the log's types changed (or a column has none): the kinds may have
    light = _prediction_only(engine, spec, given, tgts)
    groups: dict[frozenset, list] = {}
    for t in tgts:
        groups.setdefault(frozenset(changed_pred if t in light else changed), []).append(t)
    if any(groups) and not _categories_fit(engine, spec, given, old, tgts, changed):
        return None
    parts = []
    for days_changed, group in groups.items():
        kept = old.filter((pl.col("role") + "|" + pl.col("feature")).is_in([f"{t.role}|{t.name}" for t in group]))
        parts.extend(_group(fn, engine, given, kept, group, set(days_changed)))
    return pl.concat(parts, how="vertical").sort(["period", "role", "feature"])


def _prediction_only(engine, spec, given: dict, tgts) -> set:
    """The targets whose rows depend on the prediction rows alone (see the module docstring)."""
    if not spec.outcomes:
        return set(tgts)
    cols = set(engine.raw(spec, "predictions").columns)
    if any(c not in cols for sel in (given["reference"], given["selection"]) for c, _ in sel.where):
        return set()
    return {t for t in tgts if not t.labeled_only and t.role != "label"
            and (t.role == "prediction" or t.column in cols)}


def _call(fn, engine, given: dict, selection, group) -> pl.DataFrame | None:
    try:
        return fn(engine, given["model"], given["reference"], selection,
                  features=[t.name for t in group if t.role == "feature"],
                  prediction=any(t.role == "prediction" for t in group),
                  label=any(t.role == "label" for t in group), period=given["period"], config=given["config"])
    except EmptySelectionError:
        return None


def _group(fn, engine, given: dict, kept: pl.DataFrame, group, changed) -> list:
    """The rows of ``group`` (targets with the same changed days ``changed``)."""
    if not changed:
        return [kept]
    names = ", ".join(t.name for t in group)
    if inc.touches(given["reference"], changed):
        inc.log.debug("drift_over_time: %s computed again whole", names)
        whole = _call(fn, engine, given, given["selection"], group)
        return [] if whole is None else [whole]
    spans = inc.runs(changed, given["period"])
    out = [kept.filter(~pl.any_horizontal([pl.col("period").is_between(lo, hi, closed="left") for lo, hi in spans]))]
    for lo, hi in spans:
        part = inc.narrowed(given["selection"], lo, hi)
        if part is None:
            continue
        inc.log.debug("drift_over_time: %s, periods %s to %s computed again", names, lo, hi)
        new = _call(fn, engine, given, part, group)
        if new is not None:
            out.append(new)
    return out


def _categories_fit(engine, spec, given: dict, old: pl.DataFrame, tgts, changed) -> bool:
    """Whether the categorical targets stay under the whole-answer limit, before (no kept
    row says otherwise) and after (windows x categories of the column in the whole log)."""
    cats = [t for t in tgts if t.kind == "categorical"]
    if not cats:
        return True
    if old.filter(pl.col("kind") == "categorical")["reason"].str.contains("categories: not compared").any():
        return False
    key = (engine.stored(spec), tuple(t.column for t in cats))
    count = _CATEGORIES.get(key)   # the same data (its stored files), the same columns: the same count
    if count is None:
        log = engine.log(spec)
        n = engine.execute(log.aggregate(**{f"n{i}": t.value(log).nunique() for i, t in enumerate(cats)}),
                           spec).to_pylist()[0]
        count = sum(int(v or 0) for v in n.values())
        _CATEGORIES.clear()   # one entry: sessions on other data recount (a read never needs the entry)
        _CATEGORIES[key] = count
    windows = old["period"].n_unique() + len({inc.period_of(d, given["period"]) for d in changed}) + 1
    return windows * count <= CATEGORY_ROWS


#: The last count of :func:`_categories_fit`, by (stored files, columns): the versions of
#: one report ask it of the same data.
_CATEGORIES: dict[tuple, int] = {}
