"""What a model is worth: value, baseline, compute cost, lift, net value, ROI,
pending value and the value-maximizing decision threshold.

The work is split in two so that a what-if ("what if a false positive cost 25?")
costs no query:

1. :func:`value_summary` runs ONE aggregate query over the log and returns
   :class:`ValueInputs`: per group, per version and per *decision cell* (decision x
   outcome), row counts and sums of every per-row value/cost column; for binary
   models with scores, per score-histogram bin as well.
2. :func:`evaluate` is pure Python (polars) over those small aggregates: it applies
   :class:`Assumptions` (the business numbers, overridable) and returns
   :class:`ValueResult`.

``compute_value(engine, sel, grouping, assumptions)`` is
``evaluate(value_summary(engine, sel, grouping), assumptions)``, and
:func:`threshold_curve` is :func:`curve` over a summary grouped by version.

Definitions (see ``analytics/docs/value.md`` for the user-facing version):

- **value**: the sum, over labeled rows that have a decision, of what each outcome
  is worth. Binary: ``tp``/``fp``/``fn``/``tn`` by (decision ``C.PRED``, label);
  multiclass: ``value_matrix[actual][predicted]`` (pairs absent are worth 0);
  regression: ``-(cost_per_unit_error * |error|)`` or
  ``-(cost_over * over-prediction + cost_under * under-prediction)``. A per-row
  value column that is null on a row it applies to counts as 0 and is reported
  (``value_nulls``, ``baseline_nulls`` and a warning).
- **baseline value**, over the same rows: ``all_negative`` / ``all_positive``
  (binary: every row decided negative / positive), ``all_<class>`` (multiclass:
  every row routed to that class), ``none`` (0), or a version name V: V's value per
  valued row *in the same group* (same period and segments; all of V's rows when
  the group has no other key) times the group's valued rows.
- **compute cost**: ``cost_per_1k * n / 1000`` plus the sum of ``cost_column``,
  over every prediction of the group, labeled or not.
- ``lift = value - baseline_value``; ``net_value = lift - compute_cost``;
  ``roi = net_value / compute_cost`` (null with ``roi_reason`` when the cost is 0).
- **pending**: rows without a (valid) label. ``pending_expected_value`` is an
  *estimate* that takes the scores as calibrated probabilities (binary: ``p*v(d,1) +
  (1-p)*v(d,0)``; multiclass: ``sum_c p_c * value_matrix[c][d]`` with the class
  scores normalized to sum to 1). A per-row value that is null on a pending row
  (columns that arrive with the outcome) is replaced by that column's mean over
  the selection's labeled rows.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import polars as pl

from analytics.config.workspace import Business, ModelSpec, Value
from analytics.errors import ConfigError, EmptySelectionError, SelectionError
from analytics.log.columns import C
from analytics.log.engine import Engine
from analytics.query.selection import Grouping, Selection, group_dict
from ..roles import SERVING, SHADOW, version_roles

#: Baseline policies that are not version names.
POLICIES = ("all_negative", "all_positive", "none")
#: Bins of the score histogram (thresholds are the bin edges k / bins).
DEFAULT_BINS = 1000
#: Two-sided 95% normal quantile.
Z95 = 1.959963984540054

PENDING_ASSUMPTION = {
    "binary": ("estimate, not realized: assumes the scores are calibrated probabilities "
               "(E[value] = p*v(decision, positive) + (1-p)*v(decision, negative) per pending row)"),
    "multiclass": ("estimate, not realized: assumes the class scores (normalized to sum to 1) are "
                   "calibrated probabilities (E[value] = sum over classes of p_c * value_matrix[c][decision])"),
    "regression": None,
}

# --------------------------------------------------------------------------- assumptions


@dataclass(frozen=True)
class Assumptions(Business):
    """The business numbers a value computation uses (the fields of
    :class:`~analytics.config.workspace.Business`); every field can be overridden.

    ``tp``/``fp``/``fn``/``tn`` are numbers or names of per-row value columns
    (columns must be ones the workspace declares, since only those are aggregated).
    ``threshold`` is the binary decision threshold: when it differs from the one the
    logged decisions used, rows are re-decided from the score histogram, at the
    nearest bin edge (reported as ``ValueResult.threshold_used``).
    """

    @classmethod
    def from_business(cls, business: Business | None) -> "Assumptions":
        """The workspace's ``[models.business]`` numbers (defaults when absent)."""
        if business is None:
            return cls()
        return cls(**{f.name: getattr(business, f.name) for f in dataclasses.fields(cls)})

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> "Assumptions":
        a = cls.from_business(spec.business)
        if spec.business is None and spec.task != "binary":
            a = a.replace(baseline="none")
        return a.replace(threshold=spec.threshold)

    def replace(self, **changes) -> "Assumptions":
        """A copy with some numbers changed (what-if)."""
        return dataclasses.replace(self, **changes)

    def columns(self) -> tuple[str, ...]:
        """Per-row value and cost columns these numbers read."""
        return self.value_columns()

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["value_matrix"] = _matrix_dict(self.value_matrix)
        return d


def _matrix_dict(entries) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for a, p, v in entries:
        out.setdefault(a, {})[p] = v
    return out


