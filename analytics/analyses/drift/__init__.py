"""Drift: has what the model sees (features), says (predictions) or meets (labels) changed?

Each *target* -- every feature, the prediction and the label -- is compared
between a reference window and a current window (or every period of a
selection, :func:`drift_over_time`). The statistics are defined exactly as
the reference implementations (see :mod:`analytics.stats.drift`) and computed
in the engine from sorted aggregates (see :mod:`analytics.analyses.drift.queries`):
nothing proportional to the log comes back to Python. The user's guide,
with the methods, thresholds and default windows, is ``analytics/docs/drift.md``.

Kinds: integer and float columns are *numeric* (even with few distinct
values), string and boolean columns *categorical*. Numeric targets get
``ks_statistic``, ``ks_p_value``, ``wasserstein``, ``wasserstein_normed``,
``psi`` and ``js_distance``; categorical ones ``chi2_p_value``, ``psi`` and
``js_distance``. Missing numeric values (NULL, NaN, +-inf) are left out of the
statistics and counted (``missing_ref``, ``missing_cur``); missing categorical
values are their own category ``(missing)``. Label drift uses labelled rows only.

Decision: one rule per kind, :class:`analytics.analyses.drift.rule.DriftRule` (its
docstring and ``analytics/docs/drift.md`` say it): effect sizes decide
(numeric: ``psi >= psi_threshold`` or ``wasserstein_normed >=
wasserstein_threshold``; categorical: ``psi >= psi_threshold`` or
``js_distance >= js_threshold``); while either window holds fewer than
``large_n`` values the KS / chi-square p-value must also be below
``p_value_threshold``. Each result carries the rule (``rule``) and the
sentence that applies it to its numbers (``why``).

The package, in the order the data flows: :mod:`.target` (what is compared, read from
which log), :mod:`.queries` (the engine's aggregates), :mod:`.statistics` (the registry
finishing them), :mod:`.rule` (the decision), :mod:`.evaluation` (all of it for every
target and key), :mod:`.results` (the typed results), :mod:`.windows` (the default
windows); this module holds the API: :func:`compute_drift`, :func:`drift_over_time`,
:func:`distribution`.
"""

from __future__ import annotations

from typing import Sequence

import ibis
import polars as pl

from analytics.config.workspace import ModelSpec
from analytics.errors import EmptySelectionError, SelectionError, suggest
from analytics.log.columns import C
from analytics.log.engine import Engine
from analytics.query.selection import PERIODS, Selection, period_start
from . import queries as q
from .evaluation import MAX_CATEGORIES, decide, evaluate, quantile_edges
from .results import FRAME_SCHEMA, DriftConfig, DriftResult, FeatureDrift
from .rule import DriftRule
from .target import Target, target_logs, targets
from .windows import DEFAULT_WINDOW, default_reference, resolve_windows

__all__ = [
    "DriftConfig", "FeatureDrift", "DriftResult", "compute_drift", "drift_over_time",
    "distribution", "default_reference", "resolve_windows", "decide",
    "DriftRule", "Target", "targets", "DEFAULT_WINDOW", "MAX_CATEGORIES",
]


def compute_drift(engine: Engine, model: str | ModelSpec, reference: Selection, current: Selection,
                  features: Sequence[str] | None = None, config: DriftConfig | None = None, *,
                  prediction: bool = True, label: bool = True) -> DriftResult:
    """Drift of each feature (all declared ones, or ``features``), the prediction and the label.

    ``config`` overrides the model's ``[models.drift]``; ``prediction=False`` /
    ``label=False`` leave those targets out (``None`` in the result).
    """
    spec = engine.spec(model)
    cfg = config or DriftConfig.from_spec(spec)
    tgts = targets(engine, spec, features, prediction=prediction, label=label)
    ev = evaluate(engine, spec, reference, current, ibis.literal(0), tgts, cfg, "current window")
    res = {t: by_key[0] for t, by_key in ev.by_target.items()}
    feats = {t.name: f for t, f in res.items() if t.role == "feature"}
    pred = next((f for t, f in res.items() if t.role == "prediction"), None)
    lab = next((f for t, f in res.items() if t.role == "label"), None)
    return DriftResult(model=spec.name, features=feats, prediction=pred, label=lab,
                       reference_n=ev.ref_rows, current_n=ev.cur_rows[0],
                       reference=reference, current=current, config=cfg)


