"""`lastmile quality`: data-quality checks per period against the reference window.

Table (for people): the checks at warn or pull, worst first, then a count per
check; ``--all`` lists every finding. JSON: ``QualityResult.to_dict`` (every
finding, with ``observed``, ``threshold``, ``level``, ``reason`` and ``details``).
CSV: one line per finding. Exit status like ``check``: 0, or 3 (warn) / 4 (pull) as
``--fail-on`` counts them; bad input exits 2.
"""

from analytics.analyses.quality.checks import CHECKS
from analytics.analyses.quality.compute import run_quality
from analytics.cli import add_common, add_selection
from analytics.config.times import parse_time
from analytics.errors import SelectionError, suggest
from analytics.query.selection import PERIODS
from analytics.render.output import render, to_table

from .check import EXIT

FAIL_ON = ("warn", "pull", "never")
COLUMNS = ["check", "column", "period", "version", "file", "level", "observed", "threshold", "reason", "message"]


def exit_status(status: str, fail_on: str = "warn") -> int:
    """0, or the code of ``status`` (healthy, warn, pull) when it is at or above ``fail_on``."""
    order = ("healthy", "warn", "pull")
    if fail_on == "never" or order.index(status) < order.index(fail_on):
        return 0
    return EXIT[status]


def add_parser(sub):
    p = sub.add_parser("quality", help="data-quality checks per period against the reference window "
                       "(exit 0, 3 warn, 4 pull per --fail-on)",
                       description="Data-quality checks of one model for each period against its reference "
                       "window: " + ", ".join(CHECKS) + ". See analytics/docs/quality.md.")
    add_common(p)
    add_selection(p)
    p.add_argument("--by", action="append", default=[], choices=("period",),
                   help="group by period (the default and only grouping: checks are per period)")
    p.add_argument("--period", choices=tuple(PERIODS), default="week",
                   help="period length (default week; weeks start on Monday)")
    p.add_argument("--check", action="append", default=[], metavar="NAME", dest="checks",
                   help="run only this check (repeatable; default: every enabled check)")
    p.add_argument("--now", metavar="ISO", help="judge freshness as of this time (default: the latest "
                   "prediction; a scheduler passes the current time)")
    p.add_argument("--fail-on", choices=FAIL_ON, default="warn",
                   help="lowest level that makes the exit code non-zero: warn (3/4, the default), pull (4), never")
    p.add_argument("--all", action="store_true", dest="all_rows", help="table: list every finding, not "
                   "only warn and pull")
    return p


def run(args, ctx) -> int:
    if args.where:
        raise SelectionError("quality checks every row of a period; --where is not supported here.")
    for name in args.checks:
        if name not in CHECKS:
            raise SelectionError(f"Unknown quality check {name!r}{suggest(name, CHECKS)}; the checks are: "
                                 f"{', '.join(CHECKS)}.")
    res = run_quality(ctx.engine, args.model, start=args.start, end=args.end, period=args.period,
                      now=parse_time(args.now, "--now"), checks=args.checks or None)
    ctx.warn_data(args.model)
    code = exit_status(res.status, args.fail_on)
    rows = [f.to_dict() for f in res.findings]
    if ctx.fmt != "table":
        ctx.out(render(ctx.fmt, res.to_dict(), rows, COLUMNS))
        return code
    shown = res.findings if args.all_rows else res.problems("warn")
    ref = f"{res.reference[0]:%Y-%m-%d} to {res.reference[1]:%Y-%m-%d}" if res.reference[0] else "?"
    lines = [f"Data quality of model {res.model!r} by {res.period}, against the reference {ref}: {res.status}"]
    counts = []
    for name, chk in CHECKS.items():
        fs = [f for f in res.findings if f.check == name]
        if fs:
            counts.append({"check": name, "what": chk.title, "findings": len(fs),
                           "warn": sum(f.level == "warn" for f in fs), "pull": sum(f.level == "pull" for f in fs)})
    detail = [f"[{f.level}] {f.message}" for f in sorted(shown, key=lambda f: (f.period or "", f.check))]
    lines += detail or ["No check is at warn or pull."]
    lines += ["", to_table(counts, ["check", "what", "findings", "warn", "pull"], "Per check"),
              f"exit status {code} (--fail-on {args.fail_on})"]
    ctx.out("\n".join(lines))
    return code
