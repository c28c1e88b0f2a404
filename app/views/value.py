"""Value: value, cost, net value and ROI by version and over time; what-if editing of the
value per outcome and of the threshold, with the threshold curve and the best threshold.

The page queries two aggregate summaries once (per period and version; per version with
the score histogram) and evaluates every what-if on them in Python: moving a slider
never re-reads the logs.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from analytics.analyses.value import Assumptions, curve, evaluate
from analytics.query.selection import Grouping
from analytics.render import charts, format as F

from app import resources
from app.components import urlwidgets
from app.components.marks import marked
from app.components.page import PageContext, run_page
from app.components.text import escape_md, literal
from app.components.widgets import chart, kpi, spinner

HELP = {
    "value": "Sum over labeled predictions of what each outcome is worth (tp, fp, fn, tn in the workspace).",
    "baseline": "What the same predictions would have been worth under the baseline policy "
                "(e.g. all_negative: approve everyone).",
    "lift": "Value minus baseline value: what the model adds.",
    "cost": "Compute cost: cost_per_1k × predictions / 1,000 (plus the per-row cost column if any).",
    "net": "Lift minus compute cost.",
    "roi": "What each unit of compute returns (lift / compute cost); when that is above 1,000, the compute "
           "cost as a share of the value instead. The raw ROI (net value / compute cost) is in the details.",
    "role": "Serving versions decide; a shadow scores the same requests and decides nothing, so its value is "
            "what it would have earned if promoted, never added to the total. Its compute cost is counted.",
    "pending": "Predictions whose outcome is not known yet; their expected value assumes calibrated scores.",
}


COLUMN_HELP = {col: st.column_config.TextColumn(help=HELP[key]) for col, key in (
    ("value", "value"), ("baseline", "baseline"), ("lift", "lift"), ("compute cost", "cost"),
    ("net value", "net"), ("return on compute", "roi"), ("pending", "pending"),
    ("pending, expected", "pending"), ("role", "role"))}


def version_table(result, currency: str, roi: bool = True) -> pl.DataFrame:
    """Per version: the columns that fit at 1280 px (the rest: :func:`details_table`)."""
    rows = []
    for r in result.rows:
        row = {"version": r.group.get("version", "all"), "role": r.role or "", "predictions": F.count(r.n),
               "value": F.money(r.value, currency), "lift": F.money(r.lift, currency),
               "compute cost": F.money(r.compute_cost, currency), "net value": F.money(r.net_value, currency)}
        if roi:
            row["return on compute"] = (F.value_for_money(r.net_value, r.compute_cost, currency, short=True)
                                        if r.net_value is not None else (r.roi_reason or F.MISSING))
        rows.append(row)
    return pl.DataFrame(rows)


def details_table(result, currency: str) -> pl.DataFrame:
    """Per version: labeled rows, the baseline's value and the outcomes still pending."""
    return pl.DataFrame([{"version": r.group.get("version", "all"), "labeled": F.count(r.n_labeled),
                          "baseline": F.money(r.baseline_value, currency), "pending": F.count(r.pending_n),
                          "pending, expected": F.money(r.pending_expected_value, currency)} for r in result.rows])


def value_matrix_editor(defaults: Assumptions, classes: tuple[str, ...]) -> tuple[tuple[str, str, float], ...]:
    """Multiclass: what routing a ticket of each actual class to each predicted class is worth."""
    worth = {(a, p): v for a, p, v in defaults.value_matrix}
    grid = pl.DataFrame({"actual": list(classes),
                         **{p: [float(worth.get((a, p), 0.0)) for a in classes] for p in classes}})
    st.caption(f"Value of each outcome ({escape_md(defaults.currency)}): rows are the actual class, columns the "
               "predicted one; pairs left at 0 are worth nothing.")
    edited = st.data_editor(grid, key="val_matrix", hide_index=True, disabled=["actual"], width="stretch")
    rows = edited.to_dicts() if isinstance(edited, pl.DataFrame) else edited.to_dict("records")
    return tuple((str(r["actual"]), p, float(r[p] or 0.0)) for r in rows for p in classes
                 if float(r[p] or 0.0) != 0.0)


