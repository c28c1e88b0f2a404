"""`lastmile roi`: business value, compute cost and net value against the baseline.

``--thresholds`` prints the threshold analysis instead (binary models with scores):
per version, the value at the current threshold, the value-maximizing threshold
and the value left on the table. ``--assume KEY=VALUE`` overrides a business
number for this run (what-if), e.g. ``--assume fp=-25 --assume threshold=0.4``.
"""

from __future__ import annotations

from analytics.analyses.roles import version_roles
from analytics.analyses.value import Assumptions, DEFAULT_BINS, compute_value, threshold_curve
from analytics.cli import add_common, add_selection
from analytics.errors import ConfigError
from analytics.query.selection import Grouping, Selection
from analytics.render.format import money, pct, ratio, value_for_money
from analytics.render.output import render

_NUMBER_KEYS = ("threshold", "cost_per_1k", "cost_per_unit_error", "cost_over", "cost_under")
_VALUE_KEYS = ("tp", "fp", "fn", "tn")
_MONEY = ("value", "baseline_value", "lift", "compute_cost", "net_value",
          "pending_expected_value", "cumulative_net_value", "value_at_current", "best_value",
          "left_on_table")


def add_parser(sub):
    p = sub.add_parser("roi", help="business value, compute cost and net value against the baseline")
    add_common(p)
    add_selection(p)
    p.add_argument("--by", action="append", default=[], metavar="KEY",
                   help="group by version, period or a segment column (repeatable)")
    p.add_argument("--period", choices=("day", "week", "month"), default="week",
                   help="period length for --by period (default: week)")
    p.add_argument("--cumulative", action="store_true",
                   help="add the running total of net value over periods (implies --by period)")
    p.add_argument("--thresholds", action="store_true",
                   help="threshold analysis per version instead (binary models with scores)")
    p.add_argument("--bins", type=int, default=DEFAULT_BINS,
                   help=f"score histogram bins for --thresholds (default {DEFAULT_BINS})")
    p.add_argument("--points", action="store_true",
                   help="with --thresholds --format json: include the whole curve")
    p.add_argument("--assume", action="append", default=[], metavar="KEY=VALUE",
                   help="override a [models.business] number for this run: tp, fp, fn, tn, "
                        "threshold, baseline, cost_per_1k, cost_per_unit_error, cost_over, cost_under")
    return p


def parse_assumptions(items: list[str], base: Assumptions) -> Assumptions:
    """``["fp=-25", "baseline=v1"]`` applied to ``base``; bad keys or numbers name the culprit."""
    changes: dict = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep:
            raise ConfigError(f"--assume {item!r} must look like KEY=VALUE.")
        if key in _NUMBER_KEYS or key in _VALUE_KEYS:
            try:
                changes[key] = float(raw)
            except ValueError:
                if key in _NUMBER_KEYS:
                    raise ConfigError(f"--assume {key}={raw!r}: {key} must be a number.") from None
                changes[key] = raw.strip()  # a per-row value column
        elif key == "baseline":
            changes[key] = raw.strip()
        else:
            allowed = ", ".join(_VALUE_KEYS + ("baseline",) + _NUMBER_KEYS)
            raise ConfigError(f"--assume {key!r} is not a business number; choose from: {allowed}.")
    return base.replace(**changes)


def _text_cells(rows: list[dict], currency: str) -> list[dict]:
    """Money, ROI and shares as right-aligned text (the table view)."""
    out = [dict(r) for r in rows]
    fmts = {col: (lambda v: money(v, currency)) for col in _MONEY}
    fmts.update(roi=lambda v: "-" if v is None else ratio(v), pending_share=lambda v: "-" if v is None else pct(v))
    for col, fmt in fmts.items():
        texts = [fmt(r.get(col)) if col in r else None for r in out]
        width = max((len(t) for t in texts if t), default=0)
        for r, t in zip(out, texts):
            if t is not None:
                r[col] = t.rjust(width)
    return out


