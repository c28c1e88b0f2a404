"""Champion versus challenger: two versions of a model, side by side, with a verdict.

``compare_versions(engine, selection, baseline, candidate)`` takes every metric
of the model's task from the metric registry (:mod:`analytics.metrics`) for
both versions over the same time bounds and segment filters, tests each
difference (candidate minus baseline), and gives a verdict: ``promote``,
``keep`` or ``inconclusive`` (rule below; :file:`analytics/docs/compare.md`
is the user's description).

Two designs:

* **Unpaired** (a traffic split: each request is scored by one version). Tests
  use the registry's value, standard error and n of each side: two-proportion
  z test for rates (pooled p-value, unpooled Wald interval); DeLong for ROC AUC
  (independent samples: ``se = sqrt(se_b^2 + se_c^2)``); Welch's t for mean
  errors and losses (Welch-Satterthwaite degrees of freedom); and for every
  other metric (F1, PR AUC, RMSE, R², latency percentiles...) a normal
  approximation from the two standard errors.
* **Paired** (shadow scoring: the same ids scored by both versions). Detected
  when the labeled ids of the two versions overlap by at least
  ``paired_overlap`` (default 50%) of the smaller version's labeled ids, or
  forced. Every metric is then computed by the registry on the *common*
  labeled ids only, and the pairs are joined on the id in the engine:
  McNemar for accuracy (exact binomial when fewer than 25 discordant pairs,
  chi-square without continuity correction otherwise), paired DeLong for ROC
  AUC (placement values computed in the engine), paired t for per-row errors
  (Brier, log loss, absolute and signed error), and the disagreement rate
  (share of common ids where the two decisions differ). Metrics without a
  paired test fall back to the normal approximation, which ignores the
  (positive) correlation and so is conservative.

Verdict rule, on the primary metric (``[models.compare] primary_metric``,
default the registry's ``PRIMARY_METRIC`` of the task):

1. fewer than ``min_n`` (default 500) labeled rows on either side, or the
   primary metric not computable -> ``inconclusive``;
2. ``p < alpha`` (default 0.05) and the candidate better -> ``promote``;
   but when the candidate loses significantly on some segment (per-segment
   tests of the primary metric, Benjamini-Hochberg adjusted over all segment
   values with at least ``segment_min_n`` labeled rows a side) and
   ``block_on_segment_loss`` (default true) -> ``inconclusive`` (segment
   tests are the paired ones when the design is paired and the metric has one);
3. ``p < alpha`` and the candidate worse -> ``keep``;
4. otherwise -> ``inconclusive``.

Sequential monitoring (on by default, ``sequential=False`` skips it): the
always-valid p-value of :mod:`analytics.stats.sequential`, computed from daily
aggregates, safe to read every day of a running test.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import ibis
import ibis.expr.types as ir

from analytics.config.compare import DEFAULTS, ROW_METRICS, SEQUENTIAL_DEFAULT
from analytics.config.workspace import ModelSpec
from analytics.errors import EmptySelectionError, SelectionError, UnknownMetricError
from analytics.log.columns import C
from analytics.log.engine import Engine
from analytics.metrics import PRIMARY_METRIC, get_metric, metric_names
from analytics.metrics.compute import materialized, registry_rows
from analytics.metrics.queries import EPS
from analytics.query.selection import Grouping, Selection, period_start, segment_text
from analytics.render import format as fmt
from analytics.stats import sequential as seq
from analytics.stats.twosample import (PlacementMoments, Test, benjamini_hochberg, mcnemar, paired_delong,
                                       paired_t, unpaired_test)
from .like_for_like import (ComparisonWindow, STRATA, WINDOWS, on_days, served_days, served_together,
                            stratified_tests, window_of)
from analytics.results import record

VERDICTS = ("promote", "keep", "inconclusive")

#: McNemar: exact binomial test below this many discordant pairs, chi-square above.


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class CompareSettings:
    """The verdict's parameters (``[models.compare]`` merged over :data:`DEFAULTS`)."""

    primary_metric: str
    min_n: int = 500
    alpha: float = 0.05
    paired_overlap: float = 0.5
    segment_min_n: int = 100
    block_on_segment_loss: bool = True
    sequential_metric: str | None = None
    sequential_tau: float = seq.DEFAULT_TAU_REL


