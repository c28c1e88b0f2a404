"""The health check's findings in a few plain words, and the newest weeks whose outcomes
are still arriving: the words :mod:`analytics.analyses.recommend` and the dashboard use."""

from __future__ import annotations

from typing import Any

from analytics.analyses.health.context import weekly_counts
from analytics.analyses.health.reasons import WEEK
from analytics.metrics import get_metric
from analytics.render import format as fmt


def metric_label(spec, name: str) -> str:
    """The metric's label as a reader says it."""

    return {"roc_auc": "AUC"}.get(name, get_metric(name, spec.task).label)


def arriving_weeks(engine, spec, health) -> list[dict[str, Any]]:
    """The newest weeks whose labels are still arriving: those after the health check's
    performance window (the newest week with enough labels), newest last, each with its
    label coverage."""

    cur = health.windows.get("current")
    perf = health.windows.get("performance")
    if cur is None or perf is None or spec.columns.label is None:
        return []
    k = round((cur[1] - perf[1]) / WEEK)
    if k <= 0:
        return []
    counts = weekly_counts(engine, spec, cur[1], k)
    out = []
    for i in reversed(range(k)):
        n = sum(v[0] for (kk, ver), v in counts.items() if kk == i and ver in health.versions)
        nl = sum(v[1] for (kk, ver), v in counts.items() if kk == i and ver in health.versions)
        s = cur[1] - (i + 1) * WEEK
        out.append({"start": s, "end": s + WEEK, "n": n, "n_labeled": nl, "coverage": nl / n if n else None})
    return out


def plain_reason(spec, r) -> str:
    """A warn or pull finding of the health check in a few plain words (3 significant digits)."""
    if r.rule == "drop" and r.metric:
        return (f"{r.version}'s {metric_label(spec, r.metric)} is {fmt.sig(100 * r.observed)}% worse than in "
                "the reference weeks")
    if r.rule == "latency_p95":
        return f"{r.version} is slow (95% of answers within {fmt.sig(r.observed)} ms)"
    if r.rule == "drifted_features":
        names = ", ".join(d.get("feature") for d in r.details) if r.details else ""
        return f"its inputs changed ({names})" if names else "its inputs changed"
    if r.rule == "prediction_psi":
        return "its predictions shifted"
    if r.rule == "label_coverage":
        return f"few outcomes come back ({fmt.pct(r.observed, 0)} labeled)"
    if r.rule in ("floor", "ceiling") and r.metric:
        where = "below its floor" if r.rule == "floor" else "above its ceiling"
        return f"{r.version}'s {metric_label(spec, r.metric)} is {fmt.sig(r.observed)}, {where} of {fmt.sig(r.threshold)}"
    if r.rule == "net_value" and spec.business is not None:
        cur = spec.business.currency
        return (f"{r.version} earns {fmt.money(r.observed, cur, short=True)} a week, below "
                f"{fmt.money(r.threshold, cur, short=True)}")
    if r.level == "error" or r.observed is None:
        return r.message
    return f"{r.rule.replace('_', ' ')} ({fmt.sig(r.observed)} against {fmt.sig(r.threshold)})"
