"""The health rule ``estimated_drop``: a label-free estimate, in the latest week, worse than
the reference (``analytics/docs/estimate.md``, ``analytics/docs/health.md``).

:func:`estimate_reasons` is the one call health makes. It runs only when the
latest week lacks labels (label coverage below ``[models.estimate]
matured_coverage``): with labels in, the label rules already judge it. For each
checked version whose estimate is reliable (the guard), the primary metric
(``[models.alerts.drop] metric``, else the task's) is compared with its realized
value on the version's reference window; a drop of at least the drop rule's
``warn`` share whose interval lies wholly on the worse side is a ``warn``. It
is a ``pull`` only when ``[models.estimate] pull = true`` and the drop reaches
the drop rule's ``pull`` share: an estimate alone never pulls a model by default.
An unreliable estimate adds an ``info`` reason with the guard's words.
"""

from __future__ import annotations

import datetime as _dt
from typing import Sequence

from analytics.config.alerts import AlertSettings
from analytics.config.estimate import EstimateConfig
from analytics.config.workspace import ModelSpec
from analytics.errors import LastmileError
from analytics.log.engine import Engine
from analytics.metrics import get_metric
from analytics.metrics.compute import compute_metrics
from analytics.query.selection import Grouping, Selection
from analytics.render import format as fmt
from .core import METRICS, PRIMARY, estimate_performance

RULE = "estimated_drop"
#: Weeks before the latest week in the estimated selection (the guard adds its own backtest history).
HISTORY_WEEKS = 1


def _reason(metric, observed, threshold, level, period, message, version=None) -> dict:
    """One reason, as keyword arguments of the health check's ``add``."""
    return {"rule": RULE, "metric": metric, "observed": observed, "threshold": threshold, "level": level,
            "period": period, "message": message, "version": version}


def estimate_reasons(engine: Engine, spec: ModelSpec, end: _dt.datetime, versions: Sequence[str],
                     coverage: float | None = None) -> list:
    """Health reasons (dicts of the ``Reason`` fields) from label-free estimates of the week before ``end``.

    ``coverage``: the latest week's label coverage when the caller knows it (the
    rule is skipped from ``matured_coverage`` up).
    """
    cfg = EstimateConfig.from_spec(spec)
    if not cfg.health or (coverage is not None and coverage >= cfg.matured_coverage):
        return []
    if spec.task == "binary" and not spec.columns.score or spec.task == "multiclass" and not spec.columns.class_scores:
        return []   # nothing to estimate from
    drop = AlertSettings.from_spec(spec).rules["drop"]
    metric = drop.get("metric") or PRIMARY[spec.task]
    if metric not in METRICS[spec.task]:
        metric = PRIMARY[spec.task]
    sel = Selection.build(spec.name, end - _dt.timedelta(weeks=HISTORY_WEEKS + 1), end, tuple(versions))
    reasons = []
    try:
        res = estimate_performance(engine, sel, Grouping(by=("version", "period")))
    except LastmileError as exc:
        return [_reason(metric, None, None, "info", "latest week", f"No estimate: {exc}")]
    latest: dict[str, object] = {}
    for r in res.rows:
        v = str(r.group["version"])
        if v not in latest or r.group["period"] > latest[v].group["period"]:
            latest[v] = r
    windows = res.reference["versions"]
    for v in sorted(latest):
        r, e = latest[v], latest[v].estimated.get(metric)
        if r.n_labeled >= cfg.matured_coverage * r.n or e is None or e.value is None:
            continue
        reasons += _judge(engine, spec, cfg, drop, metric, v, r, windows.get(v))
    return reasons


def _judge(engine: Engine, spec: ModelSpec, cfg: EstimateConfig, drop, metric: str, v: str, r, window) -> list:
    """The reason (if any) of version ``v`` whose latest week ``r`` waits for labels."""
    e = r.estimated[metric]
    period = f"week of {r.group['period']}"
    if not r.reliable:
        return [_reason(metric, e.value, None, "info", period,
                        f"{v}: estimated {metric} {fmt.sig(e.value)} in the {period} is not trusted: "
                        f"{'; '.join(r.reasons)}.", v)]
    mdef = get_metric(metric, spec.task)
    if not window or mdef.higher_is_better is None:
        return []
    try:
        ref_sel = Selection.build(spec.name, window["start"], window["end"], (v,))
        ref = compute_metrics(engine, ref_sel, metrics=(metric,), label_delay=False).rows[0].metrics[metric]
    except LastmileError:
        return []
    if not ref.value:
        return []
    worse = (ref.value - e.value) if mdef.higher_is_better else (e.value - ref.value)
    rel = worse / abs(ref.value)
    significant = (e.ci_high < ref.value) if mdef.higher_is_better else (e.ci_low > ref.value)
    if significant and drop.get("pull") is not None and cfg.pull and rel >= drop["pull"]:
        level, th = "pull", drop["pull"]
    elif significant and drop.get("warn") is not None and rel >= drop["warn"]:
        level, th = "warn", drop["warn"]
    else:
        return []
    return [_reason(
        metric, rel, th, level, period,
        f"{v}: estimated {metric} (no labels yet: {r.n_labeled:,} of {r.n:,} labeled) is {fmt.sig(e.value)} "
        f"(95% interval {fmt.sig(e.ci_low)} to {fmt.sig(e.ci_high)}) in the {period}, against {fmt.sig(ref.value)} "
        f"realized in its reference window: {fmt.pct_against(rel, th)} worse, beyond the {fmt.pct(th, 0)} {level} level"
        + ("" if level == "pull" else " (an estimate alone warns; [models.estimate] pull = true lets it pull)")
        + ".", v)]