# --------------------------------------------------------------------------- inputs


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
        lab = self.cells.filter(_labeled_expr(self.task))
        out = {}
        for i, col in enumerate(self.columns):
            s = lab[f"lm_s{i}"].sum() if lab.height else 0.0
            k = (lab["lm_n"].sum() - lab[f"lm_z{i}"].sum()) if lab.height else 0
            out[col] = float(s) / k if k else None
        return out


def _labeled_expr(task: str) -> pl.Expr:
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
    has_scores = spec.task == "binary" and bool(spec.columns.score)
    if spec.task == "binary":
        decision = t[C.PRED]
        if has_scores:
            score = t[C.SCORE]
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
    elif spec.task == "multiclass":
        probs = [t[C.proba(i)] for i in range(len(spec.columns.class_scores))]
        keys.update(lm_d=t[C.PRED], lm_y=t[C.LABEL])
        if probs:
            total = sum(probs[1:], probs[0])
            ok = ibis.and_(*[p.notnull() for p in probs]) & (total > 0)
            keys["lm_scored"] = ok
            for j, p in enumerate(probs):
                aggs[f"lm_pc{j}"] = ibis.ifelse(ok, p / total, ibis.literal(0.0)).sum()
            norm = [ibis.ifelse(ok, p / total, ibis.literal(0.0)) for p in probs]
            for i in range(len(norm)):
                for j in range(i, len(norm)):
                    aggs[f"lm_pp{i}_{j}"] = (norm[i] * norm[j]).sum()
        else:
            keys["lm_scored"] = ibis.literal(False)
    else:
        err = t[C.PRED] - t[C.LABEL]
        keys.update(lm_d=t[C.PRED].notnull(), lm_y=t[C.LABELED])
        zero = ibis.literal(0.0)
        aggs["lm_abs"] = err.abs().sum()
        aggs["lm_over"] = ibis.ifelse(err > 0, err, zero).sum()
        aggs["lm_under"] = ibis.ifelse(err < 0, -err, zero).sum()
        aggs["lm_over2"] = ibis.ifelse(err > 0, err * err, zero).sum()
        aggs["lm_under2"] = ibis.ifelse(err < 0, err * err, zero).sum()
    for i, col in enumerate(cols):
        x = t[col]
        aggs[f"lm_s{i}"] = x.fill_null(0.0).sum()
        aggs[f"lm_z{i}"] = _count(x.isnull())
        aggs[f"lm_q{i}"] = (x.fill_null(0.0) * x.fill_null(0.0)).sum()
        if has_scores:
            aggs[f"lm_ps{i}"] = (score * x.fill_null(0.0)).sum()
            aggs[f"lm_pz{i}"] = ibis.ifelse(x.isnull(), score, ibis.literal(0.0)).sum()
    if has_scores:
        w = score * (1.0 - score)
        basis = [None] + [t[c].fill_null(0.0) for c in cols] \
            + [ibis.ifelse(t[c].isnull(), 1.0, 0.0) for c in cols]
        for u in range(len(basis)):
            for v in range(u, len(basis)):
                term = w
                for b in (basis[u], basis[v]):
                    term = term if b is None else term * b
                aggs[f"lm_g{u}_{v}"] = term.sum()
    return t.group_by(**keys).aggregate(**aggs)


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


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ValueRow:
    """One group's value. Money in the result's currency; ``None`` comes with a reason."""

    group: dict
    n: int
    n_labeled: int
    value: float | None
    baseline_value: float | None
    lift: float | None
    compute_cost: float
    net_value: float | None
    roi: float | None
    roi_reason: str | None
    pending_n: int
    pending_share: float | None
    pending_expected_value: float | None
    #: version baseline only: 95% interval from the sampling error of that version's value
    #: per prediction (policy baselines are exact counterfactual sums: no interval)
    baseline_ci_low: float | None = None
    baseline_ci_high: float | None = None
    lift_ci_low: float | None = None
    lift_ci_high: float | None = None
    #: 95% interval of the pending value from the outcomes' randomness alone, given
    #: calibrated scores (normal approximation); calibration error is not in it
    pending_ci_low: float | None = None
    pending_ci_high: float | None = None
    pending_reason: str | None = None
    pending_assumption: str | None = None
    value_reason: str | None = None
    baseline_reason: str | None = None
    value_nulls: int = 0
    baseline_nulls: int = 0
    cost_nulls: int = 0
    excluded_n: int = 0
    cumulative_net_value: float | None = None
    #: a version's row: "serving" or "shadow" (a shadow's value is its value *if promoted*,
    #: never realized); a row pooling versions: None
    role: str | None = None
    #: a row pooling versions: shadow predictions left out of ``n`` and the value, and their
    #: compute cost, which IS in ``compute_cost`` (a shadow costs compute)
    shadow_n: int = 0
    shadow_compute_cost: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ValueTotals:
    """The selection's total over every group: the serving versions' value and lift,
    the compute cost of every version (shadows included), net value and ROI."""

    serving_versions: tuple[str, ...]
    shadow_versions: tuple[str, ...]
    n: int
    value: float | None
    lift: float | None
    compute_cost: float
    shadow_compute_cost: float
    net_value: float | None
    roi: float | None
    roi_reason: str | None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["serving_versions"] = list(self.serving_versions)
        d["shadow_versions"] = list(self.shadow_versions)
        return d

    def pooled(self) -> str:
        """``"pooled over v1, v2 (serving); v3 (shadow) left out"``."""
        text = f"pooled over {', '.join(self.serving_versions) or 'no version'} (serving)"
        if self.shadow_versions:
            text += f"; {', '.join(self.shadow_versions)} (shadow) left out, its compute cost counted"
        return text