def run(args, ctx) -> int:
    sel = Selection.build(args.model, start=args.start, end=args.end, where=args.where)
    spec = sel.check(ctx.engine)
    base = Assumptions.from_spec(spec) if spec.business is not None else None
    if base is None and not args.assume:
        raise ConfigError(f"Model {spec.name!r} has no [models.business] table, so its value is unknown; "
                          "add one (see analytics/docs/value.md).")
    a = parse_assumptions(args.assume, base or Assumptions.from_spec(spec))
    ctx.warn_data(spec.name)
    for w in version_roles(ctx.engine, spec).warnings:
        ctx.warn(f"warning: {w}.")
    if args.thresholds:
        return _run_thresholds(args, ctx, sel, a)
    by = list(args.by)
    if args.cumulative and "period" not in by:
        by.append("period")
    res = compute_value(ctx.engine, sel, Grouping(by=tuple(by), period=args.period), a)
    for w in res.warnings:
        ctx.warn(f"warning: model {spec.name!r}: {w}.")
    by_version = "version" in res.group_keys
    cols = list(res.group_keys) + (["role"] if by_version else []) + [
        "n", "n_labeled", "value", "baseline_value", "lift", "compute_cost", "net_value", "roi"]
    if args.cumulative:
        cols.append("cumulative_net_value")
    cols += ["pending_n", "pending_share", "pending_expected_value"]
    flat = [{**r.group, **{k: v for k, v in r.to_dict().items() if k != "group"}} for r in res.rows]
    notes = sorted({x for r in res.rows for x in (r.roi_reason, r.baseline_reason, r.value_reason,
                                                   r.pending_reason) if x})
    if ctx.fmt == "table":
        shown = _text_cells(flat, res.currency)
        for r, row in zip(shown, res.rows):
            r["return_on_compute"] = value_for_money(row.net_value, row.compute_cost, res.currency)
        # a reader sees what compute buys; the raw ROI stays in the JSON/CSV and the total's note
        tcols = ["return_on_compute" if c == "roi" else c for c in cols]
        title = (f"Value of model {spec.name!r} ({sel.describe()}), {res.currency}; baseline "
                 f"{a.baseline}" + (f"; threshold {res.threshold_used}" if res.threshold_used is not None else ""))
        text = render("table", res.to_dict(), shown, tcols, title)
        if res.totals is not None:
            text += "\n\n" + _total_line(res)
        if any(r.pending_n and r.pending_expected_value is not None for r in res.rows):
            notes.append("pending_expected_value: " + (res.rows[0].pending_assumption
                                                       or next(r.pending_assumption for r in res.rows
                                                               if r.pending_assumption)))
        if notes:
            text += "\n\n" + "\n".join(f"note: {n}" for n in notes)
        ctx.out(text)
    else:
        ctx.out(render(ctx.fmt, res.to_dict(), flat, cols + ["roi_reason"]))
    return 0


def _total_line(res) -> str:
    """``Total (pooled over v1, v2 (serving); v3 (shadow) left out...): net value ...``."""
    t, cur = res.totals, res.currency
    raw = f"ROI {ratio(t.roi)}" if t.roi is not None else (t.roi_reason or "ROI unknown")
    text = (f"Total ({t.pooled()}): net value {money(t.net_value, cur)}, value {money(t.value, cur)}, "
            f"compute cost {money(t.compute_cost, cur)}")
    if t.shadow_compute_cost:
        text += f" (of which shadow {money(t.shadow_compute_cost, cur)})"
    text += f"; {value_for_money(t.net_value, t.compute_cost, cur)} ({raw})."
    if t.shadow_versions:
        text += (f"\nnote: {', '.join(t.shadow_versions)} scored as shadow: its rows show its value if "
                 "promoted, never added to the total.")
    return text


def _run_thresholds(args, ctx, sel, a) -> int:
    cur = threshold_curve(ctx.engine, sel, a, bins=args.bins)
    cols = ["version", "n_labeled", "current_threshold", "value_at_current", "best_threshold",
            "best_value", "left_on_table"]
    rows = [v.to_dict(points=False) for v in cur.versions.values()]
    if ctx.fmt == "table":
        shown = _text_cells(rows, cur.currency)
        title = (f"Threshold analysis of model {cur.model!r} ({sel.describe()}), {cur.currency}: "
                 f"realized value on labeled predictions at each of {cur.bins + 1} thresholds")
        ctx.out(render("table", None, shown, cols, title))
    else:
        ctx.out(render(ctx.fmt, cur.to_dict(points=args.points), rows, cols + ["reason"]))
    return 0
