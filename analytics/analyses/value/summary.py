"""The one aggregate query behind every value answer: :func:`value_summary` reduces a
selection to :class:`ValueInputs` (per group, version and decision cell: counts and sums
of every per-row value/cost column; per score-histogram bin for binary models)."""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import polars as pl

from analytics.config.workspace import ModelSpec
from analytics.errors import EmptySelectionError, SelectionError
from analytics.log.columns import C
from analytics.log.engine import Engine
from analytics.query.selection import Grouping, Selection
from analytics.store.answers import remembered
from ..roles import version_roles
from .assumptions import DEFAULT_BINS, Assumptions



@dataclass(frozen=True, eq=False)
class ValueInputs:
    """Aggregates of one selection, enough to evaluate any :class:`Assumptions`.

    ``cells`` has one row per (group keys, ``version``, decision ``lm_d``, label
    ``lm_y``, ``lm_scored``[, score bin ``lm_bin``]) with ``lm_n`` rows and, for
    each per-row column i of ``columns``: ``lm_s{i}`` sum (nulls as 0), ``lm_q{i}``
    sum of squares, ``lm_z{i}`` null count; binary with scores: ``lm_ps`` sum of scores, ``lm_ps{i}`` sum of score*column,
    ``lm_pz{i}`` sum of scores where the column is null, and ``lm_g{u}_{v}`` the Gram
    matrix sum(p(1-p) B_u B_v) of the basis B = (1, columns with nulls as 0, column
    null indicators) for the pending-value variance; multiclass: ``lm_pc{j}`` sum of
    normalized class-j scores and ``lm_pp{i}_{j}`` sums of their products;
    regression: ``lm_abs``/``lm_over``/``lm_under`` error sums and ``lm_over2``/
    ``lm_under2`` sums of squares (``lm_d`` is "has a
    prediction", ``lm_y`` "is labeled").
    """

    model: str
    task: str
    group_keys: tuple[str, ...]
    cells: pl.DataFrame
    columns: tuple[str, ...]
    bins: int
    threshold: float
    decisions_from_scores: bool
    has_scores: bool
    classes: tuple[str, ...]
    #: the workspace's numbers (``Assumptions.from_spec``): what-if starts from these
    defaults: Assumptions
    #: ``version -> "serving" | "shadow"`` (:mod:`analytics.analyses.roles`); shadows are left out
    #: of pooled rows and totals except for their compute cost
    roles: Mapping[str, str] = field(default_factory=dict)

    @property
    def versions(self) -> tuple[str, ...]:
        return tuple(sorted(self.cells["version"].unique().drop_nulls().to_list()))

    def column_means(self) -> dict[str, float | None]:
        """Each per-row column's mean over the labeled rows where it is not null."""
        lab = self.cells.filter(labeled_expr(self.task))
        out = {}
        for i, col in enumerate(self.columns):
            s = lab[f"lm_s{i}"].sum() if lab.height else 0.0
            k = (lab["lm_n"].sum() - lab[f"lm_z{i}"].sum()) if lab.height else 0
            out[col] = float(s) / k if k else None
        return out


def labeled_expr(task: str) -> pl.Expr:
    return pl.col("lm_y") if task == "regression" else pl.col("lm_y").is_not_null()


def _count(cond: ir.BooleanValue) -> ir.IntegerValue:
    return cond.cast("int64").sum()


def summary_expr(engine: Engine, selection: Selection, grouping: Grouping = Grouping(),
                 bins: int = 0, columns: tuple[str, ...] | None = None) -> ir.Table:
    """The aggregate query behind :class:`ValueInputs` (also for the SQL audit view)."""
    spec = engine.spec(selection.model)
    t = selection.apply(engine)
    keys = grouping.keys(t, spec)
    keys.setdefault("version", t[C.VERSION])
    cols = _summary_columns(spec) if columns is None else columns
    aggs: dict[str, Any] = {"lm_n": t.count()}
    score = None
    if spec.task == "binary":
        score = _binary_cells(spec, t, keys, aggs, bins)
    elif spec.task == "multiclass":
        _multiclass_cells(spec, t, keys, aggs)
    else:
        _regression_cells(t, keys, aggs)
    _column_sums(t, cols, score, aggs)
    return t.group_by(**keys).aggregate(**aggs)


def _binary_cells(spec: ModelSpec, t: ir.Table, keys: dict, aggs: dict, bins: int) -> ir.FloatingValue | None:
    """Decision, label and scored keys (and the score bin); the score sum. Returns the score (None: no scores)."""
    decision = t[C.PRED]
    score = t[C.SCORE] if spec.columns.score else None
    if score is not None:
        scored = score.notnull()
        aggs["lm_ps"] = score.sum()
        if bins:
            keys["lm_bin"] = score_bin(score, bins)
    else:
        scored = ibis.literal(False)
    if not spec.columns.prediction:
        # as in the metrics: a decision taken from the score needs a valid score
        decision = ibis.ifelse(scored, decision, ibis.null().cast(decision.type()))
    keys.update(lm_d=decision, lm_y=t[C.LABEL], lm_scored=scored)
    return score


