"""`lastmile history`: the recorded verdicts of a model (or every model), oldest
first: the status, its reasons, the data range judged and the notifications sent
or failed (see analytics/docs/alerts.md)."""

from ..cli import add_common
from ._alerts import day, history

COLUMNS = ["as_of", "model", "kind", "status", "reasons", "event", "notifications"]


def add_parser(sub):
    p = sub.add_parser("history", help="recorded verdicts over time, with their reasons and notifications",
                       description="The verdict history that `lastmile check` records (and `check --backfill` "
                       "fills for past days), oldest first.")
    add_common(p, formats=False)
    p.add_argument("--format", choices=("text", "table", "json", "csv"), default="text",
                   help="output format (default: text; table is the same)")
    p.add_argument("--model", metavar="M", help="one model (default: every model)")
    p.add_argument("--since", metavar="DATE", help="verdicts describing data from this day on")
    p.add_argument("--until", metavar="DATE", help="... and before this day")
    return p


def _notes(v) -> str:
    return "; ".join(f"{n['channel']} {'ok' if n['ok'] else 'FAILED: ' + (n['error'] or '')}"
                     for n in v.notifications) or "-"


def run(args, ctx) -> int:
    from ..output import render, to_table

    if args.model:
        ctx.workspace.model(args.model)   # an unknown name is bad input, with a suggestion
    since, until = day(args.since, "--since"), day(args.until, "--until")
    verdicts = history(ctx).verdicts(args.model, since.isoformat() if since else None,
                                     until.isoformat() if until else None)
    rows = [{"as_of": v.as_of, "model": v.model, "kind": v.kind, "status": v.status,
             "reasons": " ".join(r["rule"] for r in v.reasons if r.get("level") != "info"),
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
            lines.append(f"{v.as_of} {v.model}: {v.status}")
            lines += [f"  [{r['level']}] {r['message']}" for r in v.reasons if r.get("level") != "info"]
        ctx.out("\n".join(lines))
    else:
        ctx.out(render(args.format, {"model": args.model, "verdicts": [v.to_dict() for v in verdicts]},
                       rows, COLUMNS))
    return 0
