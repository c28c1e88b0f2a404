"""`lastmile estimate`: performance before the labels arrive, with 95% intervals.

Table (for people): one line per group and metric: the estimate with its
interval, the realized value where labels exist, and whether the estimate is
reliable (the guard's reasons follow the table). JSON: the shape of
``analytics/docs/estimate.md`` (``--backtest`` adds ``backtest``: every matured
period's estimated and realized values, error and coverage, and a summary).
CSV: one line per group (``<metric>``, ``<metric>_ci_low``, ``<metric>_ci_high``,
``<metric>_realized``, ``reliable``, ``reasons``); with ``--backtest``, one
line per matured period and metric instead.
"""

from analytics.analyses.estimate import estimate_performance
from analytics.cli import add_common, add_selection
from analytics.query.selection import PERIODS, Grouping
from analytics.render.format import sig, signed
from analytics.render.output import render, to_csv
from .metrics import add_version, selection_from_args


def add_parser(sub):
    p = sub.add_parser("estimate", help="label-free performance estimates per group, with intervals, "
                       "a reliability guard and a backtest")
    add_common(p)
    add_selection(p)
    add_version(p)
    p.add_argument("--by", action="append", default=[], metavar="KEY",
                   help="group by version, period or a segment column (repeatable)")
    p.add_argument("--period", choices=tuple(PERIODS), default="week",
                   help="period length for --by period and the backtest (default week; weeks start on Monday)")
    p.add_argument("--backtest", action="store_true",
                   help="also compare estimated with realized values on every matured period")
    return p


def run(args, ctx) -> int:
    sel = selection_from_args(args)
    spec = ctx.workspace.model(args.model)
    grouping = Grouping(by=tuple(args.by), period=args.period)
    result = estimate_performance(ctx.engine, sel, grouping)
    ctx.warn_data(spec.name)
    payload = result.to_dict(backtest=args.backtest)
    if ctx.fmt == "csv":
        if args.backtest:
            ctx.out(to_csv([{**b.group, "metric": b.metric, "estimated": b.estimated.value,
                             "ci_low": b.estimated.ci_low, "ci_high": b.estimated.ci_high, "realized": b.realized,
                             "error": b.error, "covered": b.covered, "n_labeled": b.n_labeled}
                            for b in result.backtest]))
        else:
            ctx.out(to_csv(result.to_polars().to_dicts()))
        return 0
    keys = list(result.group_keys)
    rows = []
    for r in result.rows:
        for name, e in r.estimated.items():
            real = r.realized.get(name) if r.realized else None
            est = (f"{sig(e.value)} [{sig(e.ci_low)}, {sig(e.ci_high)}]" if e.value is not None
                   else f"n/a ({e.reason})")
            rows.append({**r.group, "n": r.n, "labeled": r.n_labeled, "metric": name, "estimated [95% CI]": est,
                         "realized": sig(real.value) if real is not None and real.value is not None else "",
                         "reliable": "yes" if r.reliable else "NO"})
    how = "calibrated (isotonic)" if result.calibrated else "scores as probabilities"
    if spec.task == "regression":
        how = "error model"
    title = (f"Model {spec.name!r} ({spec.task}), {sel.describe()}: estimates without labels, {how}; "
             f"{len(result.rows)} group(s)" + (f" by {', '.join(keys)}" if keys else ""))
    columns = keys + ["n", "labeled", "metric", "estimated [95% CI]", "realized", "reliable"]
    text = render(ctx.fmt, payload, rows, columns, title)
    if ctx.fmt == "table":
        notes = []
        for r in result.rows:
            for why in r.reasons:
                where = ", ".join(f"{k} {v}" for k, v in r.group.items()) or "all data"
                notes.append(f"unreliable ({where}): {why}")
        if args.backtest:
            notes.append("")
            notes.append("Backtest on matured periods (estimated vs realized):")
            for m, s in result.backtest_summary().items():
                if s["periods"]:
                    notes.append(f"  {m}: {s['periods']} period(s), interval coverage {s['coverage']:.0%}, "
                                 f"mean error {signed(s['mean_error'])}, mean absolute error {sig(s['mean_abs_error'])}")
        text = text.rstrip("\n") + ("\n" + "\n".join(notes) if notes else "")
    ctx.out(text)
    return 0