def _multiclass_cells(spec: ModelSpec, t: ir.Table, keys: dict, aggs: dict) -> None:
    """Decision and label keys; sums of the normalized class scores and of their products."""
    probs = [t[C.proba(i)] for i in range(len(spec.columns.class_scores))]
    keys.update(lm_d=t[C.PRED], lm_y=t[C.LABEL])
    if not probs:
        keys["lm_scored"] = ibis.literal(False)
        return
    total = sum(probs[1:], probs[0])
    ok = ibis.and_(*[p.notnull() for p in probs]) & (total > 0)
    keys["lm_scored"] = ok
    for j, p in enumerate(probs):
        aggs[f"lm_pc{j}"] = ibis.ifelse(ok, p / total, ibis.literal(0.0)).sum()
    norm = [ibis.ifelse(ok, p / total, ibis.literal(0.0)) for p in probs]
    for i in range(len(norm)):
        for j in range(i, len(norm)):
            aggs[f"lm_pp{i}_{j}"] = (norm[i] * norm[j]).sum()


def _regression_cells(t: ir.Table, keys: dict, aggs: dict) -> None:
    """"Has a prediction" and "is labeled" keys; sums of the errors and of their squares."""
    err = t[C.PRED] - t[C.LABEL]
    keys.update(lm_d=t[C.PRED].notnull(), lm_y=t[C.LABELED])
    zero = ibis.literal(0.0)
    aggs["lm_abs"] = err.abs().sum()
    aggs["lm_over"] = ibis.ifelse(err > 0, err, zero).sum()
    aggs["lm_under"] = ibis.ifelse(err < 0, -err, zero).sum()
    aggs["lm_over2"] = ibis.ifelse(err > 0, err * err, zero).sum()
    aggs["lm_under2"] = ibis.ifelse(err < 0, err * err, zero).sum()


def _column_sums(t: ir.Table, cols: tuple[str, ...], score, aggs: dict) -> None:
    """Per per-row column: sum, nulls, sum of squares; with scores, the score-weighted
    sums and the Gram matrix of the pending-value variance (see :class:`ValueInputs`)."""
    for i, col in enumerate(cols):
        x = t[col]
        aggs[f"lm_s{i}"] = x.fill_null(0.0).sum()
        aggs[f"lm_z{i}"] = _count(x.isnull())
        aggs[f"lm_q{i}"] = (x.fill_null(0.0) * x.fill_null(0.0)).sum()
        if score is not None:
            aggs[f"lm_ps{i}"] = (score * x.fill_null(0.0)).sum()
            aggs[f"lm_pz{i}"] = ibis.ifelse(x.isnull(), score, ibis.literal(0.0)).sum()
    if score is None:
        return
    w = score * (1.0 - score)
    basis = [None] + [t[c].fill_null(0.0) for c in cols] + [ibis.ifelse(t[c].isnull(), 1.0, 0.0) for c in cols]
    for u in range(len(basis)):
        for v in range(u, len(basis)):
            term = w
            for b in (basis[u], basis[v]):
                term = term if b is None else term * b
            aggs[f"lm_g{u}_{v}"] = term.sum()


def score_bin(score: ir.FloatingValue, bins: int) -> ir.IntegerValue:
    """Index k of the bin ``[k/bins, (k+1)/bins)`` holding ``score`` (``bins`` for 1.0).

    ``floor(score * bins)`` can be one off where the product rounds across an
    integer; one comparison with each neighbouring edge (computed as ``k / bins``
    in double precision, exactly like :func:`bin_edges`) corrects it, so
    ``bin >= k`` is exactly ``score >= k / bins``.
    """
    nb = ibis.literal(float(bins))
    k0 = (score * nb).floor().cast("int64")
    lo = k0.cast("float64") / nb
    hi = (k0 + 1).cast("float64") / nb
    one, zero = ibis.literal(1), ibis.literal(0)
    return k0 - ibis.ifelse(score < lo, one, zero) + ibis.ifelse(score >= hi, one, zero)


def bin_edges(bins: int) -> np.ndarray:
    """The thresholds of a histogram of ``bins`` bins: ``k / bins`` for k = 0..bins."""
    return np.array([k / bins for k in range(bins + 1)])


def _summary_columns(spec: ModelSpec) -> tuple[str, ...]:
    return spec.business.value_columns() if spec.business else ()


@remembered("value_summary")
def value_summary(engine: Engine, selection: Selection, grouping: Grouping = Grouping(),
                  bins: int = DEFAULT_BINS) -> ValueInputs:
    """Run the one aggregate query; ``bins=0`` skips the score histogram (no threshold what-if).

    Raises :class:`EmptySelectionError` when the selection holds no predictions.
    """
    spec = selection.check(engine)
    if bins < 0 or (bins and bins < 10):
        raise SelectionError(f"The score histogram needs at least 10 bins (got {bins}).")
    has_scores = spec.task == "binary" and bool(spec.columns.score)
    if not has_scores:
        bins = 0
    cols = _summary_columns(spec)
    res = engine.execute(summary_expr(engine, selection, grouping, bins, cols), spec)
    cells = pl.from_arrow(res)
    assert isinstance(cells, pl.DataFrame)
    if cells.height == 0:
        raise EmptySelectionError(
            f"The selection holds no predictions of model {spec.name!r} ({selection.describe()}).")
    return ValueInputs(
        model=spec.name, task=spec.task, group_keys=tuple(grouping.by), cells=cells,
        columns=cols, bins=bins, threshold=spec.threshold,
        decisions_from_scores=spec.task == "binary" and not spec.columns.prediction,
        has_scores=has_scores, classes=spec.columns.classes,
        defaults=Assumptions.from_spec(spec), roles=dict(version_roles(engine, spec)))
