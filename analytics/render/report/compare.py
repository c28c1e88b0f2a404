"""The report's version comparison: the champion against each challenger (compare module)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from analytics.analyses.compare import compare_versions
from analytics.errors import EmptySelectionError
from analytics.metrics import format_value, get_metric
from analytics.render import format as fmt
from ..charts import compare_forest
from .common import WIDTH, champion_and_challengers


def _compare_entry(mi, champion: str, cand: str) -> dict:
    """One champion-challenger comparison, formatted (``empty`` when it cannot be made)."""
    task = mi.spec.task
    entry = {"baseline": champion, "candidate": cand, "chart": None}
    try:
        c = compare_versions(mi.engine, mi.selection, champion, cand)
    except EmptySelectionError as exc:
        entry["empty"] = str(exc)
        return entry
    rows, forest = [], []
    for name, m in c.metrics.items():
        d = get_metric(name, task)
        better = m.candidate_better
        significant = m.p_value is not None and m.p_value < c.settings.alpha
        rows.append({"label": d.label, "baseline": format_value(d, m.baseline),
                     "candidate": format_value(d, m.candidate), "delta": fmt.delta(m.delta, d.fmt),
                     "interval": fmt.interval(m.ci_low, m.ci_high, d.fmt), "p": fmt.p_value(m.p_value),
                     "method": m.method, "primary": name == c.primary_metric,
                     "direction": ("good" if better else "bad") if significant and better is not None else ""})
        if d.kind == "label" and m.delta is not None:
            forest.append({"metric": name, "label": d.label, "delta": m.delta, "ci_low": m.ci_low,
                           "ci_high": m.ci_high, "better": better})
    pm = get_metric(c.primary_metric, task)
    entry.update({
        "verdict": c.verdict, "paired": c.paired, "reasons": list(c.reasons),
        "primary": get_metric(c.primary_metric, task).label,
        "n_baseline": fmt.count(c.n_baseline), "n_candidate": fmt.count(c.n_candidate),
        "overlap": fmt.pct(c.overlap) if c.overlap is not None else None,
        "rows": rows, "empty": None,
        "losing": [{"segment": f"{s.column} = {s.value}", "baseline": format_value(pm, s.baseline),
                    "candidate": format_value(pm, s.candidate), "delta": fmt.delta(s.delta, pm.fmt),
                    "p": fmt.p_value(s.p_adjusted)} for s in c.losing_segments],
        "highlight": f"{cand} vs {champion}: {c.verdict}. {c.reasons[0] if c.reasons else ''}",
    })
    if forest:
        entry["chart"] = mi.charts.add(
            compare_forest(forest, title=f"{cand} minus {champion}, label metrics (95% interval)"),
            alt=f"Difference {cand} minus {champion} per metric", width=WIDTH,
            height=max(220, 26 * len(forest) + 90))
    return entry


def comparison(mi, earlier: dict) -> dict:
    """Champion against each challenger (compare module): every metric tested, and the verdict.

    The comparisons run concurrently (each on its own engine connection).
    """
    out = {"template": "compare.html.j2", "title": "Version comparison", "comparisons": [], "empty": None,
           "highlights": []}
    champion, challengers = champion_and_challengers(earlier["kpis"])
    if champion is None or not challengers:
        out["empty"] = ("Only one version served predictions in the report period"
                        + (f" ({champion})" if champion else "") + ", so there is nothing to compare.")
        return out
    with ThreadPoolExecutor(max_workers=len(challengers), thread_name_prefix="lastmile-compare") as pool:
        entries = list(pool.map(lambda cand: _compare_entry(mi, champion, cand), challengers))
    out["comparisons"] = entries
    out["highlights"] = [e["highlight"] for e in entries if e.get("highlight")]
    return out
