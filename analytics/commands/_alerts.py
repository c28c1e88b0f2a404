"""What ``check``, ``history`` and ``snooze`` share: the alert flags, who is
acting, where the history lives, and recording a check (with ``--notify``)."""

from __future__ import annotations

import datetime as _dt
import getpass
import sqlite3

from ..errors import SelectionError

#: ``check --fail-on-notify``: the exit status when a notification could not be delivered
NOTIFY_FAILED = 5


def add_alert_flags(p) -> None:
    g = p.add_argument_group("alerts and history (analytics/docs/alerts.md)")
    g.add_argument("--notify", action="store_true",
                   help="send what changed (status, a new reason, a recovery, a repeated pull) to the "
                        "[notify] channels of each model")
    g.add_argument("--fail-on-notify", action="store_true",
                   help=f"exit {NOTIFY_FAILED} when a notification could not be delivered (default: the "
                        "exit status is the verdict's)")
    g.add_argument("--backfill", action="store_true",
                   help="record the verdicts of past days (each as of its end) instead of checking now; "
                        "needs --since")
    g.add_argument("--since", metavar="DATE", help="--backfill: first day (ISO date)")
    g.add_argument("--until", metavar="DATE", help="--backfill: last day (default: the day of the latest "
                   "prediction)")
    g.add_argument("--every", type=int, default=1, metavar="DAYS",
                   help="--backfill: one verdict every DAYS days (default: 1)")
    g.add_argument("--by", metavar="NAME", help="who runs it, for the history (default: the login name)")


def who(args) -> str:
    if getattr(args, "by", None):
        return args.by
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "unknown"


def state(ctx):
    from ..cachedir import cache_root, state_dir

    return state_dir(ctx.workspace.path, cache_root())


def history(ctx):
    from ..alerts.history import History

    return History.in_state_dir(state(ctx))


def record(args, ctx, payload):
    """Record the check (and notify); a history that cannot be written is a warning,
    never a failed check."""
    from ..alerts.history import HistoryError
    from ..alerts.record import record_check

    if args.notify and not (ctx.workspace.notify or {}).get("channels"):
        ctx.warn("warning: --notify, but the workspace declares no [notify.channels]: nothing can be sent "
                 "(see analytics/docs/alerts.md).")
    try:
        rec = record_check(ctx.workspace, payload, state(ctx), notify=args.notify, by=who(args))
    except (OSError, sqlite3.Error, HistoryError) as exc:
        ctx.warn(f"warning: the verdict history could not be written ({exc}); nothing was notified.")
        return None
    for o in rec.outcomes:
        ctx.warn(rec.redact("notify: " + o.describe()))
    return rec


def day(value, what: str) -> _dt.date | None:
    from ..selection import parse_time

    t = parse_time(value, what)
    return t.date() if t else None


def run_backfill(args, ctx) -> int:
    from ..alerts.backfill import backfill, last_day
    from ..output import render, to_table

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
