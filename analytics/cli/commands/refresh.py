"""`lastmile refresh`: bring the incremental store up to date with the logs (what changed only)."""

from analytics.cli import add_common
from analytics.render.output import render
from analytics.store import refresh


def add_parser(sub):
    p = sub.add_parser("refresh", help="update the incremental store with what changed in the logs")
    add_common(p)
    p.add_argument("--model", action="append", metavar="M", help="refresh only this model (repeatable)")
    return p


def run(args, ctx) -> int:
    ws = ctx.workspace
    names = None
    if args.model:
        names = [ws.model(n).name for n in args.model]
    res = refresh(ws, models=names, progress=ctx.warn)
    rows = [{"model": m.model, "action": m.action, "reason": m.reason, "files_read": m.files_read,
             "days_written": m.days, "rows_written": m.rows, "seconds": round(m.seconds, 2)} for m in res.models]
    title = f"Store {res.root}: refreshed in {res.seconds:.1f} s"
    ctx.out(render(ctx.fmt, res.to_dict(), rows,
                   ["model", "action", "reason", "files_read", "days_written", "rows_written", "seconds"], title))
    return 0