@dataclass(frozen=True)
class ValueResult:
    model: str
    task: str
    currency: str
    group_keys: tuple[str, ...]
    assumptions: Assumptions
    threshold_used: float | None
    rows: tuple[ValueRow, ...]
    warnings: tuple[str, ...] = ()
    totals: ValueTotals | None = None

    def to_dict(self) -> dict[str, Any]:
        """The contract's ``roi`` JSON (plus extension fields)."""
        return {"model": self.model, "task": self.task, "currency": self.currency,
                "threshold": self.threshold_used, "assumptions": self.assumptions.to_dict(),
                "warnings": list(self.warnings), "rows": [r.to_dict() for r in self.rows],
                "totals": self.totals.to_dict() if self.totals else None}

    def to_polars(self) -> pl.DataFrame:
        """One row per group: group keys, then every :class:`ValueRow` field."""
        recs = []
        for r in self.rows:
            d = r.to_dict()
            g = d.pop("group")
            recs.append({**g, **d})
        if not recs:
            names = list(self.group_keys) + [f.name for f in dataclasses.fields(ValueRow) if f.name != "group"]
            return pl.DataFrame({k: [] for k in names})
        return pl.DataFrame(recs, infer_schema_length=None)


# --------------------------------------------------------------------------- evaluation


def _is_policy(baseline: str, task: str) -> bool:
    if baseline == "none":
        return True
    if task == "binary":
        return baseline in ("all_negative", "all_positive")
    if task == "multiclass":
        return baseline.startswith("all_")
    return False


def _check_assumptions(inputs: ValueInputs, a: Assumptions) -> None:
    for key in ("tp", "fp", "fn", "tn", "cost_column"):
        v = getattr(a, key)
        if isinstance(v, str) and v not in inputs.columns:
            raise ConfigError(
                f"Value {key} = {v!r} of model {inputs.model!r} is not a per-row column the "
                f"workspace declares ({', '.join(inputs.columns) or 'none'}); use a number.")
    for key in ("tp", "fp", "fn", "tn", "cost_per_1k", "threshold"):
        v = getattr(a, key)
        if not isinstance(v, str) and (v is None or not math.isfinite(float(v))):
            raise ConfigError(f"Value assumption {key} must be a finite number (got {v!r}).")
    if not 0.0 <= a.threshold <= 1.0:
        raise ConfigError(f"The decision threshold must be between 0 and 1 (got {a.threshold}).")


def _decisions(inputs: ValueInputs, a: Assumptions) -> tuple[pl.DataFrame, float | None, list[str]]:
    """Binary cells with the decision ``dec`` the assumptions imply, and the threshold used."""
    cells = inputs.cells
    same = math.isclose(a.threshold, inputs.threshold, rel_tol=0, abs_tol=1e-15)
    if not inputs.decisions_from_scores and same:
        return cells.with_columns(dec=pl.col("lm_d")), None, []
    if same:
        return cells.with_columns(dec=pl.col("lm_d")), inputs.threshold, []
    if not inputs.bins:
        why = ("it logs no scores" if not inputs.has_scores
               else "the summary was built without a score histogram (bins=0)")
        raise SelectionError(f"Cannot change the decision threshold of model {inputs.model!r}: {why}.")
    k = int(round(a.threshold * inputs.bins))
    used = k / inputs.bins
    notes = []
    if not math.isclose(used, a.threshold, rel_tol=0, abs_tol=1e-12):
        notes.append(f"threshold {a.threshold} was moved to {used}, the nearest edge of the "
                     f"{inputs.bins}-bin score histogram")
    dec = (pl.when(pl.col("lm_scored") & pl.col("lm_bin").is_not_null())
           .then((pl.col("lm_bin") >= k).cast(pl.Int64)).otherwise(pl.col("lm_d")))
    return cells.with_columns(dec=dec), used, notes


def _cell_square(inputs: ValueInputs, v: Value) -> pl.Expr:
    """A cell's sum of squared per-row values of outcome value ``v`` (nulls as 0)."""
    if isinstance(v, str):
        return pl.col(f"lm_q{inputs.columns.index(v)}")
    return pl.lit(float(v) ** 2) * pl.col("lm_n")


def _cell_value(inputs: ValueInputs, v: Value) -> tuple[pl.Expr, pl.Expr]:
    """A cell's total of outcome value ``v`` and the number of nulls counted as 0."""
    if isinstance(v, str):
        i = inputs.columns.index(v)
        return pl.col(f"lm_s{i}"), pl.col(f"lm_z{i}")
    return pl.lit(float(v)) * pl.col("lm_n"), pl.lit(0)


def _expected_part(inputs: ValueInputs, v: Value, means: dict, weight_one: bool) -> pl.Expr:
    """Sum over a pending cell of p*v (``weight_one``) or (1-p)*v, nulls replaced by the mean."""
    if isinstance(v, str):
        i = inputs.columns.index(v)
        m = means.get(v) or 0.0
        pv = pl.col(f"lm_ps{i}") + m * pl.col(f"lm_pz{i}")
        if weight_one:
            return pv
        return pl.col(f"lm_s{i}") + m * pl.col(f"lm_z{i}") - pv
    p = pl.col("lm_ps") if weight_one else pl.col("lm_n") - pl.col("lm_ps")
    return pl.lit(float(v)) * p


