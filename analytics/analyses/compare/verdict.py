"""The verdict rule (see :mod:`analytics.analyses.compare`), the segments where the
candidate loses, and the reasons in plain words (numbers by :mod:`analytics.render.format`:
3 significant digits, p-values with the level that decides)."""

from __future__ import annotations

from typing import Any, Sequence

import ibis.expr.types as ir

from analytics.config.workspace import ModelSpec
from analytics.log.engine import Engine
from analytics.metrics import get_metric
from analytics.metrics.compute import registry_rows
from analytics.query.selection import Grouping
from analytics.render import format as fmt
from analytics.stats.twosample import benjamini_hochberg, unpaired_test
from .paired import paired_aggregates, paired_tests, placement_moments, seg_column
from .results import MetricComparison, SegmentLoss
from .settings import CompareSettings


def version_rows(engine: Engine, spec: ModelSpec, table: ir.Table, by: tuple[str, ...],
                 metrics: Sequence[str]) -> list:
    """The registry's metrics per group of ``by`` (:func:`analytics.metrics.compute.registry_rows`)."""
    return registry_rows(engine, spec, table, Grouping(by=by), metrics)


def segment_losses(engine: Engine, spec: ModelSpec, table: ir.Table, baseline: str, candidate: str,
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
        for r in version_rows(engine, spec, table, ("version", col), (name,)):
            cells.setdefault(str(r.group[col]), {})[str(r.group["version"])] = r
        paired_aggs, moments = {}, {}
        if pairs is not None:
            paired_aggs = paired_aggregates(engine, spec, pairs, by=seg_column(i))
            if name == "roc_auc" and "sb" in pairs.columns:
                moments = placement_moments(engine, spec, pairs, by=seg_column(i))
        for value, sides in sorted(cells.items()):
            rb, rc = sides.get(baseline), sides.get(candidate)
            if rb is None or rc is None or min(rb.n_labeled, rc.n_labeled) < settings.segment_min_n:
                continue
            test = None
            if value in paired_aggs:
                test = paired_tests(spec, paired_aggs[value], moments.get(value), (name,),
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
