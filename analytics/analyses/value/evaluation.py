"""Value, baseline, compute cost, lift, net value, ROI and pending value per group
(:func:`evaluate`, pure) and :func:`compute_value` (one query, then :func:`evaluate`).
Shadows are left out of pooled rows and totals except for their compute cost."""

from __future__ import annotations

import dataclasses
import math

import polars as pl

from analytics.errors import ConfigError
from analytics.log.engine import Engine
from analytics.query.selection import Grouping, Selection, group_dict
from ..roles import SERVING, SHADOW
from .assumptions import DEFAULT_BINS, PENDING_ASSUMPTION, Z95, Assumptions, check_assumptions, is_policy
from .cells import binary_parts, multiclass_parts, regression_parts, regression_value_reason
from .results import ValueResult, ValueRow, ValueTotals
from .summary import ValueInputs, labeled_expr, value_summary


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
    check_assumptions(inputs, a)
    task = inputs.task
    used: float | None = None
    notes: list[str] = []
    if task == "binary":
        parts, used, notes = binary_parts(inputs, a)
    elif task == "multiclass":
        parts = multiclass_parts(inputs, a)
    else:
        parts = regression_parts(inputs, a)
    keys = list(inputs.group_keys)
    policy = is_policy(a.baseline, task)
    pv = _per_version(inputs, a, parts, keys, policy)
    by_version = "version" in keys
    agg = _aggregate(pv, keys, policy, pooled=not by_version)
    if keys:
        agg = agg.sort(keys, nulls_last=True)
    grouped_beyond_version = any(k != "version" for k in keys)
    rows = [_value_row(r, keys, task, a, policy, grouped_beyond_version, bool(inputs.classes),
                       role=inputs.roles.get(str(r["version"]), SERVING) if by_version else None)
            for r in agg.iter_rows(named=True)]
    rows = _with_cumulative(rows, keys)
    warnings = notes + _warnings(rows, a)
    return ValueResult(model=inputs.model, task=task, currency=a.currency, group_keys=tuple(keys),
                       assumptions=a, threshold_used=used, rows=tuple(rows), warnings=tuple(warnings),
                       totals=_totals(inputs, a, pv, policy))


def _per_version(inputs: ValueInputs, a: Assumptions, parts: pl.DataFrame, keys: list[str],
                 policy: bool) -> pl.DataFrame:
    """The cells summed per (group, version): counts, value, baseline, pending value,
    compute cost; the version baseline applied; ``_serving`` marks the serving versions."""
    gv = keys + ([] if "version" in keys else ["version"])
    labeled = labeled_expr(inputs.task)
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
    if not policy:
        pv = _version_baseline(pv, keys, a.baseline)
    shadows = sorted(v for v, r in inputs.roles.items() if r == SHADOW)
    return pv.with_columns(_serving=~pl.col("version").cast(pl.String).is_in(shadows).fill_null(False))


def _totals(inputs: ValueInputs, a: Assumptions, pv: pl.DataFrame, policy: bool) -> ValueTotals:
    """The total: serving versions' value over every group, every version's compute cost."""
    tot = _value_row(next(_aggregate(pv, [], policy, pooled=True).iter_rows(named=True)), [], inputs.task, a,
                     policy, False, bool(inputs.classes))
    present = sorted({str(v) for v in pv["version"].to_list() if v is not None})
    return ValueTotals(
        serving_versions=tuple(v for v in present if inputs.roles.get(v, SERVING) != SHADOW),
        shadow_versions=tuple(v for v in present if inputs.roles.get(v) == SHADOW),
        n=tot.n, value=tot.value, lift=tot.lift, compute_cost=tot.compute_cost,
        shadow_compute_cost=tot.shadow_compute_cost, net_value=tot.net_value, roi=tot.roi,
        roi_reason=tot.roi_reason)


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
    vreason = regression_value_reason(a) if task == "regression" else None
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
    pev, plo, phi, preason = _pending(r, task, pending, has_class_scores)
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


def _pending(r: dict, task: str, pending: int, has_class_scores: bool
             ) -> tuple[float | None, float | None, float | None, str | None]:
    """The pending predictions' expected value and its 95% interval, or why there is none."""
    if task == "regression":
        return None, None, None, ("no expected value for pending regression predictions: the error is "
                                  "unknown until the outcome arrives")
    if task == "multiclass" and not has_class_scores and pending:
        return None, None, None, "the model logs no class scores to estimate pending value from"
    if pending == 0:
        return 0.0, 0.0, 0.0, None
    if int(r["pending_scored"]) == 0:
        return None, None, None, "the pending predictions have no scores to estimate their value from"
    pev = float(r["pending_ev"])
    half = Z95 * math.sqrt(max(float(r["pending_var"]), 0.0))
    unscored = pending - int(r["pending_scored"])
    why = f"{unscored:,} pending predictions without a score are left out of the estimate" if unscored else None
    return pev, pev - half, pev + half, why


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


def resolve_assumptions(engine: Engine, selection: Selection, assumptions: Assumptions | None) -> Assumptions:
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
    if not is_policy(base, spec.task):
        engine.check_versions(spec, [base])
    return assumptions


def compute_value(engine: Engine, selection: Selection, grouping: Grouping = Grouping(),
                  assumptions: Assumptions | None = None) -> ValueResult:
    """Value per group: ``evaluate(value_summary(...), assumptions)``.

    The score histogram is only queried when the assumptions move the threshold.
    """
    a = resolve_assumptions(engine, selection, assumptions)
    spec = engine.spec(selection.model)
    moved = spec.task == "binary" and not math.isclose(a.threshold, spec.threshold, rel_tol=0, abs_tol=1e-15)
    inputs = value_summary(engine, selection, grouping, bins=DEFAULT_BINS if moved else 0)
    return evaluate(inputs, a)
