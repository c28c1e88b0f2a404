"""The KPI table's estimates: where the period's labels are not all in, the label-free
estimate of each estimable metric over the same rows, marked as an estimate (and as
not trusted when the guard says so). See ``analytics/docs/estimate.md``."""

from __future__ import annotations

from analytics.analyses.estimate import EstimateConfig, estimate_performance
from analytics.errors import LastmileError
from analytics.metrics import format_value, get_metric
from analytics.render import format as fmt


def estimate_cells(mi, selection) -> dict:
    """``{"rows": {metric: {"value", "interval"}}, "trusted", "note"}`` for the KPI table,
    or ``{}`` when the period's labels are in (or nothing can be estimated)."""
    cfg = EstimateConfig.from_spec(mi.spec)
    try:
        res = estimate_performance(mi.engine, selection)
    except LastmileError:
        return {}
    if not res.rows:
        return {}
    row = res.rows[0]
    if row.n == 0 or row.label_coverage >= cfg.matured_coverage:
        return {}
    cells = {}
    for name, e in row.estimated.items():
        d = get_metric(name, mi.spec.task)
        cells[name] = {"value": format_value(d, e.value) if e.value is not None else fmt.MISSING,
                       "interval": (f"[{format_value(d, e.ci_low)}, {format_value(d, e.ci_high)}]"
                                    if e.ci_low is not None else fmt.MISSING)}
    note = (f"Only {fmt.pct(row.label_coverage, 0)} of the period's predictions have an outcome yet: the "
            "estimated column gives each metric without outcomes, from all of them (how: see "
            "the method notes, \"Estimates before outcomes arrive\"), with its 95% interval.")
    if not row.reliable:
        note += " These estimates are not trusted: " + "; ".join(row.reasons) + "."
    return {"rows": cells, "trusted": row.reliable, "note": note}