def _basis_coefs(inputs: ValueInputs, v: Value, means: dict, sign: float) -> dict[int, float]:
    """Outcome value ``v`` per row as coefficients on the basis (1, c_0.., z_0..).

    A column i is ``c_i + m_i * z_i`` (nulls replaced by the mean m_i).
    """
    if isinstance(v, str):
        i = inputs.columns.index(v)
        k = len(inputs.columns)
        return {1 + i: sign, 1 + k + i: sign * (means.get(v) or 0.0)}
    return {0: sign * float(v)}


def _quadratic_form(coefs: dict[int, float]) -> pl.Expr:
    """sum over u, v of coef_u coef_v G[u, v] (G symmetric, stored as ``lm_g{u}_{v}``, u <= v)."""
    out = pl.lit(0.0)
    items = sorted((u, c) for u, c in coefs.items() if c != 0.0)
    for a, (u, cu) in enumerate(items):
        for v, cv in items[a:]:
            out = out + (cu * cv * (1.0 if u == v else 2.0)) * pl.col(f"lm_g{u}_{v}")
    return out


def _binary_parts(inputs: ValueInputs, a: Assumptions) -> tuple[pl.DataFrame, float | None, list[str]]:
    """Per cell: ``val``, ``val_nulls``, ``base``, ``base_nulls``, ``pend_ev``."""
    cells, used, notes = _decisions(inputs, a)
    d, y = pl.col("dec"), pl.col("lm_y")
    table = {(1, 1): a.tp, (1, 0): a.fp, (0, 1): a.fn, (0, 0): a.tn}
    val, sq, nul = pl.lit(0.0), pl.lit(0.0), pl.lit(0)
    for (dd, yy), v in table.items():
        e, z = _cell_value(inputs, v)
        cell = (d == dd) & (y == yy)
        val = pl.when(cell).then(e).otherwise(val)
        sq = pl.when(cell).then(_cell_square(inputs, v)).otherwise(sq)
        nul = pl.when(cell).then(z).otherwise(nul)
    base = pl.lit(0.0)
    bnul = pl.lit(0)
    if a.baseline in ("all_negative", "all_positive"):
        bd = 1 if a.baseline == "all_positive" else 0
        for yy in (0, 1):
            e, z = _cell_value(inputs, table[(bd, yy)])
            base = pl.when(y == yy).then(e).otherwise(base)
            bnul = pl.when(y == yy).then(z).otherwise(bnul)
    means = inputs.column_means() if inputs.columns else {}
    ev, var = pl.lit(0.0), pl.lit(0.0)
    for dd in ((0, 1) if inputs.has_scores else ()):
        part = (_expected_part(inputs, table[(dd, 1)], means, True)
                + _expected_part(inputs, table[(dd, 0)], means, False))
        ev = pl.when(d == dd).then(part).otherwise(ev)
        diff = _basis_coefs(inputs, table[(dd, 1)], means, 1.0)
        for u, c in _basis_coefs(inputs, table[(dd, 0)], means, -1.0).items():
            diff[u] = diff.get(u, 0.0) + c
        var = pl.when(d == dd).then(_quadratic_form(diff)).otherwise(var)
    out = cells.with_columns(
        val=val.cast(pl.Float64), val_sq=sq.cast(pl.Float64), val_nulls=nul.cast(pl.Int64),
        base=base.cast(pl.Float64),
        base_nulls=bnul.cast(pl.Int64), pend_ev=ev.cast(pl.Float64), pend_var=var.cast(pl.Float64),
        valued=y.is_not_null() & d.is_not_null(),
        pend_scored=y.is_null() & d.is_not_null() & pl.col("lm_scored"))
    return out, used, notes


def _multiclass_parts(inputs: ValueInputs, a: Assumptions) -> pl.DataFrame:
    m = _matrix_dict(a.value_matrix)
    d, y = pl.col("lm_d"), pl.col("lm_y")
    pairs = pl.DataFrame({"lm_y": [x[0] for x in a.value_matrix], "lm_d": [x[1] for x in a.value_matrix],
                          "_v": [float(x[2]) for x in a.value_matrix]},
                         schema={"lm_y": pl.String, "lm_d": pl.String, "_v": pl.Float64})
    cells = inputs.cells.join(pairs, on=["lm_y", "lm_d"], how="left", nulls_equal=False)
    base = pl.lit(0.0)
    if a.baseline.startswith("all_") and a.baseline != "all_":
        target = a.baseline[4:]
        col_map = {actual: row.get(target, 0.0) for actual, row in m.items()}
        base = y.replace_strict(col_map, default=0.0, return_dtype=pl.Float64) * pl.col("lm_n")
    # per row: E = sum_j p_j M[j][d]; Var = sum_j p_j M[j][d]^2 - E^2
    ev, second, sq = pl.lit(0.0), pl.lit(0.0), pl.lit(0.0)
    k = len(inputs.classes) if "lm_pc0" in cells.columns else 0
    mv = [d.replace_strict(m.get(cls, {}), default=0.0, return_dtype=pl.Float64) for cls in inputs.classes[:k]]
    for i in range(k):
        ev = ev + mv[i] * pl.col(f"lm_pc{i}")
        second = second + mv[i] * mv[i] * pl.col(f"lm_pc{i}")
        for j in range(i, k):
            sq = sq + (1.0 if i == j else 2.0) * mv[i] * mv[j] * pl.col(f"lm_pp{i}_{j}")
    return cells.with_columns(
        val=(pl.col("_v").fill_null(0.0) * pl.col("lm_n")),
        val_sq=(pl.col("_v").fill_null(0.0) ** 2 * pl.col("lm_n")), val_nulls=pl.lit(0, pl.Int64),
        base=base.cast(pl.Float64), base_nulls=pl.lit(0, pl.Int64), pend_ev=ev.cast(pl.Float64),
        pend_var=(second - sq).cast(pl.Float64),
        valued=y.is_not_null() & d.is_not_null(),
        pend_scored=y.is_null() & d.is_not_null() & pl.col("lm_scored"))


