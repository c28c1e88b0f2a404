"""Compare versions: two versions side by side, every metric with the difference's interval
and p-value, the verdict, where the challenger loses; the paired view for shadow versions."""

from __future__ import annotations

import polars as pl
import streamlit as st

from analytics.metrics import get_metric
from analytics.render import charts, format as F

from app import resources, state
from app.components import urlwidgets
from app.components.page import PageContext, run_page
from app.components.text import literal
from app.components.widgets import chart, kpi, metric_help, spinner

K_BASE, K_CAND, K_PAIR = "cmp_baseline", "cmp_candidate", "cmp_paired"
PAIRING = {"auto": None, "paired": True, "independent": False}
VERDICT = {
    "promote": (st.success, ":material/rocket_launch:", "Promote {c}: it is better than {b}."),
    "keep": (st.warning, ":material/block:", "Keep {b}: {c} is not better."),
    "inconclusive": (st.info, ":material/hourglass_empty:", "Inconclusive: not enough evidence yet."),
}


def metrics_table(cmp, task: str) -> pl.DataFrame:
    rows = []
    for name, m in cmp.metrics.items():
        d = get_metric(name, task)
        better = m.candidate_better
        rows.append({
            "metric": d.label, "baseline": F.by_kind(m.baseline, d.fmt), "candidate": F.by_kind(m.candidate, d.fmt),
            "difference": F.delta(m.delta, d.fmt), "95% interval": F.interval(m.ci_low, m.ci_high, d.fmt),
            "p-value": F.p_value(m.p_value),
            "candidate is": "better" if better else ("worse" if better is False else F.MISSING),
            "test": m.method if not m.reason else f"{m.method} ({m.reason})",
        })
    return pl.DataFrame(rows)


def body(ctx: PageContext) -> None:
    versions = list(ctx.facts.versions)
    if len(versions) < 2:
        st.info(f"Model {literal(ctx.spec.name)} has a single version in its log "
                f"({literal(versions[0]) if versions else 'none'}): "
                "there is nothing to compare.")
        return
    c1, c2, c3 = st.columns([2, 2, 3])
    state.bind(K_BASE, "baseline", lambda v: v if v in versions else None)
    state.bind(K_CAND, "candidate", lambda v: v if v in versions else None)
    with c1:
        base = st.selectbox("Baseline (champion)", versions, key=K_BASE,
                            **({} if K_BASE in st.session_state else {"index": 0}))
    with c2:
        others = [v for v in versions if v != base]
        if st.session_state.get(K_CAND) == base:
            state.forget(K_CAND)
        cand = st.selectbox("Candidate (challenger)", others, key=K_CAND)
    with c3:
        pairing = st.segmented_control(
            "Pairing", list(PAIRING), default="auto", key=K_PAIR,
            help="Paired: both versions scored the same predictions (a shadow deployment), so differences are "
                 "tested prediction by prediction (McNemar, paired t, paired DeLong). Auto detects it from the "
                 "overlap of prediction ids.") or "auto"
    urlwidgets.set_unless_default("baseline", base, versions[0])
    # a chosen baseline names its candidate too (the pair is the view)
    urlwidgets.set_unless_default("candidate", cand, others[0] if others and base == versions[0] else None)
    if ctx.filters.versions:
        st.caption("The version filter does not apply here: the comparison uses the two versions picked above.")
    with spinner("Comparing the two versions…"):
        cmp = resources.compare(ctx.ws_key, ctx.selection.replace(versions=()), base, cand, PAIRING[pairing])

    show, icon, text = VERDICT[cmp.verdict]
    show(f"**{text.format(b=base, c=cand)}** " + " ".join(cmp.reasons), icon=icon)
    task = ctx.spec.task
    if cmp.primary_metric not in cmp.metrics:   # inconclusive with nothing measured (e.g. never served together)
        return
    pm = cmp.metrics[cmp.primary_metric]
    d = get_metric(cmp.primary_metric, task)
    c = st.columns(4)
    kpi(c[0], f"{d.label}: {base}", F.by_kind(pm.baseline, d.fmt), help=metric_help(cmp.primary_metric, task),
        caption=f"n = {F.count(cmp.n_baseline)} labeled")
    kpi(c[1], f"{d.label}: {cand}", F.by_kind(pm.candidate, d.fmt), delta=F.delta(pm.delta, d.fmt),
        delta_color="normal" if d.higher_is_better else "inverse", caption=f"n = {F.count(cmp.n_candidate)} labeled")
    kpi(c[2], "Difference", F.delta(pm.delta, d.fmt),
        help=f"Candidate − baseline, with its 95% interval. Test: {pm.method}.",
        caption=f"95% {F.interval(pm.ci_low, pm.ci_high, d.fmt)} · {F.p_text(pm.p_value)}")
    if cmp.paired:
        kpi(c[3], "Paired on", F.count(cmp.n_common), help="Predictions scored by both versions (shadow).",
            caption=f"overlap {F.pct(cmp.overlap)} · disagree on {F.pct(cmp.disagreement_rate)}")
    else:
        kpi(c[3], "Samples", "independent",
            help="The versions served different predictions, so they are compared as independent samples.",
            caption=f"id overlap {F.pct(cmp.overlap)}" if cmp.overlap is not None else None)

    st.subheader("Every metric")
    st.dataframe(metrics_table(cmp, task), hide_index=True, width="stretch", column_config={
        "difference": st.column_config.TextColumn(help="Candidate − baseline (pp: percentage points)."),
        "95% interval": st.column_config.TextColumn(help="95% confidence interval of the difference."),
        "p-value": st.column_config.TextColumn(
            help="Probability of a difference at least this large if the versions performed the same."),
        "test": st.column_config.TextColumn(help="The test behind the interval and p-value."),
    })
    forest = [{"metric": n, "label": get_metric(n, task).label, "delta": m.delta, "ci_low": m.ci_low,
               "ci_high": m.ci_high, "better": m.candidate_better}
              for n, m in cmp.metrics.items() if get_metric(n, task).fmt in ("pct", "num")
              and get_metric(n, task).kind == "label"]
    chart(charts.compare_forest(forest, title=f"{cand} − {base} per metric (green: candidate better)"),
          key="cmp_forest")

    st.subheader(f"Where {literal(cand)} loses")
    if not cmp.losing_segments:
        st.markdown(f"No segment where {literal(cand)} is significantly worse than {literal(base)} on {d.label} "
                    f"(segments of at least {cmp.settings.segment_min_n} labeled predictions per version, "
                    "p-values adjusted for the number of segments).")
    else:
        st.dataframe(pl.DataFrame([{
            "segment": f"{s.column} = {s.value}", "baseline": F.by_kind(s.baseline, d.fmt),
            "candidate": F.by_kind(s.candidate, d.fmt), "difference": F.delta(s.delta, d.fmt),
            "p-value": F.p_value(s.p_value), "adjusted p": F.p_value(s.p_adjusted),
            "n baseline": F.count(s.n_baseline), "n candidate": F.count(s.n_candidate)}
            for s in cmp.losing_segments]), hide_index=True, width="stretch")


run_page("Compare versions", body, caption="Is the challenger better than the champion, everywhere that matters?")
