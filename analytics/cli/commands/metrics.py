"""`lastmile metrics`: performance metrics per group, with 95% intervals.

Table (for people): one line per group and metric, the value with its interval.
JSON: the contract's shape (``MetricsResult.to_dict``). CSV: one line per group,
columns ``<metric>``, ``<metric>_ci_low``, ``<metric>_ci_high``, ``<metric>_n``,
``<metric>_reason``.

``--per-class`` (multiclass models): JSON rows also carry ``per_class`` and
``confusion`` (see ``analytics/docs/metrics.md``); the table is followed by a
per-class table and each group's confusion matrix; CSV becomes one line per
group and true class (:mod:`analytics.cli.commands._perclass`).
"""

from analytics.cli import add_common, add_selection
from analytics.metrics import format_metric, get_metric
from analytics.metrics.compute import compute_metrics
from analytics.query.selection import Grouping, PERIODS, Selection
from analytics.render.output import render, to_csv
from . import _perclass as perclass



def add_version(p) -> None:
    """--version V (repeatable): keep only these model versions."""
    p.add_argument("--version", action="append", default=[], metavar="V", dest="versions",
                   help="keep only model version V (repeatable)")


def selection_from_args(args) -> Selection:
    """The Selection given by --model --start --end --where --version."""
    return Selection.build(args.model, start=args.start, end=args.end, versions=args.versions, where=args.where)


def add_parser(sub):
    p = sub.add_parser("metrics", help="performance metrics per group (version, period, segment), with intervals")
    add_common(p)
    add_selection(p)
    add_version(p)
    p.add_argument("--by", action="append", default=[], metavar="KEY",
                   help="group by version, period or a segment column (repeatable)")
    p.add_argument("--period", choices=tuple(PERIODS), default="week", help="period length for --by period "
                   "(default week; weeks start on Monday)")
    p.add_argument("--metric", action="append", default=[], metavar="NAME", dest="metrics",
                   help="only this metric (repeatable; default: every metric of the model's task)")
    p.add_argument("--per-class", action="store_true", dest="per_class",
                   help="multiclass: also per-class precision, recall, F1 (with intervals) and the confusion matrix")
    return p


def run(args, ctx) -> int:
    sel = selection_from_args(args)
    spec = ctx.workspace.model(args.model)
    for m in args.metrics:
        get_metric(m, spec.task)
    if args.per_class:
        perclass.check_task(spec)
    grouping = Grouping(by=tuple(args.by), period=args.period)
    result = compute_metrics(ctx.engine, sel, grouping, metrics=tuple(args.metrics) or None)
    ctx.warn_data(spec.name)
    if args.per_class:
        return perclass.run(ctx, sel, grouping, result, spec, table(result, spec, sel))
    if ctx.fmt == "csv":
        ctx.out(to_csv(result.to_polars().to_dicts()))
        return 0
    rows, columns, title = table(result, spec, sel)
    ctx.out(render(ctx.fmt, result.to_dict(), rows, columns, title))
    return 0


def table(result, spec, sel) -> tuple[list[dict], list[str], str]:
    """The table view: one line per group and metric (rows, columns, title)."""
    keys = list(result.group_keys)
    rows = []
    for r in result.rows:
        for name, v in r.metrics.items():
            d = get_metric(name)
            rows.append({**r.group, "n": r.n, "labeled": r.n_labeled, "label delay (d)": r.label_delay_days,
                         "metric": name,
                         "value [95% CI]": format_metric(d, v), "metric n": v.n, "note": v.reason or ""})
    title = (f"Model {spec.name!r} ({spec.task}), {sel.describe()}: {len(result.rows)} group(s)"
             + (f" by {', '.join(keys)}" if keys else ""))
    return rows, keys + ["n", "labeled", "label delay (d)", "metric", "value [95% CI]", "metric n", "note"], title
