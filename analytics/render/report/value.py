"""The report's value section: value, baseline, compute cost, net value and ROI (value module)."""

from __future__ import annotations

from analytics.analyses.value import compute_value
from analytics.query.selection import Grouping
from analytics.render import format as fmt


def value(mi, earlier: dict) -> dict:
    """Value, baseline, compute cost, net value and ROI, in total and per version (value module)."""
    out = {"template": "value.html.j2", "title": "Value and ROI", "rows": [], "total": None, "empty": None,
           "notes": [], "summary": {}, "tiles": []}
    business = mi.spec.business
    if business is None:
        out["empty"] = ("No business values are configured for this model, so its value is unknown. Add a "
                        "[models.business] table to lastmile.toml (value of each outcome, compute cost).")
        return out

    cur = business.currency
    total = compute_value(mi.engine, mi.selection)
    per_version = compute_value(mi.engine, mi.selection, Grouping(by=("version",)))

    def cells(r) -> dict:
        return {"n": fmt.count(r.n), "n_labeled": fmt.count(r.n_labeled),
                "value": fmt.money(r.value, cur), "baseline": fmt.money(r.baseline_value, cur),
                "lift": fmt.money(r.lift, cur), "cost": fmt.money(r.compute_cost, cur),
                "net": fmt.money(r.net_value, cur),
                "returns": fmt.value_for_money(r.net_value, r.compute_cost, cur),
                "roi": roi_text(r.roi), "role": r.role,
                "pending": fmt.money(r.pending_expected_value, cur),
                "pending_share": fmt.pct(r.pending_share),
                "reasons": [x for x in (r.value_reason, r.baseline_reason, r.roi_reason) if x]}

    out["rows"] = [{"version": r.group.get("version"), **cells(r)}
                   for r in sorted(per_version.rows, key=lambda r: -r.n)]
    t = total.rows[0] if total.rows else None
    if t is None or t.n == 0:
        out["empty"] = "There are no predictions in the report period, so there is no value to report."
        return out
    out["total"] = cells(t)
    out["pooled"] = total.totals.pooled() if total.totals else ""
    out["shadow_versions"] = list(total.totals.shadow_versions) if total.totals else []
    out["raw_roi"] = [f"{r.group.get('version')}: {roi_text(r.roi)}" for r in per_version.rows if r.roi is not None] \
        + ([f"total: {roi_text(t.roi)}"] if t.roi is not None else [])
    out["currency"] = cur
    out["baseline_policy"] = total.assumptions.baseline
    out["threshold"] = total.threshold_used
    out["notes"] = list(total.warnings) + sorted({x for r in per_version.rows for x in
                                                   (r.pending_assumption,) if x})
    net = fmt.money(t.net_value, cur)
    out["summary"] = {"net_value": net}
    out["tiles"] = [{"label": "Net value", "value": fmt.money(t.net_value, cur, short=True),
                     "sub": f"{fmt.value_for_money(t.net_value, t.compute_cost, cur, short=True)}, "
                            f"vs {total.assumptions.baseline.replace('_', ' ')}"
                            + (f"; {', '.join(out['shadow_versions'])} (shadow) not added"
                               if out["shadow_versions"] else "")}]
    if t.n_labeled == 0:
        out["empty"] = ("No prediction in the period has a known outcome yet, so realized value cannot be "
                        "computed; the pending column estimates it from the scores.")
    return out


def roi_text(roi: float | None) -> str:
    """ROI (net value / compute cost) as a multiple of the cost: ``2.5 -> "2.5x"``."""
    if roi is None:
        return fmt.MISSING
    return f"{roi:,.0f}×" if abs(roi) >= 100 else f"{roi:,.1f}×"