def _regression_parts(inputs: ValueInputs, a: Assumptions) -> pl.DataFrame:
    # over- and under-prediction never both occur on a row: the squares add up
    if a.cost_over is not None and a.cost_under is not None:
        val = -(a.cost_over * pl.col("lm_over") + a.cost_under * pl.col("lm_under"))
        sq = a.cost_over ** 2 * pl.col("lm_over2") + a.cost_under ** 2 * pl.col("lm_under2")
    elif a.cost_per_unit_error is not None:
        val = -a.cost_per_unit_error * pl.col("lm_abs")
        sq = a.cost_per_unit_error ** 2 * (pl.col("lm_over2") + pl.col("lm_under2"))
    else:
        val = sq = pl.lit(None, pl.Float64)
    return inputs.cells.with_columns(
        val=val.cast(pl.Float64), val_sq=sq.cast(pl.Float64), val_nulls=pl.lit(0, pl.Int64), base=pl.lit(0.0),
        base_nulls=pl.lit(0, pl.Int64), pend_ev=pl.lit(0.0), pend_var=pl.lit(0.0),
        valued=pl.col("lm_y") & pl.col("lm_d"), pend_scored=pl.lit(False))


def _regression_value_reason(a: Assumptions) -> str | None:
    if a.cost_over is not None and a.cost_under is not None:
        return None
    if a.cost_per_unit_error is not None:
        return None
    return "no regression costs: set cost_per_unit_error, or cost_over and cost_under, in [models.business]"


def _version_baseline(pv: pl.DataFrame, keys: list[str], version: str) -> pl.DataFrame:
    """Baseline = the baseline version's value per valued row in the same group (its
    keys other than version) times each (group, version)'s valued rows; null where
    that version has no valued rows."""
    other = [k for k in keys if k != "version"]
    peer = pv.filter(pl.col("version") == version)
    by = other if other else [pl.lit(1).alias("_all")]
    nv, sv = pl.col("n_valued").sum(), pl.col("value").sum()
    rate = peer.group_by(by).agg(
        _rate=pl.when(nv > 0).then(sv / nv).otherwise(None),
        # standard error of that mean: sqrt(sample variance / n), n >= 2
        _se=pl.when(nv > 1).then(((pl.col("value_sq").sum() - sv * sv / nv) / (nv - 1)).clip(0.0).sqrt()
                                 / nv.sqrt()).otherwise(None))
    if other:
        pv = pv.join(rate, on=other, how="left", nulls_equal=True)
    elif rate.height:
        pv = pv.join(rate.drop("_all"), how="cross")
    else:
        pv = pv.with_columns(_rate=pl.lit(None, pl.Float64), _se=pl.lit(None, pl.Float64))
    own = pl.col("version") == version
    return pv.with_columns(
        base=pl.when(pl.col("n_valued") == 0).then(0.0).otherwise(pl.col("_rate") * pl.col("n_valued")),
        # the version's own rows are its realized value (no error); on the others' rows the
        # error of its mean scales with their count (one mean: errors add up linearly)
        base_se=pl.when(own | (pl.col("n_valued") == 0)).then(0.0)
        .otherwise(pl.col("_se") * pl.col("n_valued")),
        baseline_nulls=pl.when(pl.col("version") == version).then(pl.col("value_nulls")).otherwise(pl.lit(0)))


