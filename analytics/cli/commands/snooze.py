"""`lastmile snooze`: silence the notifications of a model, or of one rule of it,
until a date, with who and why recorded (``--list`` shows them, ``--clear`` ends
them). Checks still judge and record every verdict; see analytics/docs/alerts.md."""

from analytics.alerts import snooze
from analytics.alerts.notify import RULE_WORDS
from analytics.cli import add_common
from analytics.cli.commands._alerts import history, who
from analytics.config.alerts import RULE_DEFAULTS
from analytics.config.times import parse_time
from analytics.errors import SelectionError, suggest
from analytics.render.output import render, to_table


def add_parser(sub):
    p = sub.add_parser("snooze", help="silence a model's (or one rule's) notifications until a date",
                       description="Snooze notifications: `lastmile snooze --model M [--rule R] --until DATE "
                       "--reason \"...\"`; `--list` shows the snoozes in force, `--clear` ends them.")
    add_common(p)
    p.add_argument("--model", metavar="M", help="the model (required, except with --list)")
    p.add_argument("--rule", metavar="R", help="only this rule (drop, drifted_features, latency_p95, ...)")
    p.add_argument("--until", metavar="DATE", help="ISO date or datetime (UTC) when notifications resume")
    p.add_argument("--reason", default="", help="why (recorded in the history)")
    p.add_argument("--by", metavar="NAME", help="who (default: the login name)")
    p.add_argument("--list", action="store_true", help="list the snoozes in force")
    p.add_argument("--all", action="store_true", help="--list: also the expired and cleared ones")
    p.add_argument("--clear", action="store_true", help="end the snoozes of --model (of --rule only, if given)")
    return p


def known_rules() -> set[str]:
    return set(RULE_WORDS) | set(RULE_DEFAULTS)


def run(args, ctx) -> int:
    h = history(ctx)
    if args.model:
        ctx.workspace.model(args.model)
    if args.list:
        rows = [s.to_dict() for s in snooze.listed(h, args.model, include_past=args.all)]
        cols = ["model", "rule", "until", "by", "reason", "created_at", "cleared_at", "cleared_by"]
        if ctx.fmt == "table":
            ctx.out(to_table(rows, cols, "Snoozes" + ("" if args.all else " in force")) if rows
                    else "No snooze in force.")
        else:
            ctx.out(render(ctx.fmt, {"snoozes": rows}, rows, cols))
        return 0
    if not args.model:
        raise SelectionError("snooze needs --model M (or --list).")
    if args.clear:
        n = snooze.clear(h, args.model, who(args), args.rule)
        ctx.out(f"Cleared {n} snooze{'s' if n != 1 else ''} of {args.model}"
                + (f" (rule {args.rule})" if args.rule else "") + ".")
        return 0
    if not args.until:
        raise SelectionError("snooze needs --until DATE (when notifications resume).")
    if args.rule and args.rule not in known_rules():
        ctx.warn(f"warning: no health rule is named {args.rule!r}{suggest(args.rule, known_rules())}; "
                 "snoozed anyway (a reason with that rule name will be silenced).")
    s = snooze.add(h, args.model, parse_time(args.until, "--until"), args.reason, who(args), args.rule)
    ctx.out(f"Snoozed: {s.describe()}.")
    return 0
