"""`lastmile history`: the recorded verdicts of a model (or every model), oldest
first: the status, its reasons, the data range judged and the notifications sent
or failed (see analytics/docs/alerts.md)."""

import datetime as _dt

from analytics.cli import add_common
from analytics.cli.commands._alerts import day, history
from analytics.render.output import render, to_table

DAY = _dt.timedelta(days=1)
COLUMNS = ["through", "model", "kind", "status", "reasons", "event", "notifications"]


def add_parser(sub):
    p = sub.add_parser("history", help="recorded verdicts over time, with their reasons and notifications",
                       description="The verdict history that `lastmile check` records (and `check --backfill` "
                       "fills for past days), oldest first.")
    add_common(p, formats=False)
    p.add_argument("--format", choices=("text", "table", "json", "csv"), default="text",
                   help="output format (default: text; table is the same)")
    p.add_argument("--model", metavar="M", help="one model (default: every model)")
    p.add_argument("--since", metavar="DATE", help="verdicts whose data ends on this day or later")
    p.add_argument("--until", metavar="DATE", help="... and before this day")
    return p


def _notes(v) -> str:
    return "; ".join(f"{n['channel']} {'ok' if n['ok'] else 'FAILED: ' + (n['error'] or '')}"
                     for n in v.notifications) or None


def through(as_of: str) -> str:
    """The last day of data a verdict judged (``as_of`` is the end, exclusive)."""
    end = _dt.datetime.fromisoformat(as_of)
    return (end - _dt.timedelta(days=1)).date().isoformat() if end.time() == _dt.time(0) else end.isoformat(sep=" ")


def run(args, ctx) -> int:
    if args.model:
        ctx.workspace.model(args.model)   # an unknown name is bad input, with a suggestion
    since, until = day(args.since, "--since"), day(args.until, "--until")
    # a verdict as of D + 1 day 00:00 judged the data through day D
    verdicts = history(ctx).verdicts(args.model, (since + DAY).isoformat() if since else None,
                                     (until + DAY).isoformat() if until else None)
    rows = [{"through": through(v.as_of), "model": v.model, "kind": v.kind, "status": v.status,
             "reasons": " ".join(dict.fromkeys(r["rule"] for r in v.reasons if r.get("level") != "info")),
             "event": v.event or "", "notifications": _notes(v)} for v in verdicts]
    if args.format in ("text", "table"):
        if not rows:
            ctx.out("No verdicts recorded yet" + (f" for {args.model}" if args.model else "")
                    + ": run `lastmile check` (or `lastmile check --backfill --since DATE`).")
            return 0
        lines = [to_table(rows, COLUMNS, "Verdict history" + (f" of {args.model}" if args.model else ""))]
        changes = [v for i, v in enumerate(verdicts)
                   if i == 0 or verdicts[i - 1].status != v.status or verdicts[i - 1].model != v.model]
        lines.append("\nStatus changes, with every reason:")
        for v in changes:
            lines.append(f"{through(v.as_of)} {v.model}: {v.status}")
            lines += [f"  [{r['level']}] {r['message']}" for r in v.reasons if r.get("level") != "info"]
        ctx.out("\n".join(lines))
    else:
        ctx.out(render(args.format, {"model": args.model, "verdicts": [v.to_dict() for v in verdicts]},
                       rows, COLUMNS))
    return 0