def drift_over_time(engine: Engine, model: str | ModelSpec, reference: Selection, selection: Selection,
                    period: str = "week", features: Sequence[str] | None = None,
                    config: DriftConfig | None = None, *, prediction: bool = True,
                    label: bool = True) -> pl.DataFrame:
    """Drift of every target in each period of ``selection`` against ``reference``.

    One row per (period, target): ``period`` (date that starts it), ``role``,
    ``feature`` and the :class:`FeatureDrift` fields. All periods are served by
    the same queries (one pass per target over the sorted values).
    """
    if period not in PERIODS:
        raise SelectionError(f"Period {period!r} is not one of day, week, month.")
    spec = engine.spec(model)
    cfg = config or DriftConfig.from_spec(spec)
    tgts = targets(engine, spec, features, prediction=prediction, label=label)
    ev = evaluate(engine, spec, reference, selection, lambda t: period_start(t[C.TS], period),
                   tgts, cfg, "selection")
    rows = []
    for t, by_key in ev.by_target.items():
        for k, f in by_key.items():
            rows.append({"period": k, "role": t.role, "feature": t.name, **f.row()})
    frame = pl.DataFrame(rows, schema={"period": pl.Date, **FRAME_SCHEMA})
    return frame.sort(["period", "role", "feature"])


def distribution(engine: Engine, model: str | ModelSpec, feature: str, reference: Selection,
                 current: Selection, config: DriftConfig | None = None) -> pl.DataFrame:
    """The two distributions a chart compares, on the bins PSI and Jensen-Shannon use.

    ``feature`` is a feature name, or the prediction's / label's name (or the
    words ``prediction`` / ``label``). Columns: ``bin`` (a category, or a
    numeric interval as text), ``lower``, ``upper`` (numeric: the bin's edges,
    NULL for infinite), ``ref_count``, ``cur_count``, ``ref_share``, ``cur_share``.
    """
    spec = engine.spec(model)
    cfg = config or DriftConfig.from_spec(spec)
    every = targets(engine, spec)
    t = next((x for x in every if x.role == "feature" and x.name == feature), None) \
        or next((x for x in every if x.role != "feature" and feature in (x.name, x.role)), None)
    if t is None:
        names = [x.name for x in every]
        raise SelectionError(f"Model {spec.name!r} has no feature {feature!r}{suggest(feature, names)}; "
                             f"choose from: {', '.join(names)}.")
    log, _ = target_logs(engine, spec, [t])[0]
    st = q.flagged(log, reference.predicates(engine, log), current.predicates(engine, log), ibis.literal(0),
                   v0=t.value)
    vc = q.windowed(q.value_counts(st, [t.kind]))
    if t.kind == "numeric":
        summary = engine.execute(q.reference_summary_query(vc, [0], cfg.bins), spec).to_pylist()
        if not summary:
            raise EmptySelectionError(f"The reference window ({reference.describe()}) of model {spec.name!r} "
                                      f"holds no values of {t.name!r}.")
        edges = quantile_edges(summary[0], cfg.bins)
        b = vc.filter(vc[q.XN].notnull())
        b = b.group_by([b[q.IS_REF], q.bin_index(b[q.XN], edges).name("_bin")]).aggregate(c=b.c.sum())
        rows = engine.execute(b, spec).to_pylist()
        bounds = [None] + edges + [None]
        labels = [f"({'-inf' if lo is None else f'{lo:g}'}, {'inf' if hi is None else f'{hi:g}'}]"
                  for lo, hi in zip(bounds[:-1], bounds[1:])]
        keys = list(range(len(edges) + 1))
        counts = {(r[q.IS_REF], r["_bin"]): int(r["c"]) for r in rows}
        data = {"bin": labels, "lower": bounds[:-1], "upper": bounds[1:]}
    else:
        rows = engine.execute(q.categorical_query(vc, [0], 2 * MAX_CATEGORIES + 1), spec).to_pylist()
        keys = sorted({r[q.X] for r in rows})
        counts = {(r[q.IS_REF], r[q.X]): int(r["c"]) for r in rows}
        data = {"bin": keys, "lower": [None] * len(keys), "upper": [None] * len(keys)}
    rc = [counts.get((True, k), 0) for k in keys]
    cc = [counts.get((False, k), 0) for k in keys]
    data.update(ref_count=rc, cur_count=cc,
                ref_share=[x / sum(rc) if sum(rc) else None for x in rc],
                cur_share=[x / sum(cc) if sum(cc) else None for x in cc])
    return pl.DataFrame(data, schema={"bin": pl.Utf8, "lower": pl.Float64, "upper": pl.Float64,
                                      "ref_count": pl.Int64, "cur_count": pl.Int64,
                                      "ref_share": pl.Float64, "cur_share": pl.Float64})
