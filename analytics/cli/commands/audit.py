"""`lastmile audit`: list the audit trail (who saw, downloaded, reported, refreshed what, when)."""

from dataclasses import asdict

from analytics.access import audit
from analytics.cli import add_common
from analytics.config.cachedir import cache_root
from analytics.render.output import render

COLUMNS = ["ts", "user", "action", "model", "page", "detail", "ip"]


def add_parser(sub):
    p = sub.add_parser("audit", help="list the dashboard's audit trail: who saw, downloaded or refreshed what, when")
    add_common(p)
    p.add_argument("--since", metavar="WHEN", help="from this ISO date/datetime (UTC), or a span back from now: 7d, 12h, 90m")
    p.add_argument("--user", metavar="WHO", help="only this user (email or id, case-insensitive)")
    return p


def run(args, ctx) -> int:
    path = audit.audit_path(ctx.workspace, cache_root())
    since = audit.parse_since(args.since) if args.since else None
    events = audit.read(path, since=since, user=args.user)
    rows = [asdict(e) for e in events]
    payload = {"path": str(path), "since": since.isoformat() if since else None, "user": args.user,
               "events": rows}
    title = f"Audit trail {path}: {len(rows):,} event{'s' if len(rows) != 1 else ''}"
    ctx.out(render(ctx.fmt, payload, rows, COLUMNS, title))
    return 0
