"""The value-maximizing decision threshold: value at every threshold of the score
histogram, per version (binary models with scores)."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl

from analytics.errors import SelectionError
from analytics.log.engine import Engine
from analytics.query.selection import Grouping, Selection
from .assumptions import DEFAULT_BINS, Assumptions, check_assumptions
from .cells import binary_parts, cell_value
from .evaluation import evaluate, resolve_assumptions
from .results import ThresholdCurve, VersionCurve
from .summary import ValueInputs, bin_edges, value_summary



def curve(inputs: ValueInputs, assumptions: Assumptions | None = None) -> ThresholdCurve:
    """The threshold analysis from a summary with a score histogram (pure).

    Value at threshold ``k/bins`` = value of scored rows in bins >= k decided
    positive, scored rows below decided negative, plus the (fixed) value of labeled
    rows without a score, which keep their logged decision. The best threshold is
    the one of greatest value (ties: the one nearest the current threshold); the
    value left on the table is best value minus value at the current decisions.
    """
    a = inputs.defaults if assumptions is None else assumptions
    if inputs.task != "binary":
        raise SelectionError(f"Threshold analysis applies to binary models; {inputs.model!r} is {inputs.task}.")
    if not inputs.bins:
        why = "it logs no scores" if not inputs.has_scores else "the summary has no score histogram"
        raise SelectionError(f"No threshold analysis for model {inputs.model!r}: {why}.")
    check_assumptions(inputs, a)
    cur = evaluate(dataclasses.replace(inputs, group_keys=("version",)), a)
    current = {r.group["version"]: r.value for r in cur.rows}
    a0 = a.replace(threshold=inputs.threshold)  # logged decisions: only the fixed rows use them
    parts, _, _ = binary_parts(inputs, a0)
    table = {(1, 1): a.tp, (1, 0): a.fp, (0, 1): a.fn, (0, 0): a.tn}
    y = pl.col("lm_y")
    pos, neg = pl.lit(0.0), pl.lit(0.0)
    for yy in (0, 1):
        pos = pl.when(y == yy).then(cell_value(inputs, table[(1, yy)])[0]).otherwise(pos)
        neg = pl.when(y == yy).then(cell_value(inputs, table[(0, yy)])[0]).otherwise(neg)
    lab = parts.filter(y.is_not_null())
    binned = lab.filter(pl.col("lm_scored") & pl.col("lm_bin").is_not_null()).with_columns(
        _pos=pos.cast(pl.Float64), _neg=neg.cast(pl.Float64))
    fixed = lab.filter(~(pl.col("lm_scored") & pl.col("lm_bin").is_not_null()) & pl.col("valued"))
    edges = bin_edges(inputs.bins)
    current_threshold = cur.threshold_used if cur.threshold_used is not None else float(a.threshold)
    out = {version: _version_curve(version, binned.filter(pl.col("version") == version),
                                   fixed.filter(pl.col("version") == version),
                                   int(lab.filter(pl.col("version") == version)["lm_n"].sum()), edges,
                                   float(a.threshold), current_threshold, current.get(version))
           for version in inputs.versions}
    return ThresholdCurve(model=inputs.model, currency=a.currency, bins=inputs.bins, versions=out)


def _version_curve(version: str, b: pl.DataFrame, f: pl.DataFrame, n_lab: int, edges: np.ndarray, thr: float,
                   current_threshold: float, at_cur: float | None) -> VersionCurve:
    """One version's curve from its binned labeled cells ``b`` and its fixed ones ``f``."""
    nb = len(edges)
    pos_v, neg_v = np.zeros(nb), np.zeros(nb)
    if b.height:
        g = b.group_by("lm_bin").agg(pl.col("_pos").sum(), pl.col("_neg").sum())
        idx = g["lm_bin"].to_numpy().astype(int)
        np.add.at(pos_v, idx, g["_pos"].to_numpy())
        np.add.at(neg_v, idx, g["_neg"].to_numpy())
    # value(k) = fixed + sum_{b >= k} pos[b] + sum_{b < k} neg[b]
    suffix_pos = np.concatenate([np.cumsum(pos_v[::-1])[::-1], [0.0]])[:nb]
    prefix_neg = np.concatenate([[0.0], np.cumsum(neg_v)])[:nb]
    values = float(f["val"].sum()) + suffix_pos + prefix_neg
    if n_lab == 0:
        return VersionCurve(version, 0, tuple(edges.tolist()), tuple(values.tolist()),
                            None, None, thr, None, None, "no labeled predictions")
    best_val = float(values.max())
    cands = np.flatnonzero(values >= best_val - 1e-9 * max(1.0, abs(best_val)))
    k = int(cands[np.argmin(np.abs(edges[cands] - thr))])
    return VersionCurve(
        version=version, n_labeled=n_lab, thresholds=tuple(edges.tolist()),
        values=tuple(values.tolist()), best_threshold=float(edges[k]), best_value=float(values[k]),
        current_threshold=current_threshold, value_at_current=at_cur,
        left_on_table=float(values[k]) - at_cur if at_cur is not None else None)


def threshold_curve(engine: Engine, selection: Selection, assumptions: Assumptions | None = None,
                    bins: int = DEFAULT_BINS) -> ThresholdCurve:
    """Value as a function of the decision threshold, per version (binary models with scores)."""
    a = resolve_assumptions(engine, selection, assumptions)
    spec = engine.spec(selection.model)
    if spec.task != "binary":
        raise SelectionError(f"Threshold analysis applies to binary models; {spec.name!r} is {spec.task}.")
    if not spec.columns.score:
        raise SelectionError(f"No threshold analysis for model {spec.name!r}: it logs no score column.")
    return curve(value_summary(engine, selection, Grouping(by=("version",)), bins=bins), a)