def what_if(defaults: Assumptions, task: str, spec) -> Assumptions:
    """Widgets for the editable numbers; returns the edited assumptions."""
    changes = {}
    cols = st.columns(5)
    for col, key, label in zip(cols, ("tp", "fp", "fn", "tn"),
                               ("True positive", "False positive", "False negative", "True negative")):
        v = getattr(defaults, key)
        with col:
            if isinstance(v, str):
                st.text_input(label, value=f"per-row: {v}", disabled=True, key=f"val_{key}",
                              help=f"Taken from the column {v!r} on each row.")
            elif task == "binary":
                changes[key] = urlwidgets.number(label, key, float(v), step=1.0, key=f"val_{key}",
                                                 help=f"Value of each {label.lower()} ({defaults.currency}).")
    with cols[4]:
        changes["cost_per_1k"] = urlwidgets.number("Cost per 1,000", "cost", float(defaults.cost_per_1k),
                                                   min_value=0.0, step=0.1, key="val_cost", help=HELP["cost"])
    if task == "binary" and spec.columns.score:
        changes["threshold"] = urlwidgets.slider("Decision threshold", "threshold", 0.0, 1.0,
                                                 float(defaults.threshold), 0.01, key="val_threshold",
                                         help="Score at or above which a prediction counts as positive.")
    if task == "multiclass" and spec.columns.classes:
        changes["value_matrix"] = value_matrix_editor(defaults, spec.columns.classes)
    if task == "regression" and defaults.cost_over is None:
        changes["cost_per_unit_error"] = urlwidgets.number(
            "Cost per unit of error", "cpue", float(defaults.cost_per_unit_error or 0.0), min_value=0.0,
            key="val_cpue", help=f"What each unit of absolute error costs ({defaults.currency}).")
    return defaults.replace(**changes)