def compare_settings(spec: ModelSpec, **overrides) -> CompareSettings:
    """The settings for ``spec``: defaults, then ``[models.compare]``, then non-None overrides."""
    merged = dict(DEFAULTS)
    merged.update({k: v for k, v in spec.compare.items() if k in DEFAULTS})
    merged.update({k: v for k, v in overrides.items() if v is not None})
    if not merged["primary_metric"]:
        merged["primary_metric"] = PRIMARY_METRIC[spec.task]
    get_metric(merged["primary_metric"], spec.task)  # UnknownMetricError if wrong for the task
    return CompareSettings(**merged)


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class MetricComparison:
    """One metric of both versions and the test of their difference."""

    name: str
    baseline: float | None
    candidate: float | None
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    method: str
    n_baseline: int
    n_candidate: int
    higher_is_better: bool | None
    reason: str | None = None

    @property
    def candidate_better(self) -> bool | None:
        """True/False when the metric has a direction and a non-zero difference."""
        if self.delta is None or self.higher_is_better is None or self.delta == 0:
            return None
        return (self.delta > 0) == self.higher_is_better

    def to_dict(self) -> dict[str, Any]:
        return record(self, drop=("name", "higher_is_better"))


@dataclass(frozen=True)
class SegmentLoss:
    """A segment value where the candidate is significantly worse on the primary metric."""

    column: str
    value: str
    metric: str
    baseline: float | None
    candidate: float | None
    delta: float | None
    p_value: float | None
    p_adjusted: float | None
    n_baseline: int
    n_candidate: int

    def to_dict(self) -> dict[str, Any]:
        return record(self, rename={"column": "segment"})


@dataclass(frozen=True)
class Comparison:
    """The answer of :func:`compare_versions`; ``to_dict()`` is the contract's JSON."""

    model: str
    task: str
    baseline: str
    candidate: str
    paired: bool
    metrics: dict[str, MetricComparison]
    verdict: str
    primary_metric: str
    n_baseline: int
    n_candidate: int
    reasons: tuple[str, ...]
    losing_segments: tuple[SegmentLoss, ...]
    settings: CompareSettings
    selection: Selection
    overlap: float | None = None
    n_common: int | None = None
    disagreement_rate: float | None = None
    sequential: seq.SequentialResult | None = None
    window: ComparisonWindow | None = None
    stratified: str | None = None   # the period each metric was compared within, or None (pooled)

    def to_dict(self) -> dict[str, Any]:
        out = {"model": self.model, "baseline": self.baseline, "candidate": self.candidate,
               "paired": self.paired,
               "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
               "verdict": self.verdict, "primary_metric": self.primary_metric,
               "n": {"baseline": self.n_baseline, "candidate": self.n_candidate},
               "alpha": self.settings.alpha, "min_n": self.settings.min_n,
               "overlap": self.overlap, "reasons": list(self.reasons),
               "losing_segments": [s.to_dict() for s in self.losing_segments],
               "sequential": self.sequential.to_dict() if self.sequential else None,
               "selection": self.selection.describe(),
               "window": self.window.to_dict() if self.window else None,
               "stratified": self.stratified}
        if self.paired:
            out["n_common"] = self.n_common
            out["disagreement_rate"] = self.disagreement_rate
        return out


# ---------------------------------------------------------------- engine side


def row_value(task: str, name: str, y: ir.Value, pred: ir.Value, score: ir.Value | None) -> ir.Value:
    """The per-row value whose mean is metric ``name`` (NULL where it does not apply):
    correctness for accuracy, the squared error of the probability for Brier, the
    clipped log loss, the decision for positive rate, absolute and signed
    (prediction minus actual) error for MAE and bias."""
    if name == "accuracy":
        return ibis.ifelse(pred.isnull() | y.isnull(), ibis.null().cast("float64"),
                           (pred == y).cast("float64"))
    if task == "binary" and name == "positive_rate":
        return pred.cast("float64")
    if task == "binary" and name in ("brier", "log_loss") and score is not None:
        yf = y.cast("float64")
        if name == "brier":
            return (score - yf) ** 2
        p = score.clip(lower=EPS, upper=1 - EPS)
        return -(yf * p.ln() + (1 - yf) * (1 - p).ln())
    if task == "regression" and name in ("mae", "bias"):
        e = pred - y
        return e.abs() if name == "mae" else e
    raise UnknownMetricError(f"Metric {name!r} has no per-row value for a {task} model; "
                             f"choose from: {', '.join(ROW_METRICS[task])}.")