def evaluate(inputs: ValueInputs, assumptions: Assumptions | None = None) -> ValueResult:
    """Value, baseline, cost, lift, net value, ROI and pending value per group (pure).

    Per decision cell: the decision the assumptions imply (binary: logged, or
    re-decided from the histogram bins for a moved threshold), the cell's value,
    baseline value, pending expectation and variance; summed per (group, version)
    (where a version baseline is applied), then per group.
    """
    a = inputs.defaults if assumptions is None else assumptions
    _check_assumptions(inputs, a)
    task = inputs.task
    used: float | None = None
    notes: list[str] = []
    if task == "binary":
        parts, used, notes = _binary_parts(inputs, a)
    elif task == "multiclass":
        parts = _multiclass_parts(inputs, a)
    else:
        parts = _regression_parts(inputs, a)
    keys = list(inputs.group_keys)
    gv = keys + ([] if "version" in keys else ["version"])
    labeled = _labeled_expr(task)
    cost = pl.lit(float(a.cost_per_1k) / 1000.0) * pl.col("lm_n")
    cost_nulls = pl.lit(0)
    if a.cost_column:
        i = inputs.columns.index(a.cost_column)
        cost = cost + pl.col(f"lm_s{i}")
        cost_nulls = pl.col(f"lm_z{i}")
    v = pl.col("valued")
    pv = parts.group_by(gv).agg(
        n=pl.col("lm_n").sum(),
        n_labeled=pl.col("lm_n").filter(labeled).sum(),
        n_valued=pl.col("lm_n").filter(v).sum(),
        value=pl.col("val").filter(v).sum(),
        value_sq=pl.col("val_sq").filter(v).sum(),
        value_nulls=pl.col("val_nulls").filter(v).sum(),
        base=pl.col("base").filter(v).sum(),
        baseline_nulls=pl.col("base_nulls").filter(v).sum(),
        pending_scored=pl.col("lm_n").filter(pl.col("pend_scored")).sum(),
        pending_ev=pl.col("pend_ev").filter(pl.col("pend_scored")).sum(),
        pending_var=pl.col("pend_var").filter(pl.col("pend_scored")).sum(),
        compute_cost=cost.sum(),
        cost_nulls=cost_nulls.sum(),
    )
    policy = _is_policy(a.baseline, task)
    if not policy:
        pv = _version_baseline(pv, keys, a.baseline)
    shadows = sorted(v for v, r in inputs.roles.items() if r == SHADOW)
    pv = pv.with_columns(_serving=~pl.col("version").cast(pl.String).is_in(shadows).fill_null(False))
    by_version = "version" in keys
    agg = _aggregate(pv, keys, policy, pooled=not by_version)
    if keys:
        agg = agg.sort(keys, nulls_last=True)
    grouped_beyond_version = any(k != "version" for k in keys)
    rows = [_value_row(r, keys, task, a, policy, grouped_beyond_version, bool(inputs.classes),
                       role=inputs.roles.get(str(r["version"]), SERVING) if by_version else None)
            for r in agg.iter_rows(named=True)]
    rows = _with_cumulative(rows, keys)
    # the total: serving versions' value over every group, every version's compute cost
    tot = _value_row(next(_aggregate(pv, [], policy, pooled=True).iter_rows(named=True)), [], task, a,
                     policy, False, bool(inputs.classes))
    present = sorted({str(v) for v in pv["version"].to_list() if v is not None})
    totals = ValueTotals(
        serving_versions=tuple(v for v in present if inputs.roles.get(v, SERVING) != SHADOW),
        shadow_versions=tuple(v for v in present if inputs.roles.get(v) == SHADOW),
        n=tot.n, value=tot.value, lift=tot.lift, compute_cost=tot.compute_cost,
        shadow_compute_cost=tot.shadow_compute_cost, net_value=tot.net_value, roi=tot.roi,
        roi_reason=tot.roi_reason)
    warnings = notes + _warnings(rows, a)
    return ValueResult(model=inputs.model, task=task, currency=a.currency, group_keys=tuple(keys),
                       assumptions=a, threshold_used=used, rows=tuple(rows), warnings=tuple(warnings),
                       totals=totals)


def _aggregate(pv: pl.DataFrame, keys: list[str], policy: bool, pooled: bool) -> pl.DataFrame:
    """Per group, sums of the per-(group, version) table ``pv``.

    ``pooled`` (the group pools versions): value, lift, counts and pending value are the
    serving versions' only; the compute cost is every version's (``shadow_n`` and
    ``shadow_compute_cost`` say what the shadows add)."""
    s = pl.col("_serving")

    def f(col: str) -> pl.Expr:
        return pl.col(col).filter(s) if pooled else pl.col(col)

    sums = {c: f(c).sum() for c in ("n", "n_labeled", "n_valued", "value_nulls", "baseline_nulls",
                                      "pending_scored", "value", "pending_ev", "pending_var")}
    extra = {"base_se": f("base_se").sum(), "se_missing": f("base_se").is_null().any()} if not policy else {}
    return pv.group_by(keys if keys else pl.lit(1).alias("_all")).agg(
        **sums, compute_cost=pl.col("compute_cost").sum(), cost_nulls=pl.col("cost_nulls").sum(),
        base=f("base").sum(), base_missing=f("base").is_null().any(),
        shadow_n=pl.col("n").filter(~s).sum() if pooled else pl.lit(0),
        shadow_compute_cost=pl.col("compute_cost").filter(~s).sum() if pooled else pl.lit(0.0),
        **extra,
    )


NO_LABELS = ("no labeled predictions (with a decision) yet: value is realized on labeled "
             "predictions only; see pending_expected_value")
ONLY_SHADOW = ("only shadow versions scored these predictions: a shadow decides nothing, so it "
               "realizes no value (group by version to see its value if promoted)")
ZERO_COST = ("compute cost is 0, so ROI (net value / compute cost) is undefined; "
             "set cost_per_1k or cost_column")


