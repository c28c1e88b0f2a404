"""`lastmile drift`: drift of every feature, the prediction and the label of one model.

Each row says why it is (not) flagged (``why``: the documented rule applied to
its numbers, :class:`analytics.analyses.drift.rule.DriftRule`) and the rule itself
(``rule``). Missing bounds take the documented defaults (``analytics/docs/drift.md``): the
reference is the first 28 days of data (or ``[models.drift]
reference_start``/``reference_end``), the current window the last 28 days.
"""

from analytics.analyses.drift import compute_drift, resolve_windows
from analytics.analyses.drift.statistics import names as stat_names
from analytics.cli import add_common
from analytics.render.output import render

#: The table's columns: every registered statistic (analytics/analyses/drift/statistics/) in registry order.
COLUMNS = ["role", "feature", "kind", "drifted", "why", "method", *stat_names(), "n_ref", "n_cur", "rule", "reason"]


def add_parser(sub):
    p = sub.add_parser("drift", help="drift of every feature, the prediction and the label: reference vs current window")
    add_common(p)
    p.add_argument("--model", required=True, metavar="M", help="model name")
    for which in ("reference", "current"):
        p.add_argument(f"--{which}-start", metavar="ISO", help=f"first timestamp of the {which} window (inclusive)")
        p.add_argument(f"--{which}-end", metavar="ISO", help=f"end of the {which} window (exclusive)")
    p.add_argument("--version", action="append", default=[], metavar="V",
                   help="only this version's predictions, in both windows (repeatable)")
    p.add_argument("--where", action="append", default=[], metavar="COL=VALUE",
                   help="keep rows whose segment COL equals VALUE, in both windows (repeatable)")
    p.add_argument("--feature", action="append", default=None, metavar="NAME",
                   help="only this feature (repeatable; default: every declared feature)")
    return p


def run(args, ctx) -> int:
    engine = ctx.engine
    ref, cur = resolve_windows(engine, args.model, args.reference_start, args.reference_end,
                               args.current_start, args.current_end, args.version, args.where)
    result = compute_drift(engine, args.model, ref, cur, features=args.feature)
    ctx.warn_data(args.model)
    rows = result.to_polars().to_dicts()
    title = (f"Drift of model {result.model}: reference {ref.describe()} ({result.reference_n:,} rows) "
             f"vs current {cur.describe()} ({result.current_n:,} rows)")
    ctx.out(render(ctx.fmt, result.to_dict(), rows, COLUMNS, title))
    return 0