def _seg(i: int) -> str:
    """The pairs table's column holding the i-th segment column's text."""
    return f"lm_seg{i}"


def _pairs(spec: ModelSpec, two: ir.Table, baseline: str, candidate: str) -> ir.Table:
    """Labeled rows of the baseline inner-joined to the candidate's rows of the same id
    (with the baseline row's segment values, as text)."""
    t = two.filter(two[C.LABELED])
    tb = t.filter(t[C.VERSION] == ibis.literal(baseline))
    tc = t.filter(t[C.VERSION] == ibis.literal(candidate))
    has_score = spec.task == "binary" and C.SCORE in t.columns
    segs = {_seg(i): segment_text(tb[col]) for i, col in enumerate(spec.columns.segments)}
    xb = tb.select(pid=tb[C.ID], ts=tb[C.TS], y=tb[C.LABEL], pb=tb[C.PRED],
                   **({"sb": tb[C.SCORE]} if has_score else {}), **segs)
    xc = tc.select(cid=tc[C.ID], pc=tc[C.PRED], **({"sc": tc[C.SCORE]} if has_score else {}))
    return xb.inner_join(xc, xb.pid == xc.cid)


def _overlap(engine: Engine, spec: ModelSpec, two: ir.Table, baseline: str,
             candidate: str) -> tuple[int, int, int]:
    """Distinct labeled ids of the baseline, of the candidate, and of both (one query)."""
    t = two.filter(two[C.LABELED])
    per_id = t.group_by(i=t[C.ID]).aggregate(hb=(t[C.VERSION] == ibis.literal(baseline)).any(),
                                             hc=(t[C.VERSION] == ibis.literal(candidate)).any())
    agg = per_id.aggregate(nb=per_id.hb.cast("int64").sum(), nc=per_id.hc.cast("int64").sum(),
                           both=(per_id.hb & per_id.hc).cast("int64").sum())
    r = engine.execute(agg, spec).to_pylist()[0]
    return int(r["nb"] or 0), int(r["nc"] or 0), int(r["both"] or 0)


def _placement_moments(engine: Engine, spec: ModelSpec, pairs: ir.Table, by: str | None = None
                       ) -> dict[Any, tuple[PlacementMoments, PlacementMoments]]:
    """Placement values of both scores on the common ids, in the engine, summed by class
    (per value of the pairs column ``by``, else once: key ``None``).

    For each score, rows are counted per distinct score value and class; a
    cumulative window over the sorted values gives, for every value, the
    negatives strictly below and the positives strictly above (ties count
    half). Joined back to the pairs, the per-class sums, sums of squares and
    cross-products give DeLong's covariance matrices.
    """
    p = pairs.filter(pairs.sb.notnull() & pairs.sc.notnull())
    p = p.mutate(grp=p[by] if by else ibis.literal(""))
    placed = {}
    for side in ("sb", "sc"):
        g = p.group_by(grp=p.grp, s=p[side]).aggregate(npos=(p.y == 1).cast("int64").sum(),
                                                       nneg=(p.y == 0).cast("int64").sum())
        w = ibis.cumulative_window(group_by=g.grp, order_by=g.s)
        whole = ibis.window(group_by=g.grp)
        g = g.mutate(pos_le=g.npos.sum().over(w), neg_le=g.nneg.sum().over(w),
                     ptot=g.npos.sum().over(whole), ntot=g.nneg.sum().over(whole))
        placed[side] = g.select(
            grp=g.grp, s=g.s,
            v10=((g.neg_le - g.nneg).cast("float64") + 0.5 * g.nneg) / g.ntot.cast("float64"),
            v01=((g.ptot - g.pos_le).cast("float64") + 0.5 * g.npos) / g.ptot.cast("float64"))
    a, b = placed["sb"], placed["sc"]
    j = p.inner_join(a, (p.grp == a.grp) & (p.sb == a.s)).select(
        grp=p.grp, y=p.y, sc=p.sc, va10=a.v10, va01=a.v01)
    j = j.inner_join(b, (j.grp == b.grp) & (j.sc == b.s)).select(
        grp=j.grp, y=j.y, va=ibis.ifelse(j.y == 1, j.va10, j.va01), vb=ibis.ifelse(j.y == 1, b.v10, b.v01))
    agg = j.group_by(["grp", "y"]).aggregate(n=j.count(), sa=j.va.sum(), sb=j.vb.sum(), saa=(j.va * j.va).sum(),
                                             sbb=(j.vb * j.vb).sum(), sab=(j.va * j.vb).sum())
    rows: dict[Any, dict[int, PlacementMoments]] = {}
    for r in engine.execute(agg, spec).to_pylist():
        rows.setdefault(r["grp"] if by else None, {})[int(r["y"])] = PlacementMoments(
            int(r["n"]), r["sa"], r["sb"], r["saa"], r["sbb"], r["sab"])
    empty = PlacementMoments(0, 0.0, 0.0, 0.0, 0.0, 0.0)
    return {k: (v.get(1, empty), v.get(0, empty)) for k, v in rows.items()}


