"""`lastmile metrics --per-class`: the multiclass extension of `lastmile metrics`.

JSON: each row of the metrics JSON also gets ``per_class`` and ``confusion``
(a group without labeled predictions gets all-zero counts and null metrics).
Table: the metrics table, then one line per group and class, then each group's
confusion matrix (rows: true class, columns: predicted). CSV: one line per group
and true class: the keys, ``class``, ``support``, ``predicted``, per metric
``<m>``, ``<m>_ci_low``, ``<m>_ci_high``, ``<m>_reason``, and the confusion
row as ``predicted_<class>`` counts (and ``predicted_other``).
"""

from __future__ import annotations

from analytics.errors import SelectionError
from analytics.metrics import format_metric, get_metric
from analytics.metrics.perclass import LABELS, PER_CLASS_METRICS, compute_per_class
from analytics.render.output import render, to_csv, to_json, to_table
from analytics.results import jsonable


def check_task(spec) -> None:
    """--per-class is bad input for a model that is not multiclass (checked before any query)."""
    if spec.task != "multiclass":
        raise SelectionError(f"--per-class is for multiclass models; model {spec.name!r} is a {spec.task} model.")


def _cell(m: str, v) -> str:
    """As the registry prints the binary metric of that name: precision and recall in %, F1 as a number."""
    return format_metric(get_metric(m), v)


def run(ctx, sel, grouping, result, spec, metrics_table) -> int:
    """``metrics_table``: the metrics command's table view (rows, columns, title)."""
    pc = compute_per_class(ctx.engine, sel, grouping)
    keys = list(result.group_keys)

    def per_row(group):
        return pc.row(**group)

    if ctx.fmt == "json":
        payload = result.to_dict()
        for row, r in zip(payload["rows"], result.rows):
            row.update(per_row(r.group).to_dict())
        ctx.out(to_json(payload))
        return 0
    lines = []
    for r in result.rows:
        p = per_row(r.group)
        conf = p.confusion
        for i, c in enumerate(p.per_class):
            line = {**r.group, "class": c.cls, "support": c.support, "predicted": c.predicted}
            for m in PER_CLASS_METRICS:
                v = c.metric(m)
                line.update({m: v.value, f"{m}_ci_low": v.ci_low, f"{m}_ci_high": v.ci_high,
                             f"{m}_reason": v.reason, f"{m}_cell": _cell(m, v)})
            line.update({f"predicted_{k}": n for k, n in zip(conf.classes, conf.counts[i])})
            line["predicted_other"] = conf.other_predicted[i]
            line["note"] = "; ".join(dict.fromkeys(c.metric(m).reason for m in PER_CLASS_METRICS
                                                   if c.metric(m).reason))
            lines.append(line)
    if ctx.fmt == "csv":
        cols = keys + ["class", "support", "predicted"]
        for m in PER_CLASS_METRICS:
            cols += [m, f"{m}_ci_low", f"{m}_ci_high", f"{m}_reason"]
        cols += [f"predicted_{k}" for k in pc.classes] + ["predicted_other"]
        ctx.out(to_csv(lines, cols))
        return 0
    rows, columns, title = metrics_table
    parts = [render("table", result.to_dict(), rows, columns, title)]
    cols = keys + ["class", "support", "predicted"] + [f"{m}_cell" for m in PER_CLASS_METRICS] + ["note"]
    shown = [{**ln, **{f"{m}_cell": ln[f"{m}_cell"] for m in PER_CLASS_METRICS}} for ln in lines]
    header = {f"{m}_cell": f"{LABELS[m].lower()} [95% CI]" for m in PER_CLASS_METRICS}
    parts.append(to_table([{header.get(k, k): v for k, v in ln.items()} for ln in shown],
                          [header.get(c, c) for c in cols], "Per class (precision: of the rows predicted the class; "
                          "recall: of the rows labeled the class)"))
    for r in result.rows:
        conf = per_row(r.group).confusion
        where = ", ".join(f"{k}={jsonable(v)}" for k, v in r.group.items()) or "all rows"
        mrows = [{"true \\ predicted": c, **dict(zip(conf.classes, counts)),
                  **({"other": o} if any(conf.other_predicted) else {})}
                 for c, counts, o in zip(conf.classes, conf.counts, conf.other_predicted)]
        parts.append(to_table(mrows, None, f"Confusion matrix ({where}): rows true class, columns predicted"))
    ctx.out("\n\n".join(parts))
    return 0