def body(ctx: PageContext) -> None:
    spec, task, cur = ctx.spec, ctx.spec.task, ctx.currency
    if spec.business is None:
        st.info(f"Model {spec.name!r} has no [models.business] table in the workspace, so its value is unknown. "
                "Add the value of each outcome and the compute cost (see analytics/docs/value.md); "
                "meanwhile, try numbers in the what-if below.", icon=":material/payments:")
    with spinner():
        by_time = resources.value_inputs(ctx.ws_key, ctx.selection, Grouping(by=("period", "version"),
                                                                             period=ctx.filters.period), 0)
        by_version = resources.value_inputs(ctx.ws_key, ctx.selection, Grouping(by=("version",)), 1000)
    defaults = by_version.defaults
    configured = evaluate(by_version, defaults) if spec.business else None
    if configured is not None:
        # totals: the serving versions' value; every version's compute cost (a shadow costs compute)
        t = configured.totals
        c = st.columns(5)
        kpi(c[0], "Net value", F.money(t.net_value, cur, short=True), help=HELP["net"],
            caption=f"{F.money(t.net_value, cur)}; {escape_md(t.pooled())}")
        short = F.value_for_money(t.net_value, t.compute_cost, cur, short=True)
        share = short.startswith("cost ") and short.endswith(" of value")   # ROI above 1,000x
        tile = short.removeprefix("cost ").removesuffix(" of value") if share else short
        if share and len(tile) > 6:   # "0.00027%" does not fit a fifth of a 1280 px page: the caption has it
            tile = "< 0.01%"
        kpi(c[1], "Compute cost share" if share else "Return on compute", tile,
            help=HELP["roi"], caption=F.value_for_money(t.net_value, t.compute_cost, cur))
        kpi(c[2], "Value", F.money(t.value, cur, short=True), help=HELP["value"],
            caption=f"serving: {escape_md(', '.join(t.serving_versions)) or 'none'}")
        kpi(c[3], "Lift over baseline", F.money(t.lift, cur, short=True), help=HELP["lift"],
            caption=f"baseline: {defaults.baseline}")
        kpi(c[4], "Compute cost", F.money(t.compute_cost, cur), help=HELP["cost"],
            caption=(f"incl. {F.money(t.shadow_compute_cost, cur)} for {escape_md(', '.join(t.shadow_versions))} (shadow)"
                     if t.shadow_versions else "every version"))
        for w in configured.warnings + resources.version_roles(ctx.ws_key, spec.name).warnings:
            st.warning(escape_md(w), icon=":material/info:")
        shadows = [r for r in configured.rows if r.role == "shadow"]
        if shadows:
            st.info("; ".join(f"**{literal(r.group.get('version'))}** is a shadow: it scores requests another version "
                              f"decides. Value if promoted: {F.money(r.net_value, cur)} net on the "
                              f"{F.count(r.n)} predictions it scored, not added to the total"
                              for r in shadows) + ".", icon=":material/visibility:")
        st.dataframe(version_table(configured, cur), hide_index=True, width="stretch", column_config=COLUMN_HELP)
        with st.expander("Details: labeled rows, baseline, pending outcomes, raw ROI (net value / compute cost)"):
            st.table(details_table(configured, cur).to_pandas().set_index("version"))  # static: wraps, never cut
            st.markdown("\n".join(
                [f"- **{literal(r.group.get('version'))}**: ROI {F.num(r.roi)}× "
                 f"({F.money(r.net_value, cur)} / {F.money(r.compute_cost, cur)})"
                 if r.roi is not None else f"- **{literal(r.group.get('version'))}**: {escape_md(r.roi_reason)}"
                 for r in configured.rows]
                + [f"- **total** ({escape_md(t.pooled())}): ROI {F.num(t.roi)}×" if t.roi is not None
                   else f"- **total**: {t.roi_reason}"]))
        over_time = evaluate(by_time, defaults).to_polars()
        chart(marked(ctx, charts.value_over_time(over_time, currency=cur,
                                                 title=f"Net value per {ctx.filters.period} and version ({cur})")),
              key="val_time")

    st.subheader("What if?")
    st.caption("Change what each outcome is worth, the compute cost or the threshold: the numbers below are "
               "recomputed from the aggregates already loaded, without querying the logs again.")
    assumed = what_if(defaults, task, spec)
    result = evaluate(by_version, assumed)
    shown = version_table(result, assumed.currency, roi=not (configured is not None and assumed != defaults))
    if configured is not None and assumed != defaults:
        before = {r.group.get("version"): r.net_value for r in configured.rows}
        shown = shown.with_columns(pl.Series("net value vs workspace", [
            F.delta(r.net_value - before[r.group.get("version")], "money", assumed.currency)
            if r.net_value is not None and before.get(r.group.get("version")) is not None else F.MISSING
            for r in result.rows]))
    st.dataframe(shown, hide_index=True, width="stretch", column_config=COLUMN_HELP)
    if task == "binary" and by_version.bins:
        tc = curve(by_version, assumed)
        curves = [(v, vc.thresholds, vc.values, vc.best_threshold, vc.current_threshold)
                  for v, vc in tc.versions.items() if vc.reason is None]
        chart(charts.threshold_curve_chart(curves, currency=assumed.currency,
                                           title="Value against the decision threshold (labeled predictions)"),
              key="val_curve")
        lines = []
        for v, vc in tc.versions.items():
            if vc.reason:
                lines.append(f"- **{literal(v)}**: {escape_md(vc.reason)}.")
            else:
                lines.append(f"- **{literal(v)}**: best threshold **{vc.best_threshold:.3f}** "
                             f"worth {F.money(vc.best_value, assumed.currency)}; at {vc.current_threshold:.2f} "
                             f"{F.money(vc.value_at_current, assumed.currency)}: "
                             f"{F.money(vc.left_on_table, assumed.currency)} left on the table.")
        st.markdown("\n".join(lines))


run_page("Value", body, caption="What is the model worth after its running cost, and what threshold would earn most?")