def _paired_aggregates(engine: Engine, spec: ModelSpec, pairs: ir.Table, by: str | None = None
                       ) -> dict[Any, dict[str, Any]]:
    """One aggregate over the pairs (per value of ``by``, else key ``None``): McNemar
    counts, decision disagreements and count / sum / sum of squares of each per-row
    difference."""
    p = pairs
    sb = p.sb if "sb" in p.columns else None
    sc = p.sc if "sc" in p.columns else None
    aggs: dict[str, Any] = {"n": p.count()}
    if spec.task in ("binary", "multiclass"):
        both = p.pb.notnull() & p.pc.notnull()
        ok_b, ok_c = p.pb == p.y, p.pc == p.y
        aggs["n_dec"] = both.cast("int64").sum()
        aggs["mc_b"] = (both & ok_b & ~ok_c).cast("int64").sum()
        aggs["mc_c"] = (both & ~ok_b & ok_c).cast("int64").sum()
        aggs["disagree"] = (both & (p.pb != p.pc)).cast("int64").sum()
    for name in ROW_METRICS[spec.task]:
        if name in ("accuracy", "positive_rate") or (name in ("brier", "log_loss") and sc is None):
            continue
        d = row_value(spec.task, name, p.y, p.pc, sc) - row_value(spec.task, name, p.y, p.pb, sb)
        aggs[f"{name}__n"] = d.count()
        aggs[f"{name}__s"] = d.sum()
        aggs[f"{name}__q"] = (d * d).sum()
    expr = p.group_by(grp=p[by]).aggregate(**aggs) if by else p.aggregate(**aggs)
    return {(r["grp"] if by else None): r for r in engine.execute(expr, spec).to_pylist()}


def _paired_tests(spec: ModelSpec, agg: Mapping[str, Any], moments, names: Sequence[str],
                  alpha: float) -> dict[str, Test]:
    """The paired test of each metric that has one, from :func:`_paired_aggregates`'
    row and :func:`_placement_moments`' (positives, negatives) of one group."""
    tests: dict[str, Test] = {}
    if "n_dec" in agg:
        tests["accuracy"] = mcnemar(int(agg["mc_b"]), int(agg["mc_c"]), int(agg["n_dec"]), alpha)
    for name in ROW_METRICS[spec.task]:
        if f"{name}__n" in agg:
            tests[name] = paired_t(int(agg[f"{name}__n"]), agg[f"{name}__s"] or 0.0,
                                   agg[f"{name}__q"] or 0.0, alpha)
    if moments is not None and "roc_auc" in names:
        tests["roc_auc"] = paired_delong(moments[0], moments[1], alpha)
    return tests


