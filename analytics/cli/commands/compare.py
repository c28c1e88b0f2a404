"""`lastmile compare`: two versions side by side, each difference with its interval
and p-value, and a verdict (promote / keep / inconclusive). See analytics/docs/compare.md."""

from analytics.analyses.compare import compare_versions
from analytics.cli import add_common, add_selection
from analytics.query.selection import Selection
from analytics.render.output import render, to_table

COLUMNS = ["metric", "baseline", "candidate", "delta", "ci_low", "ci_high", "p_value", "method"]
SEQ_COLUMNS = ["day", "n_baseline", "n_candidate", "delta", "ci_low", "ci_high", "p_value"]


def add_parser(sub):
    p = sub.add_parser("compare", help="compare two versions of a model: differences, intervals, p-values, verdict")
    add_common(p)
    add_selection(p)
    p.add_argument("--baseline", required=True, metavar="V1", help="the version in place (champion)")
    p.add_argument("--candidate", required=True, metavar="V2", help="the version that may replace it (challenger)")
    pair = p.add_mutually_exclusive_group()
    pair.add_argument("--paired", dest="paired", action="store_const", const=True, default=None,
                      help="force the paired analysis (same ids scored by both; default: detected from id overlap)")
    pair.add_argument("--unpaired", dest="paired", action="store_const", const=False,
                      help="force the unpaired analysis (independent samples)")
    p.add_argument("--metric", metavar="NAME",
                   help="primary metric of the verdict (default: [models.compare] primary_metric, else the task's)")
    p.add_argument("--alpha", type=float, metavar="A", help="significance level (default 0.05)")
    p.add_argument("--min-n", type=int, metavar="N", help="labeled rows needed on each side (default 500)")
    p.add_argument("--window", choices=("overlap", "all"), default="overlap",
                   help="unpaired: compare only the days both versions served (overlap, the default) "
                        "or every row of each version in the selection (all)")
    p.add_argument("--stratify", choices=("day", "week", "month"), metavar="PERIOD",
                   help="test each metric within each day, week or month and combine them "
                        "(Cochran-Mantel-Haenszel for rates, inverse-variance otherwise); default: pooled")
    p.add_argument("--sequential", action="store_true",
                   help="table: also show the always-valid (mSPRT) p-value day by day, for a running test "
                        "(JSON always holds it)")
    return p


def run(args, ctx) -> int:
    sel = Selection.build(args.model, args.start, args.end, (), args.where)
    r = compare_versions(ctx.engine, sel, args.baseline, args.candidate, paired=args.paired,
                         primary_metric=args.metric, alpha=args.alpha, min_n=args.min_n,
                         sequential=True, window=args.window, stratify=args.stratify)
    ctx.warn_data(args.model)
    rows = [{"metric": name + (" *" if name == r.primary_metric else ""), "baseline": m.baseline,
             "candidate": m.candidate, "delta": m.delta, "ci_low": m.ci_low, "ci_high": m.ci_high,
             "p_value": m.p_value, "method": m.method if m.p_value is not None else (m.reason or m.method)}
            for name, m in r.metrics.items()]
    if ctx.fmt != "table":
        ctx.out(render(ctx.fmt, r.to_dict(), [dict(x, metric=x["metric"].rstrip(" *")) for x in rows], COLUMNS))
        return 0
    design = (f"paired on {r.n_common:,} common ids" if r.paired
              else f"unpaired: {r.n_baseline:,} vs {r.n_candidate:,} labeled rows on {r.window.describe()}"
              + (f", stratified by {r.stratified}" if r.stratified else ""))
    title = (f"Model {r.model}: candidate {r.candidate} vs baseline {r.baseline} ({design}; "
             f"{sel.describe()}); * = primary metric")
    parts = [to_table(rows, COLUMNS, title)]
    if r.paired and r.disagreement_rate is not None:
        parts.append(f"Disagreement rate (decisions differ): {r.disagreement_rate:.2%}")
    if r.losing_segments:
        seg_rows = [s.to_dict() for s in r.losing_segments]
        parts.append(to_table(seg_rows, ["segment", "value", "metric", "baseline", "candidate", "delta",
                                         "p_value", "p_adjusted", "n_baseline", "n_candidate"],
                              f"Segments where {r.candidate} is significantly worse (BH-adjusted)"))
    if args.sequential and r.sequential is not None:
        s = r.sequential
        looks = [lk.to_dict() for lk in s.looks]
        parts.append(to_table(looks, SEQ_COLUMNS, f"Sequential monitoring of {s.metric} ({s.method}; "
                                                  f"always-valid p-values, alpha {s.alpha})"))
        if s.reason:
            parts.append(f"Sequential: {s.reason}.")
    parts.append(f"Verdict: {r.verdict.upper()}")
    parts += [f"  - {reason}" for reason in r.reasons]
    ctx.out("\n\n".join(parts[:-1 - len(r.reasons)]) + "\n\n" + "\n".join(parts[-1 - len(r.reasons):]))
    return 0
