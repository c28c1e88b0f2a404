"""Report: pick the model (or every model) and the period; build and download the executive PDF."""

from __future__ import annotations

import datetime as _dt
import queue
from concurrent.futures import ThreadPoolExecutor

import streamlit as st

from analytics.render import format as F

from app import auth, resources, state
from app.components.page import PageContext, run_page
from app.components.text import literal

K_SCOPE = "rep_scope"
SCOPES = ("This model", "Every model (portfolio)")


def build_with_progress(ctx: PageContext, model, start, end, with_charts: bool, say) -> bytes:
    """Build the PDF on a worker thread; its progress lines are shown from this (the script's) thread.

    The report builder reports from its own threads, which cannot draw on the page.
    """
    lines: queue.Queue[str] = queue.Queue()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lastmile-app-report") as pool:
        job = pool.submit(resources.report_pdf, ctx.engine, model, start, end, with_charts, lines.put)
        while not job.done() or not lines.empty():
            try:
                say(lines.get(timeout=0.1))
            except queue.Empty:
                pass
        return job.result()


def body(ctx: PageContext) -> None:
    flt = ctx.filters
    scope = st.radio("Report on", SCOPES, key=K_SCOPE, horizontal=True,
                     help="One model in depth, or a portfolio report with a section per model.")
    model = flt.model if scope == SCOPES[0] else None
    start = flt.start
    end = flt.end + _dt.timedelta(days=1) if flt.end else None
    if model is None:  # every model has its own span of data: each chapter states its own period
        shown_start, shown_end = start, end
        period = (f"{F.date(start) if start else 'each model’s last 28 days'}"
                  + (f" to {F.date(flt.end)}" if flt.end else ""))
    else:  # exactly the period the PDF will cover (its cover says the same)
        shown_start, shown_end = resources.report_period(ctx.ws_key, model, start, end)
        period = f"{F.date(shown_start)} to {F.date(shown_end - _dt.timedelta(days=1))}"
    st.markdown(f"**{literal(model) if model else 'Every model'}**, predictions from {period} "
                "(change the model and time range in the filter bar).")
    with_charts = st.toggle("Charts", value=True, key="rep_charts",
                            help="Charts are drawn with the system's Chromium; without them the PDF is quicker.")
    key = (model, start, end, with_charts, resources.ws_key())
    if st.button("Build the PDF", type="primary", icon=":material/picture_as_pdf:", key="rep_build"):
        with st.status("Building the report…", expanded=True) as status:
            ctx.access.record("report", page="Report", model=model,
                              detail=f"{'portfolio: ' + ', '.join(ctx.workspace.model_names) if model is None else model}; "
                                     f"{start or 'default start'} to {end or 'last day'}")
            pdf = build_with_progress(ctx, model, start, end, with_charts, status.write)
            status.update(label=f"Report ready ({len(pdf) / 1024:,.0f} KB)", state="complete", expanded=False)
        state.remember("report", (key, pdf))
    built = state.recall("report")
    if built and built[0] == key:
        from analytics.render.report import file_name
        name = file_name(model, shown_start, shown_end)
        auth.download_button(ctx.access, model, "Report", "Download the PDF", built[1], file_name=name,
                             mime="application/pdf", icon=":material/download:", key="rep_download")
    else:
        st.caption("The report holds the health verdict, KPIs with intervals, value, trends and the version "
                   "comparison, with a page of methods. It takes a few seconds per model.")


run_page("Report", body, caption="The executive PDF: the same numbers as the dashboard, for people who read on paper.",
         needs="report")
