"""`lastmile store info`: what the incremental store holds, how fresh it is, its size."""

from analytics.cli import add_common
from analytics.render.output import render
from analytics.store import store_info


def add_parser(sub):
    p = sub.add_parser("store", help="the incremental store: `lastmile store info`")
    ssub = p.add_subparsers(dest="store_command", metavar="ACTION")
    ssub.required = True
    info = ssub.add_parser("info", help="what is stored, how fresh it is, and its size")
    add_common(info)
    return p


def run(args, ctx) -> int:
    res = store_info(ctx.workspace, ctx.engine)
    rows = [{k: m[k] for k in ("model", "status", "rows", "days", "first_day", "last_day", "files", "bytes",
                               "refreshed_at", "reason")} for m in res["models"]]
    title = f"Store {res['store']} ({res['bytes'] / 1e6:,.1f} MB)"
    if res["problem"]:
        title += f": unusable, {res['problem']} (the next refresh rebuilds it)"
    ctx.out(render(ctx.fmt, res, rows, ["model", "status", "rows", "days", "first_day", "last_day", "files",
                                        "bytes", "refreshed_at", "reason"], title))
    return 0
