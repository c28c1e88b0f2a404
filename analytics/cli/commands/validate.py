"""`lastmile validate`: check every model's files and columns; list each problem."""

from analytics.cli import add_common
from analytics.log.validation import validate_path
from analytics.render.output import render


def add_parser(sub):
    p = sub.add_parser("validate", help="check every model's files, columns and rows; list each problem")
    add_common(p)
    return p


def run(args, ctx) -> int:
    report = validate_path(ctx.config_path)
    rows = [{"model": "(workspace)", "status": "problem", "detail": p} for p in report.config_problems]
    for m in report.models:
        if m.ok:
            rows.append({"model": m.model, "status": "ok",
                         "detail": f"{m.rows:,} predictions" + (f", {m.outcome_rows:,} outcomes" if m.outcome_rows is not None else "")})
        rows += [{"model": m.model, "status": "problem", "detail": p} for p in m.problems]
        rows += [{"model": m.model, "status": "note", "detail": n} for n in m.notes]
    title = f"Workspace {report.config}: " + ("all checks passed" if report.ok else f"{len(report.problems)} problem(s)")
    ctx.out(render(ctx.fmt, report.to_dict(), rows, ["model", "status", "detail"], title))
    return 0 if report.ok else 2