def _daily(engine: Engine, spec: ModelSpec, two: ir.Table, baseline: str, candidate: str,
           metric: str, pairs: ir.Table | None, settings: CompareSettings) -> seq.SequentialResult:
    """Daily aggregates of the sequential metric, then the always-valid p-values."""
    if pairs is not None:
        p = pairs
        d = (row_value(spec.task, metric, p.y, p.pc, p.sc if "sc" in p.columns else None)
             - row_value(spec.task, metric, p.y, p.pb, p.sb if "sb" in p.columns else None))
        x = p.mutate(day=period_start(p.ts, "day"), d=d).filter(lambda r: r.d.notnull())
        agg = x.group_by("day").aggregate(n=x.count(), s=x.d.sum(), q=(x.d * x.d).sum()).order_by("day")
        rows = engine.execute(agg, spec).to_pylist()
        return seq.paired([r["day"] for r in rows], [(r["n"], r["s"], r["q"]) for r in rows],
                          alpha=settings.alpha, tau_rel=settings.sequential_tau, metric=metric)
    t = two.filter(two[C.LABELED])
    v = row_value(spec.task, metric, t[C.LABEL], t[C.PRED], t[C.SCORE] if C.SCORE in t.columns else None)
    x = t.mutate(day=period_start(t[C.TS], "day"), x=v).filter(lambda r: r.x.notnull())
    agg = x.group_by(["day", x[C.VERSION].name("ver")]).aggregate(
        n=x.count(), s=x.x.sum(), q=(x.x * x.x).sum())
    by_day: dict[_dt.date, list[float]] = {}
    for r in engine.execute(agg, spec).to_pylist():
        slot = by_day.setdefault(r["day"], [0.0] * 6)
        off = 0 if r["ver"] == baseline else 3
        slot[off:off + 3] = [r["n"], r["s"], r["q"]]
    days = sorted(by_day)
    return seq.two_sample(days, [tuple(by_day[d]) for d in days], alpha=settings.alpha,
                          tau_rel=settings.sequential_tau, metric=metric)


# ---------------------------------------------------------------- the comparison


def _registry_rows(engine: Engine, spec: ModelSpec, table: ir.Table, by: tuple[str, ...],
                   metrics: Sequence[str]) -> list:
    """The registry's metrics per group of ``by`` (:func:`analytics.metrics.compute.registry_rows`)."""
    return registry_rows(engine, spec, table, Grouping(by=by), metrics)


def _segment_losses(engine: Engine, spec: ModelSpec, table: ir.Table, baseline: str, candidate: str,
                    settings: CompareSettings, pairs: ir.Table | None = None) -> tuple[SegmentLoss, ...]:
    """Per segment value: the test of the primary metric (the paired one when ``pairs``
    is given and the metric has one, else the unpaired one); BH over all tested
    values; the significant ones where the candidate is worse."""
    name = settings.primary_metric
    mdef = get_metric(name, spec.task)
    higher = mdef.higher_is_better
    tested = []
    for i, col in enumerate(spec.columns.segments):
        cells: dict[str, dict[str, Any]] = {}
        for r in _registry_rows(engine, spec, table, ("version", col), (name,)):
            cells.setdefault(str(r.group[col]), {})[str(r.group["version"])] = r
        paired_aggs, moments = {}, {}
        if pairs is not None:
            paired_aggs = _paired_aggregates(engine, spec, pairs, by=_seg(i))
            if name == "roc_auc" and "sb" in pairs.columns:
                moments = _placement_moments(engine, spec, pairs, by=_seg(i))
        for value, sides in sorted(cells.items()):
            rb, rc = sides.get(baseline), sides.get(candidate)
            if rb is None or rc is None or min(rb.n_labeled, rc.n_labeled) < settings.segment_min_n:
                continue
            test = None
            if value in paired_aggs:
                test = _paired_tests(spec, paired_aggs[value], moments.get(value), (name,),
                                     settings.alpha).get(name)
            if test is None or test.p_value is None:
                test = unpaired_test(mdef, rb.metrics[name], rc.metrics[name], settings.alpha)
            if test.p_value is not None:
                tested.append((col, value, rb, rc, test))
    if not tested:
        return ()
    adj = benjamini_hochberg([t[4].p_value for t in tested])
    out = []
    for (col, value, rb, rc, test), pa in zip(tested, adj):
        worse = higher is not None and test.delta is not None and test.delta != 0 \
            and (test.delta > 0) != higher
        if worse and pa < settings.alpha:
            out.append(SegmentLoss(col, value, name, rb.metrics[name].value, rc.metrics[name].value,
                                   test.delta, test.p_value, pa, rb.n_labeled, rc.n_labeled))
    return tuple(sorted(out, key=lambda s: s.p_adjusted))


