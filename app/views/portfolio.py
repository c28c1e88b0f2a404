"""Portfolio (home): every model's status with its reasons, net value this period and its trend,
volume, the primary metric with its interval and a sparkline; one click to the model."""

from __future__ import annotations

import streamlit as st

from analytics.analyses.health import unreadable
from analytics.analyses.value import evaluate
from analytics.errors import LastmileError
from analytics.metrics import PRIMARY_METRIC, get_metric
from analytics.render import charts, format as F

from app import precompute, resources, state
from app.components import decision
from app.components.estimates import estimate_card
from app.components.health import badge
from app.components.theme import for_theme
from app.components.metricview import latest
from app.components.page import PageContext, run_page
from app.components.text import escape_md, literal
from app.components.timeline import timeline_panel
from app.components.widgets import spinner

#: Net value is shown for the latest week with at most this share of outcomes still pending.
MAX_PENDING = 0.2


def spark(values, fmt: str, key: str, color: str | None = None) -> None:
    vals = [v for v in values]
    if sum(v is not None for v in vals) < 2:
        st.caption("not enough periods for a trend")
        return
    kw = {"line_color": color} if color else {}
    st.plotly_chart(for_theme(charts.sparkline(vals, fmt=fmt, **kw)), width="stretch", key=key,
                    config={"displayModeBar": False, "staticPlot": False})


def card_calls(ctx: PageContext, spec) -> list[tuple]:
    """The cached calls behind one model's card (see :func:`app.precompute.portfolio_calls`)."""
    return precompute.portfolio_calls(ctx.ws_key, spec)


def model_card(ctx: PageContext, spec) -> str:
    """One model: status and reasons, primary metric, net value, volume, and the link to it."""
    task = spec.task
    primary = PRIMARY_METRIC[task]
    d = get_metric(primary, task)
    health_call, metrics_call, *value_call = card_calls(ctx, spec)
    with spinner(f"Checking {spec.name}…"):
        try:
            health = health_call[0](*health_call[1])
        except LastmileError as exc:  # monitoring itself is broken for this model: say so, show the others
            health = unreadable(spec.name, exc)
        res, pooled = metrics_call[0](*metrics_call[1])
        inputs = value_call[0][0](*value_call[0][1]) if value_call else None
    rows = sorted(res.rows, key=lambda r: str(r.group["period"]))
    with st.container(border=True):
        c = st.columns([3, 3, 3, 2, 1.6], vertical_alignment="center")
        with c[0]:
            st.markdown(f"#### {literal(spec.name)}\n{badge(health.status)} · {task}")
            if spec.description:  # the workspace's words, as plain text (never Markdown: no images, links)
                st.text(spec.description)
        with c[1]:
            cur = latest(res, primary)
            if cur.value is None:
                st.metric(d.label, F.MISSING, help=d.description)
            else:
                st.metric(d.label, F.by_kind(cur.value.value, d.fmt),
                          delta=F.delta(cur.delta, d.fmt) if cur.delta is not None else None,
                          delta_color="normal" if d.higher_is_better else "inverse",
                          help=f"{d.description}\n\nInterval: {d.interval_method}")
                st.caption(f"week of {cur.period} · 95% {F.interval(cur.value.ci_low, cur.value.ci_high, d.fmt)}")
            spark([r.metrics[primary].value for r in rows], d.fmt, f"pf_spark_m_{spec.name}")
            estimate_card(ctx.ws_key, spec, primary, metrics_call[1][1])
        with c[2]:
            if inputs is None:
                st.metric("Net value", F.MISSING, help="No [models.business] in the workspace for this model.")
                st.caption("no business values configured")
            else:
                vr = sorted(evaluate(inputs).rows, key=lambda r: str(r.group["period"]))
                currency = spec.business.currency
                # value sums over labeled outcomes: a week counts once most of its outcomes are known
                known = [r for r in vr if r.net_value is not None and r.pending_share is not None
                         and r.pending_share <= MAX_PENDING]
                last = known[-1] if known else None
                prev = known[-2] if len(known) > 1 else None
                vr = [r for r in vr if last is not None and str(r.group["period"]) <= str(last.group["period"])]
                delta = (last.net_value - prev.net_value) if last and prev and last.net_value is not None \
                    and prev.net_value is not None else None
                st.metric("Net value", F.money(last.net_value if last else None, currency, short=True),
                          delta=(("+" if delta >= 0 else "-") + F.money(abs(delta), currency, short=True))
                          if delta is not None else None,   # the same short form as the value
                          help="Value of the outcomes, minus the baseline policy's, minus compute cost, this week "
                               "(labeled predictions; recent weeks fill in as labels arrive).")
                if last:
                    st.caption(f"week of {last.group['period']}, the latest with "
                               f"{F.pct(1 - MAX_PENDING, 0)}+ of outcomes known; "
                               f"{F.value_for_money(last.net_value, last.compute_cost, currency)}")
                spark([r.net_value for r in vr], "money", f"pf_spark_v_{spec.name}", "#009E73")
        with c[3]:
            vol = rows[-1] if rows else None
            st.metric("Predictions", F.compact(vol.n if vol else None), help=get_metric("volume").description)
            if vol:
                st.caption(f"week of {vol.group['period']}; {escape_md(pooled)}")
        with c[4]:
            if st.button("Open", key=f"pf_open_{spec.name}", icon=":material/arrow_forward:", type="primary",
                         help=f"The overview of {spec.name}"):
                st.switch_page("views/overview.py", query_params=state.link_params(model=spec.name))
        lines = decision.plain_findings(spec, health)  # in plain words; the overview has every sentence
        if lines:
            st.markdown("\n".join(lines))
    return health.status


def body(ctx: PageContext) -> None:
    summary = st.empty()
    board = st.empty()  # what to do leads the page; filled once the cards are drawn
    statuses = []
    # every answer but the first model's health computes in the background, in card order,
    # while this thread computes that one: cards still draw one by one, in order
    resources.prefetch([c for spec in ctx.workspace.models for c in card_calls(ctx, spec)][1:]
                       + decision.recommendation_calls(ctx.ws_key, ctx.workspace.models))
    for spec in ctx.workspace.models:  # card by card, so the first model shows while the others load
        statuses.append(model_card(ctx, spec))
    counts = {s: statuses.count(s) for s in ("healthy", "warn", "pull", "error") if s != "error" or s in statuses}
    summary.markdown(" ".join(f"{badge(s)} **{n}**" for s, n in counts.items()))
    timeline_panel(ctx.ws_key, ctx.workspace, ctx.workspace.model_names, key="pf_timeline")
    with board.container():
        with spinner("Working out what to do…"):
            decision.board(ctx.ws_key, ctx.workspace.models)


run_page("Portfolio", body, caption="Every model at a glance: is it healthy, what is it worth, is it getting better?",
         with_filters=False)
