"""`lastmile check`: the health verdict of every model, for people and schedulers.

Exit status (CONTRACT.md: "exit 0 healthy, 3 warn, 4 pull (per --fail-on)"):
the worst status among the models checked, counted only from the --fail-on
level up. ``--fail-on warn`` (the default): warn -> 3, pull -> 4.
``--fail-on pull``: warn -> 0, pull -> 4. Healthy is always 0; bad input 2.
"""

from ..cli import add_common
from ..health import model_health, portfolio_health
from ..output import render, to_table
from ..selection import parse_time

EXIT = {"healthy": 0, "warn": 3, "pull": 4}
COLUMNS = ["model", "status", "level", "rule", "version", "metric", "observed", "threshold", "period", "message"]


def exit_status(statuses, fail_on: str = "warn") -> int:
    """The exit code for these model statuses under ``--fail-on``."""
    floor = EXIT[fail_on]
    codes = [EXIT[s] for s in statuses if EXIT[s] >= floor]
    return max(codes, default=0)


def add_parser(sub):
    p = sub.add_parser("check", help="health verdict of every model (exit 0 healthy, 3 warn, 4 pull)")
    add_common(p)
    p.add_argument("--fail-on", choices=("warn", "pull"), default="warn",
                   help="lowest status that makes the exit code non-zero (default: warn)")
    p.add_argument("--model", action="append", default=[], metavar="M",
                   help="check only this model (repeatable; default: every model)")
    p.add_argument("--now", metavar="ISO",
                   help="evaluate as of this time (default: the latest prediction of each model)")
    p.add_argument("--all-reasons", action="store_true",
                   help="table: also list the info notes (rules that could not be evaluated)")
    return p


def run(args, ctx) -> int:
    engine = ctx.engine
    now = parse_time(args.now, "--now")
    if args.model:
        results = tuple(model_health(engine, m, now) for m in args.model)
    else:
        results = portfolio_health(engine, now)
    payload = {"status": max((h.status for h in results), key=list(EXIT).index, default="healthy"),
               "fail_on": args.fail_on, "models": [h.to_dict() for h in results]}
    rows = []
    for h in results:
        shown = [r for r in h.reasons if r.level != "info" or args.all_reasons or ctx.fmt != "table"]
        if not shown:
            rows.append({"model": h.model, "status": h.status, "message": "every rule passes"})
        for r in shown:
            rows.append({"model": h.model, "status": h.status, **r.to_dict()})
    code = exit_status([h.status for h in results], args.fail_on)
    if ctx.fmt == "table":
        summary = to_table([{"model": h.model, "status": h.status,
                             "warn": sum(r.level == "warn" for r in h.reasons),
                             "pull": sum(r.level == "pull" for r in h.reasons)} for h in results],
                           ["model", "status", "warn", "pull"], "Health of every model")
        detail = [f"{r['model']} [{r.get('level') or r['status']}] {r['message']}" for r in rows]
        ctx.out(summary + "\n\n" + "\n".join(detail) + f"\n\nexit status {code} (--fail-on {args.fail_on})")
    else:
        ctx.out(render(ctx.fmt, payload, rows, COLUMNS))
    return code