def decide(primary: MetricComparison, settings: CompareSettings, losing: Sequence[SegmentLoss],
           baseline: str, candidate: str) -> tuple[str, list[str]]:
    """The verdict rule (see the module docstring) and its reasons in plain words."""
    reasons: list[str] = []
    name, alpha = primary.name, settings.alpha
    n_min = min(primary.n_baseline, primary.n_candidate)
    seg_text = "; ".join(f"{s.column} = {s.value} ({s.metric} {fmt.sig(s.baseline)} -> {fmt.sig(s.candidate)}, "
                         f"adjusted {fmt.p_against(s.p_adjusted, alpha)})" for s in losing)
    if n_min < settings.min_n:
        verdict = "inconclusive"
        reasons.append(f"Too few labeled rows: {baseline} has {primary.n_baseline:,}, {candidate} has "
                       f"{primary.n_candidate:,}; the verdict needs at least {settings.min_n:,} on each side.")
    elif primary.p_value is None:
        verdict = "inconclusive"
        reasons.append(f"The primary metric {name} cannot be compared: {primary.reason}.")
    elif primary.p_value < alpha and primary.candidate_better:
        if losing and settings.block_on_segment_loss:
            verdict = "inconclusive"
            reasons.append(f"{candidate} is better on {name} overall ({_moved(primary)}, "
                           f"{fmt.p_against(primary.p_value, alpha)}) but significantly "
                           f"worse on some segments, so it is not promoted.")
        else:
            verdict = "promote"
            reasons.append(f"{candidate} is significantly better on {name}: {_moved(primary)} "
                           f"({_difference(primary)}; {fmt.chance(primary.p_value)}: "
                           f"{fmt.p_against(primary.p_value, alpha)}).")
    elif primary.p_value < alpha and primary.candidate_better is False:
        verdict = "keep"
        reasons.append(f"{candidate} is significantly worse on {name}: {_moved(primary)} "
                       f"({_difference(primary)}; {fmt.chance(primary.p_value)}: "
                       f"{fmt.p_against(primary.p_value, alpha)}); keep {baseline}.")
    else:
        verdict = "inconclusive"
        reasons.append(f"No significant difference on {name}: {fmt.sig(primary.baseline)} vs "
                       f"{fmt.sig(primary.candidate)} ({_interval(primary)}; {fmt.chance(primary.p_value)}: "
                       f"{fmt.p_against(primary.p_value, alpha)}).")
    if losing:
        reasons.append(f"{candidate} loses on: {seg_text}.")
    return verdict, reasons


def _moved(m: MetricComparison) -> str:
    """``0.736 -> 0.764`` (3 significant digits)."""
    return f"{fmt.sig(m.baseline)} -> {fmt.sig(m.candidate)}"


def _interval(m: MetricComparison) -> str:
    if m.ci_low is None:
        return "no interval"
    return f"interval [{fmt.signed(m.ci_low)}, {fmt.signed(m.ci_high)}]"


def _difference(m: MetricComparison) -> str:
    return f"difference {fmt.signed(m.delta)}, {_interval(m)}"


def compare_versions(engine: Engine, selection: Selection, baseline: str, candidate: str,
                     paired: bool | None = None, *, primary_metric: str | None = None,
                     alpha: float | None = None, min_n: int | None = None,
                     sequential: bool = True, segments: bool = True,
                     metrics: Sequence[str] | None = None, window: str = "overlap",
                     stratify: str | None = None) -> Comparison:
    """Compare ``candidate`` against ``baseline`` over ``selection`` (which must not
    restrict versions): every metric of the task, tested; the verdict; losing
    segments; the sequential (always-valid) monitoring by day.

    ``paired``: None detects shadow scoring from the id overlap; True forces
    the paired analysis (SelectionError when the versions share no labeled id);
    False forces the unpaired one. ``metrics`` limits the metrics compared
    (default: every metric of the task; the primary metric is always included);
    ``segments=False`` skips the per-segment search.

    ``window`` (unpaired comparisons): ``"overlap"`` (the default) keeps only the
    days within the selection on which both versions served, so both are judged on
    the same weeks; ``"all"`` keeps every row of the selection. ``stratify`` (a
    period: day, week or month) tests each metric within each period of that window
    and combines the periods (CMH for rates, inverse-variance weighting otherwise);
    the default, None, tests the pooled rows. See :mod:`analytics.analyses.like_for_like`.
    """
    spec = engine.spec(selection.model)
    if selection.versions:
        raise SelectionError("compare takes its two versions from baseline and candidate; "
                             "the selection must not restrict versions.")
    if baseline == candidate:
        raise SelectionError(f"Baseline and candidate are the same version {baseline!r}; pick two different versions.")
    if window not in WINDOWS:
        raise SelectionError(f"Comparison window {window!r} is not one of {', '.join(WINDOWS)}.")
    if stratify is not None and stratify not in STRATA:
        raise SelectionError(f"Stratification period {stratify!r} is not one of {', '.join(STRATA)}.")
    selection.check(engine)
    engine.check_versions(spec, (baseline, candidate))
    settings = compare_settings(spec, primary_metric=primary_metric, alpha=alpha, min_n=min_n)

    # the two versions' rows, read and joined once for every query below
    base = selection.replace(versions=(baseline, candidate)).apply(engine)
    keep = [c for c in (C.ID, C.TS, C.VERSION, C.SCORE, C.PRED, C.LABEL, C.LABEL_TS, C.LATENCY, C.LABELED)
            if c in base.columns] + list(spec.columns.segments)
    with engine.temporary(base.select(*keep), spec) as two:
        return _compare_on(engine, spec, selection, two, baseline, candidate, paired, settings,
                           sequential, segments, metrics, window, stratify)


