"""What ``check``, ``history`` and ``snooze`` share: the alert flags, who is
acting, where the history lives, and recording a check (with ``--notify``)."""

from __future__ import annotations

import datetime as _dt
import getpass
import sqlite3

from analytics.alerts.history import History, HistoryError
from analytics.alerts.record import record_check
from analytics.config.cachedir import cache_root, state_dir
from analytics.config.times import parse_time

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
    return state_dir(ctx.workspace.path, cache_root())


def history(ctx) -> History:
    return History.in_state_dir(state(ctx))


def record(args, ctx, payload):
    """Record the check (and notify); a history that cannot be written is a warning,
    never a failed check."""
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
    t = parse_time(value, what)
    return t.date() if t else None
