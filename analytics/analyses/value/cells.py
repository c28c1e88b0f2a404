"""Per decision cell: the decision the assumptions imply, the cell's value, baseline
value, and the pending value's expectation and variance, for each task (pure polars
over :class:`~.summary.ValueInputs`)."""

from __future__ import annotations

import math

import polars as pl

from analytics.config.workspace import Value
from analytics.errors import SelectionError
from .assumptions import Assumptions, matrix_dict
from .summary import ValueInputs

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


def cell_value(inputs: ValueInputs, v: Value) -> tuple[pl.Expr, pl.Expr]:
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


def binary_parts(inputs: ValueInputs, a: Assumptions) -> tuple[pl.DataFrame, float | None, list[str]]:
    """Per cell: ``val``, ``val_nulls``, ``base``, ``base_nulls``, ``pend_ev``."""
    cells, used, notes = _decisions(inputs, a)
    d, y = pl.col("dec"), pl.col("lm_y")
    table = {(1, 1): a.tp, (1, 0): a.fp, (0, 1): a.fn, (0, 0): a.tn}
    val, sq, nul = pl.lit(0.0), pl.lit(0.0), pl.lit(0)
    for (dd, yy), v in table.items():
        e, z = cell_value(inputs, v)
        cell = (d == dd) & (y == yy)
        val = pl.when(cell).then(e).otherwise(val)
        sq = pl.when(cell).then(_cell_square(inputs, v)).otherwise(sq)
        nul = pl.when(cell).then(z).otherwise(nul)
    base = pl.lit(0.0)
    bnul = pl.lit(0)
    if a.baseline in ("all_negative", "all_positive"):
        bd = 1 if a.baseline == "all_positive" else 0
        for yy in (0, 1):
            e, z = cell_value(inputs, table[(bd, yy)])
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


def multiclass_parts(inputs: ValueInputs, a: Assumptions) -> pl.DataFrame:
    m = matrix_dict(a.value_matrix)
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


def regression_parts(inputs: ValueInputs, a: Assumptions) -> pl.DataFrame:
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


def regression_value_reason(a: Assumptions) -> str | None:
    if a.cost_over is not None and a.cost_under is not None:
        return None
    if a.cost_per_unit_error is not None:
        return None
    return "no regression costs: set cost_per_unit_error, or cost_over and cost_under, in [models.business]"