def _compare_on(engine: Engine, spec: ModelSpec, selection: Selection, two: ir.Table, baseline: str,
                candidate: str, paired: bool | None, settings: CompareSettings, sequential: bool,
                segments: bool, metrics: Sequence[str] | None, window_rule: str = "overlap",
                stratify: str | None = None) -> Comparison:
    """:func:`compare_versions` on ``two``, the selected rows of both versions."""
    pairs = None
    overlap = n_common = None
    if spec.columns.id:
        pairs = _pairs(spec, two, baseline, candidate)
        ids_b, ids_c, n_common = _overlap(engine, spec, two, baseline, candidate)
        smaller = min(ids_b, ids_c)
        overlap = n_common / smaller if smaller else 0.0
        if paired is None:
            paired = n_common > 0 and overlap >= settings.paired_overlap
        if paired and n_common == 0:
            raise SelectionError(
                f"Versions {baseline!r} and {candidate!r} of model {spec.name!r} share no labeled "
                f"{spec.columns.id!r} in {selection.describe()}, so they cannot be compared paired; "
                "drop --paired to compare them as independent samples.")
    elif paired:
        raise SelectionError(f"Model {spec.name!r} declares no id column, so versions cannot be paired.")
    paired = bool(paired)

    # like for like: unpaired versions are judged on the days both served
    if paired:
        window, stratify = ComparisonWindow("paired"), None
    elif window_rule == "overlap":
        per_version = served_days(engine, spec, two, baseline, candidate)
        for v, served in per_version.items():
            if not served:
                raise EmptySelectionError(f"Version {v!r} of model {spec.name!r} has no predictions in "
                                          f"{selection.describe()}.")
        days = served_together(per_version)
        window = window_of(days)
        if not days:
            return _inconclusive(spec, selection, baseline, candidate, settings, window,
                                 f"{baseline} and {candidate} never served on the same day in "
                                 f"{selection.describe()}, so they cannot be compared like for like; pick a "
                                 "period both served, or compare every row of each (window \"all\"), "
                                 "knowing that this compares periods too.")
        two = on_days(two, days)
    else:
        window = ComparisonWindow("all")

    # every metric from the registry, on the common labeled ids when paired
    table = two.filter(two[C.ID].isin(pairs.pid)) if paired else two
    names = metric_names(spec.task) if metrics is None else tuple(
        dict.fromkeys([settings.primary_metric] + [get_metric(m, spec.task).name for m in metrics]))
    losing: tuple[SegmentLoss, ...] = ()
    with materialized(engine, spec, table) as narrow:   # the log joined once for every metric query
        rows = {r.group["version"]: r for r in _registry_rows(engine, spec, narrow, ("version",), names)}
        if segments and all(v in rows and rows[v].n_labeled for v in (baseline, candidate)):
            losing = _segment_losses(engine, spec, narrow, baseline, candidate, settings,
                                     pairs if paired else None)
        strat_tests = (stratified_tests(engine, spec, narrow, baseline, candidate, names, stratify,
                                        settings.alpha) if stratify else {})
    where = selection.describe() + ("" if window.rule != "overlap" else f", on {window.describe()}")
    for v in (baseline, candidate):
        r = rows.get(v)
        if r is None or r.n == 0:
            raise EmptySelectionError(f"Version {v!r} of model {spec.name!r} has no predictions in {where}.")
        if r.n_labeled == 0:
            raise EmptySelectionError(f"Version {v!r} of model {spec.name!r} has no labeled predictions in "
                                      f"{where}; nothing to compare yet.")
    rb, rc = rows[baseline], rows[candidate]

    tests: dict[str, Test] = dict(strat_tests)
    disagreement = None
    if paired:
        agg = _paired_aggregates(engine, spec, pairs)[None]
        if agg.get("n_dec"):
            disagreement = agg["disagree"] / agg["n_dec"]
        with_auc = spec.task == "binary" and "sb" in pairs.columns and "roc_auc" in names
        moments = _placement_moments(engine, spec, pairs).get(None) if with_auc else None
        tests = _paired_tests(spec, agg, moments, names, settings.alpha)

    compared: dict[str, MetricComparison] = {}
    for name in names:
        mb, mc = rb.metrics.get(name), rc.metrics.get(name)
        if mb is None or mc is None:
            continue
        mdef = get_metric(name, spec.task)
        test = tests.get(name) if (paired or stratify) else None
        if test is not None and stratify and test.p_value is None and test.delta is None:
            test = None   # no period with both sides: the pooled test says what it can
        if test is None or (mb.value is None or mc.value is None):
            test = unpaired_test(mdef, mb, mc, settings.alpha)
            if paired and test.p_value is not None:
                test = Test(test.delta, test.ci_low, test.ci_high, test.p_value,
                            test.method + " (independence assumed: conservative for paired data)")
        delta = None if mb.value is None or mc.value is None else mc.value - mb.value
        if stratify and test.delta is not None and "stratified" in test.method:
            delta = test.delta   # the combined within-period difference
        compared[name] = MetricComparison(
            name=name, baseline=mb.value, candidate=mc.value, delta=delta,
            ci_low=test.ci_low, ci_high=test.ci_high, p_value=test.p_value, method=test.method,
            n_baseline=mb.n, n_candidate=mc.n, higher_is_better=mdef.higher_is_better, reason=test.reason)

    pm_name = settings.primary_metric
    pm = compared.get(pm_name)
    if pm is None:
        raise UnknownMetricError(f"Primary metric {pm_name!r} is not computed for {spec.task} models.")
    # the sample size rule counts labeled rows of each side
    pm = MetricComparison(**{**pm.__dict__, "n_baseline": rb.n_labeled, "n_candidate": rc.n_labeled})
    verdict, reasons = decide(pm, settings, losing, baseline, candidate)
    if window.rule == "overlap":
        reasons.insert(1, f"Compared like for like on {window.describe()}"
                          + (f", within each {stratify}" if stratify else "") + ".")

    seq_result = None
    if sequential:
        smetric = settings.sequential_metric or (
            pm_name if pm_name in ROW_METRICS[spec.task] else SEQUENTIAL_DEFAULT[spec.task])
        if smetric in ("brier", "log_loss") and not spec.columns.score:
            smetric = "accuracy"  # a model that logs decisions only
        seq_result = _daily(engine, spec, two, baseline, candidate, smetric,
                            pairs if paired else None, settings)
        if seq_result.p_value is not None:
            state = "significant" if seq_result.significant else "not significant"
            reasons.append(f"Sequential monitoring of {smetric} (mSPRT): always-valid "
                           f"{fmt.p_against(seq_result.p_value, settings.alpha)}, {state} at {settings.alpha:g}.")
    return Comparison(
        model=spec.name, task=spec.task, baseline=baseline, candidate=candidate, paired=paired,
        metrics=compared, verdict=verdict, primary_metric=pm_name, n_baseline=rb.n_labeled,
        n_candidate=rc.n_labeled, reasons=tuple(reasons), losing_segments=losing, settings=settings,
        selection=selection, overlap=overlap, n_common=n_common if paired else None,
        disagreement_rate=disagreement, sequential=seq_result, window=window, stratified=stratify)


def _inconclusive(spec: ModelSpec, selection: Selection, baseline: str, candidate: str,
                  settings: CompareSettings, window: ComparisonWindow, reason: str) -> Comparison:
    """An inconclusive answer with no metrics: the overlap holds nothing to compare."""
    return Comparison(model=spec.name, task=spec.task, baseline=baseline, candidate=candidate, paired=False,
                      metrics={}, verdict="inconclusive", primary_metric=settings.primary_metric,
                      n_baseline=0, n_candidate=0, reasons=(reason,), losing_segments=(), settings=settings,
                      selection=selection, window=window)
