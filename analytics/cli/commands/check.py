"""`lastmile check`: the health verdict of every model, for people and schedulers.

Statuses, from best to worst: healthy, warn, pull, error (a model whose logs cannot
be read: it cannot be checked, and the others still are). Exit status
(CONTRACT.md: "exit 0 healthy, 3 warn, 4 pull (per --fail-on)"; "`check` status
`error`: ... exit 2 unless `--fail-on` says otherwise"): the code of the worst status
among the models checked, counting only statuses at or above the ``--fail-on`` level.

==============  =======  ====  ====  =====
``--fail-on``   healthy  warn  pull  error
==============  =======  ====  ====  =====
warn (default)  0        3     4     2
pull            0        0     4     2
error           0        0     0     2
never           0        0     0     0
==============  =======  ====  ====  =====

Bad input to the command itself (unknown ``--model``, unreadable workspace) exits 2
whatever ``--fail-on`` says.

Every run is recorded in the verdict history; ``--notify`` also sends what changed
to the ``[notify]`` channels, and ``--backfill --since DATE`` records past days'
verdicts instead of checking now (see :file:`analytics/docs/alerts.md`). A failed
notification does not change the exit status unless ``--fail-on-notify`` (then 5).
"""

from analytics.analyses.health import STATUSES, checked_health, portfolio_health
from analytics.cli import add_common
from analytics.config.times import parse_time
from analytics.render.output import render, to_table
from analytics.alerts.backfill import backfill, last_day
from analytics.cli.commands._alerts import NOTIFY_FAILED, add_alert_flags, day, record, state, who
from analytics.errors import SelectionError

#: The exit code of each status (the contract's 0/3/4, and 2 for an unreadable model).
EXIT = {"healthy": 0, "warn": 3, "pull": 4, "error": 2}
#: ``--fail-on`` values, from the most to the least strict; ``never`` counts no status.
FAIL_ON = ("warn", "pull", "error", "never")
COLUMNS = ["model", "status", "level", "rule", "version", "metric", "observed", "threshold", "period", "message"]


def _rank(status: str) -> int:
    return STATUSES.index(status)


def exit_status(statuses, fail_on: str = "warn") -> int:
    """The exit code for these model statuses under ``--fail-on``: the code of the
    worst status (healthy < warn < pull < error) at or above the ``fail_on`` level."""
    if fail_on == "never":
        return 0
    counted = [s for s in statuses if _rank(s) >= _rank(fail_on)]
    return EXIT[max(counted, key=_rank)] if counted else 0


def add_parser(sub):
    p = sub.add_parser("check", help="health verdict of every model (exit 0 healthy, 3 warn, 4 pull, "
                       "2 a model cannot be read)",
                       description="The health verdict of every model. Statuses from best to worst: healthy, "
                       "warn, pull, error (its logs cannot be read; the other models are still checked). "
                       "Exit status: that of the worst status at or above --fail-on: warn 3, pull 4, error 2; "
                       "0 otherwise.")
    add_common(p)
    p.add_argument("--fail-on", choices=FAIL_ON, default="warn",
                   help="lowest status that makes the exit code non-zero, in the order warn < pull < error "
                        "(default: warn; 'pull' still exits 2 on an error; 'error' exits non-zero only on an "
                        "unreadable model; 'never' always exits 0 once the models are checked)")
    p.add_argument("--model", action="append", default=[], metavar="M",
                   help="check only this model (repeatable; default: every model)")
    p.add_argument("--now", metavar="ISO",
                   help="evaluate as of this time (default: the latest prediction of each model)")
    p.add_argument("--all-reasons", action="store_true",
                   help="table: also list the info notes (rules that could not be evaluated)")
    add_alert_flags(p)
    return p


def run(args, ctx) -> int:
    if args.backfill:
        return run_backfill(args, ctx)
    engine = ctx.engine
    now = parse_time(args.now, "--now")
    if args.model:  # an unknown name is bad input (exit 2); an unreadable model is status error
        results = tuple(checked_health(engine, engine.spec(m), now) for m in args.model)
    else:
        results = portfolio_health(engine, now)
    payload = {"status": max((h.status for h in results), key=_rank, default="healthy"),
               "fail_on": args.fail_on, "models": [h.to_dict() for h in results]}
    rows = []
    for h in results:
        shown = [r for r in h.reasons if r.level != "info" or args.all_reasons or ctx.fmt != "table"]
        if not shown:
            rows.append({"model": h.model, "status": h.status, "message": "every rule passes"})
        for r in shown:
            rows.append({"model": h.model, "status": h.status, **r.to_dict()})
    code = exit_status([h.status for h in results], args.fail_on)
    recorded = record(args, ctx, payload)
    if recorded is not None and args.notify:
        payload["notifications"] = [o.to_dict() for o in recorded.outcomes]
        if args.fail_on_notify and recorded.failed:
            code = NOTIFY_FAILED
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


def run_backfill(args, ctx) -> int:
    since = day(args.since, "--since")
    if since is None:
        raise SelectionError("--backfill needs --since DATE (the first day to judge).")
    if args.notify:
        raise SelectionError("--backfill records past verdicts and never notifies; drop --notify.")
    if args.every < 1:
        raise SelectionError("--every must be a whole number of days >= 1.")
    engine = ctx.engine
    specs = [engine.spec(m) for m in args.model] if args.model else list(ctx.workspace.models)
    until = day(args.until, "--until") or last_day(engine, specs)
    if until is None or until < since:
        raise SelectionError(f"Nothing to backfill: --since {since} is after the last day "
                             f"({until or 'no predictions'}).")
    rows = backfill(engine, specs, since, until, state(ctx), by=who(args), every=args.every, progress=ctx.warn)
    if ctx.fmt == "table":
        shown = [{**r, "reasons": ", ".join(r["reasons"]) or "-"} for r in rows]
        ctx.out(to_table(shown, ["day", "model", "status", "reasons"],
                         f"Backfilled {len(rows)} verdicts into the history"))
    else:
        ctx.out(render(ctx.fmt, {"backfilled": rows}, [{**r, "reasons": " ".join(r["reasons"])} for r in rows],
                       ["day", "model", "status", "reasons"]))
    return 0