def _value_row(r: dict, keys: list[str], task: str, a: Assumptions, policy: bool,
               grouped: bool, has_class_scores: bool, role: str | None = None) -> ValueRow:
    """One group's :class:`ValueRow` from its aggregated sums (nulls with reasons)."""
    n, nl, nv = int(r["n"]), int(r["n_labeled"]), int(r["n_valued"])
    shadow_n = int(r.get("shadow_n") or 0)
    vreason = _regression_value_reason(a) if task == "regression" else None
    breason = None
    if n == 0 and shadow_n:
        vreason = breason = ONLY_SHADOW
    elif nv == 0:
        vreason = vreason or NO_LABELS
        breason = NO_LABELS
    value = None if vreason else float(r["value"])
    if breason:
        base = None
    elif not policy and r["base_missing"]:
        base = None
        breason = (f"baseline version {a.baseline!r} has no labeled predictions "
                   f"{'in this group' if grouped else 'in the selection'}")
    else:
        base = float(r["base"])
    cost = float(r["compute_cost"])
    lift = value - base if value is not None and base is not None else None
    blo = bhi = llo = lhi = None
    if not policy and base is not None and not r["se_missing"]:
        half = Z95 * float(r["base_se"])
        blo, bhi = base - half, base + half
        if value is not None:
            llo, lhi = value - bhi, value - blo
    net = lift - cost if lift is not None else None
    roi, roi_reason = None, None
    if net is None:
        roi_reason = vreason or breason
    elif cost == 0:
        roi_reason = ZERO_COST
    else:
        roi = net / cost
    pending = n - nl
    pev = plo = phi = preason = None
    if task == "regression":
        preason = ("no expected value for pending regression predictions: the error is unknown "
                   "until the outcome arrives")
    elif task == "multiclass" and not has_class_scores and pending:
        preason = "the model logs no class scores to estimate pending value from"
    elif pending == 0:
        pev = plo = phi = 0.0
    elif int(r["pending_scored"]) == 0:
        preason = "the pending predictions have no scores to estimate their value from"
    else:
        pev = float(r["pending_ev"])
        half = Z95 * math.sqrt(max(float(r["pending_var"]), 0.0))
        plo, phi = pev - half, pev + half
        unscored = pending - int(r["pending_scored"])
        if unscored:
            preason = f"{unscored:,} pending predictions without a score are left out of the estimate"
    return ValueRow(
        group=group_dict(r, keys), n=n, n_labeled=nl, value=value, baseline_value=base,
        baseline_ci_low=blo, baseline_ci_high=bhi, lift=lift, lift_ci_low=llo, lift_ci_high=lhi,
        compute_cost=cost, net_value=net, roi=roi, roi_reason=roi_reason,
        pending_n=pending, pending_share=pending / n if n else None,
        pending_expected_value=pev, pending_ci_low=plo, pending_ci_high=phi, pending_reason=preason,
        pending_assumption=PENDING_ASSUMPTION[task] if pev is not None and pending else None,
        value_reason=vreason, baseline_reason=breason,
        value_nulls=int(r["value_nulls"]), baseline_nulls=int(r["baseline_nulls"]),
        cost_nulls=int(r["cost_nulls"]), excluded_n=nl - nv, role=role, shadow_n=shadow_n,
        shadow_compute_cost=float(r.get("shadow_compute_cost") or 0.0))


def _with_cumulative(rows: list[ValueRow], keys: list[str]) -> list[ValueRow]:
    """Running total of net value over periods, within each combination of the other keys.

    Once a period's net value is unknown, the running total stays unknown.
    """
    if "period" not in keys:
        return rows
    other = [k for k in keys if k != "period"]
    order = sorted(range(len(rows)), key=lambda i: str(rows[i].group["period"]))
    totals: dict[tuple, float | None] = {}
    out = list(rows)
    for i in order:
        r = rows[i]
        g = tuple(str(r.group[k]) for k in other)
        prev = totals.get(g, 0.0)
        cur = None if prev is None or r.net_value is None else prev + r.net_value
        totals[g] = cur
        out[i] = dataclasses.replace(r, cumulative_net_value=cur)
    return out


def _warnings(rows: list[ValueRow], a: Assumptions) -> list[str]:
    out = []
    vn = sum(r.value_nulls for r in rows)
    bn = sum(r.baseline_nulls for r in rows)
    cn = sum(r.cost_nulls for r in rows)
    ex = sum(r.excluded_n for r in rows)
    cols = ", ".join(repr(c) for c in a.columns() if c != a.cost_column)
    if vn:
        out.append(f"{vn:,} labeled predictions have a null per-row value ({cols}); counted as 0")
    if bn:
        out.append(f"{bn:,} labeled predictions have a null per-row value for the baseline ({cols}); counted as 0")
    if cn:
        out.append(f"{cn:,} predictions have a null cost in {a.cost_column!r}; counted as 0")
    if ex:
        out.append(f"{ex:,} labeled predictions have no decision (prediction missing or invalid); "
                   "left out of value and baseline")
    return out


# --------------------------------------------------------------------------- entry points


