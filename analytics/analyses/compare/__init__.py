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

Size: :func:`_compare_on` is over the 60-line limit (allowed in
``tests/test_architecture.py``): it runs the comparison's queries in one temporary
table, in the order the verdict needs them, and splitting it would pass that table
and half the verdict's state between functions.
"""

from __future__ import annotations

from typing import Sequence

import ibis.expr.types as ir

from analytics.config.compare import ROW_METRICS, SEQUENTIAL_DEFAULT
from analytics.config.workspace import ModelSpec
from analytics.errors import EmptySelectionError, SelectionError, UnknownMetricError
from analytics.log.columns import C
from analytics.log.engine import Engine
from analytics.metrics import get_metric, metric_names
from analytics.metrics.compute import materialized
from analytics.query.selection import Selection
from analytics.render import format as fmt
from analytics.stats.twosample import Test, unpaired_test
from analytics.store.answers import remembered
from ..like_for_like import (ComparisonWindow, STRATA, WINDOWS, on_days, served_days, served_together,
                             stratified_tests, window_of)
from .paired import (daily_sequential, id_overlap, paired_aggregates, paired_tests, pairs_table,
                     placement_moments, row_value)
from .results import Comparison, MetricComparison, SegmentLoss
from .settings import VERDICTS, CompareSettings, compare_settings
from .verdict import decide, segment_losses, version_rows

__all__ = ["compare_versions", "compare_settings", "decide", "row_value", "Comparison", "CompareSettings",
           "MetricComparison", "SegmentLoss", "VERDICTS"]


@remembered("compare_versions")
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
        pairs = pairs_table(spec, two, baseline, candidate)
        ids_b, ids_c, n_common = id_overlap(engine, spec, two, baseline, candidate)
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
        rows = {r.group["version"]: r for r in version_rows(engine, spec, narrow, ("version",), names)}
        if segments and all(v in rows and rows[v].n_labeled for v in (baseline, candidate)):
            losing = segment_losses(engine, spec, narrow, baseline, candidate, settings,
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
        agg = paired_aggregates(engine, spec, pairs)[None]
        if agg.get("n_dec"):
            disagreement = agg["disagree"] / agg["n_dec"]
        with_auc = spec.task == "binary" and "sb" in pairs.columns and "roc_auc" in names
        moments = placement_moments(engine, spec, pairs).get(None) if with_auc else None
        tests = paired_tests(spec, agg, moments, names, settings.alpha)

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
        seq_result = daily_sequential(engine, spec, two, baseline, candidate, smetric,
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
