"""`lastmile segments`: the segments where the model does worst, with significance."""

from analytics.analyses.segments import MIN_SUPPORT, TOP_K, weak_segments
from analytics.cli import add_common, add_selection
from analytics.errors import SelectionError
from analytics.metrics import PRIMARY_METRIC, format_value, get_metric
from analytics.render.output import render
from .metrics import add_version, selection_from_args


def add_parser(sub):
    p = sub.add_parser("segments", help="segments (and pairs of segments) where a metric is worst, "
                       "with p-values and Benjamini-Hochberg q-values")
    add_common(p)
    add_selection(p)
    add_version(p)
    p.add_argument("--metric", metavar="NAME", help="label metric to compare (default: the task's primary "
                   f"metric: {', '.join(f'{k} {v}' for k, v in PRIMARY_METRIC.items())})")
    p.add_argument("--min-support", type=int, default=MIN_SUPPORT, metavar="N",
                   help=f"minimum labeled rows for a segment to be tested (default {MIN_SUPPORT})")
    p.add_argument("--top-k", type=int, default=TOP_K, metavar="K",
                   help=f"rank at most K values (or combinations) per segment column (or pair), the ones with "
                   f"the most labeled rows; the others are grouped as '(other)' (default {TOP_K})")
    p.add_argument("--no-pairs", action="store_true", help="only single segment values, not pairs of columns")
    return p


def run(args, ctx) -> int:
    sel = selection_from_args(args)
    spec = ctx.workspace.model(args.model)
    metric = args.metric or PRIMARY_METRIC[spec.task]
    d = get_metric(metric, spec.task)
    if args.min_support < 1:
        raise SelectionError(f"--min-support must be at least 1, not {args.min_support}.")
    if args.top_k < 1:
        raise SelectionError(f"--top-k must be at least 1, not {args.top_k}.")
    res = weak_segments(ctx.engine, sel, metric, min_support=args.min_support, pairs=not args.no_pairs,
                        top_k=args.top_k)
    ctx.warn_data(spec.name)
    rows = []
    for s in res.segments:
        m = s.metric
        name = ", ".join(f"{k}={v}" for k, v in s.where.items())
        if s.other_values is not None:
            name += f" ({s.other_values:,} values)"
        rows.append({"segment": name, "labeled": s.n_labeled,
                     metric: format_value(d, m.value),
                     "95% CI": f"[{format_value(d, m.ci_low)}, {format_value(d, m.ci_high)}]"
                     if m.ci_low is not None else "-",
                     "rest": format_value(d, s.rest.value), "delta": s.delta_vs_rest,
                     "p": s.p_value, "q": s.q_value, "impact": s.impact})
    o = res.overall
    title = (f"Model {spec.name!r}, {metric} by segment ({sel.describe()}); overall "
             f"{format_value(d, o.value)} on {o.n:,} rows; segments with >= {res.min_support:,} labeled rows, "
             "worst first")
    for c in res.capped:
        title += f"\nCapped (--top-k {res.top_k}): {c.sentence}"
    if not rows:
        title += f"\n(no segment has {res.min_support:,} labeled rows; lower --min-support)"
    ctx.out(render(ctx.fmt, res.to_dict(), rows,
                   ["segment", "labeled", metric, "95% CI", "rest", "delta", "p", "q", "impact"], title))
    return 0