def _resolve(engine: Engine, selection: Selection, assumptions: Assumptions | None) -> Assumptions:
    spec = selection.check(engine)
    if assumptions is None:
        if spec.business is None:
            raise ConfigError(f"Model {spec.name!r} has no [models.business] table, so its value is unknown; "
                              "add one (see analytics/docs/value.md).")
        assumptions = Assumptions.from_spec(spec)
    base = assumptions.baseline
    if spec.task == "multiclass" and base.startswith("all_") and spec.columns.classes \
            and base[4:] not in spec.columns.classes:
        raise ConfigError(f"Baseline {base!r} of model {spec.name!r} names no class; "
                          f"the classes are: {', '.join(spec.columns.classes)}.")
    if not _is_policy(base, spec.task):
        engine.check_versions(spec, [base])
    return assumptions


def compute_value(engine: Engine, selection: Selection, grouping: Grouping = Grouping(),
                  assumptions: Assumptions | None = None) -> ValueResult:
    """Value per group: ``evaluate(value_summary(...), assumptions)``.

    The score histogram is only queried when the assumptions move the threshold.
    """
    a = _resolve(engine, selection, assumptions)
    spec = engine.spec(selection.model)
    moved = spec.task == "binary" and not math.isclose(a.threshold, spec.threshold, rel_tol=0, abs_tol=1e-15)
    inputs = value_summary(engine, selection, grouping, bins=DEFAULT_BINS if moved else 0)
    return evaluate(inputs, a)


@dataclass(frozen=True)
class VersionCurve:
    """Value (realized, on labeled rows) at each threshold ``k / bins`` for one version."""

    version: str
    n_labeled: int
    thresholds: tuple[float, ...]
    values: tuple[float, ...]
    best_threshold: float | None
    best_value: float | None
    current_threshold: float
    value_at_current: float | None
    left_on_table: float | None
    reason: str | None = None

    def to_dict(self, points: bool = True) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        if not points:
            d.pop("thresholds")
            d.pop("values")
        return d


@dataclass(frozen=True)
class ThresholdCurve:
    model: str
    currency: str
    bins: int
    versions: dict[str, VersionCurve] = field(default_factory=dict)

    def to_dict(self, points: bool = True) -> dict[str, Any]:
        return {"model": self.model, "currency": self.currency, "bins": self.bins,
                "versions": {k: v.to_dict(points) for k, v in self.versions.items()}}


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
    _check_assumptions(inputs, a)
    cur = evaluate(dataclasses.replace(inputs, group_keys=("version",)), a)
    current = {r.group["version"]: r.value for r in cur.rows}
    a0 = a.replace(threshold=inputs.threshold)  # logged decisions: only the fixed rows use them
    parts, _, _ = _binary_parts(inputs, a0)
    table = {(1, 1): a.tp, (1, 0): a.fp, (0, 1): a.fn, (0, 0): a.tn}
    y = pl.col("lm_y")
    pos, neg = pl.lit(0.0), pl.lit(0.0)
    for yy in (0, 1):
        pos = pl.when(y == yy).then(_cell_value(inputs, table[(1, yy)])[0]).otherwise(pos)
        neg = pl.when(y == yy).then(_cell_value(inputs, table[(0, yy)])[0]).otherwise(neg)
    lab = parts.filter(y.is_not_null())
    binned = lab.filter(pl.col("lm_scored") & pl.col("lm_bin").is_not_null()).with_columns(
        _pos=pos.cast(pl.Float64), _neg=neg.cast(pl.Float64))
    fixed = lab.filter(~(pl.col("lm_scored") & pl.col("lm_bin").is_not_null()) & pl.col("valued"))
    edges = bin_edges(inputs.bins)
    nb = inputs.bins + 1
    out: dict[str, VersionCurve] = {}
    for version in inputs.versions:
        b = binned.filter(pl.col("version") == version)
        f = fixed.filter(pl.col("version") == version)
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
        n_lab = int(lab.filter(pl.col("version") == version)["lm_n"].sum())
        thr = float(a.threshold)
        if n_lab == 0:
            out[version] = VersionCurve(version, 0, tuple(edges.tolist()), tuple(values.tolist()),
                                        None, None, thr, None, None, "no labeled predictions")
            continue
        best_val = float(values.max())
        cands = np.flatnonzero(values >= best_val - 1e-9 * max(1.0, abs(best_val)))
        k = int(cands[np.argmin(np.abs(edges[cands] - thr))])
        at_cur = current.get(version)
        out[version] = VersionCurve(
            version=version, n_labeled=n_lab, thresholds=tuple(edges.tolist()),
            values=tuple(values.tolist()), best_threshold=float(edges[k]), best_value=float(values[k]),
            current_threshold=cur.threshold_used if cur.threshold_used is not None else thr,
            value_at_current=at_cur,
            left_on_table=float(values[k]) - at_cur if at_cur is not None else None)
    return ThresholdCurve(model=inputs.model, currency=a.currency, bins=inputs.bins, versions=out)


def threshold_curve(engine: Engine, selection: Selection, assumptions: Assumptions | None = None,
                    bins: int = DEFAULT_BINS) -> ThresholdCurve:
    """Value as a function of the decision threshold, per version (binary models with scores)."""
    a = _resolve(engine, selection, assumptions)
    spec = engine.spec(selection.model)
    if spec.task != "binary":
        raise SelectionError(f"Threshold analysis applies to binary models; {spec.name!r} is {spec.task}.")
    if not spec.columns.score:
        raise SelectionError(f"No threshold analysis for model {spec.name!r}: it logs no score column.")
    return curve(value_summary(engine, selection, Grouping(by=("version",)), bins=bins), a)
