"""The Data quality page's pieces: the heat map of every check, the drill-down to one
row's history, and the table of problems (the page calls :func:`quality_panel`)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from analytics.analyses.quality.checks import CHECKS
from analytics.render.charts.quality import quality_heatmap, quality_history, quality_matrix

from .. import state
from .text import escape_md
from .widgets import chart, kpi

K_ROW = "dq_row"


def problems_frame(result) -> pl.DataFrame:
    rows = [{"level": f.level, "check": f.check, "column": f.column or "", "period": f.period or "",
             "version": f.version or "", "file": f.file or "", "message": f.message}
            for f in result.problems("warn")]
    return pl.DataFrame(rows, schema=["level", "check", "column", "period", "version", "file", "message"])


def quality_panel(result) -> None:
    """Tiles, the heat map (worst rows first), a row's history, the problems and the schema notes."""
    problems = result.problems("warn")
    c = st.columns(4)
    kpi(c[0], "Status", result.status, help="The worst level among the checks' findings.")
    kpi(c[1], "Pull", f"{sum(f.level == 'pull' for f in problems):,}", help="Findings at pull level.")
    kpi(c[2], "Warn", f"{sum(f.level == 'warn' for f in problems):,}", help="Findings at warn level.")
    ref = result.reference
    kpi(c[3], "Reference", f"{ref[0]:%Y-%m-%d}" if ref[0] else "n/a",
        caption=f"to {ref[1]:%Y-%m-%d}" if ref[1] else None,
        help="What 'normal' is: [models.quality] reference_start/_end, else the drift reference.")
    chart(quality_heatmap(result, title=f"Checks by column and {result.period}, worst first "
                                        "(green ok, amber warn, red pull, blank not computed)"), key="dq_heat")
    rows, _, _ = quality_matrix(result)
    if rows:
        labels = [r.label for r in rows]
        state.bind(K_ROW, "dq_row", lambda v: v if v in labels else None)
        label = st.selectbox("History of", labels, key=K_ROW,
                             help="One check on one column (or version) over time, with its warn and pull levels.",
                             **({} if K_ROW in st.session_state else {"index": 0}))
        state.set_param("dq_row", label)
        row = rows[labels.index(label)]
        chart(quality_history(result, row.key), key="dq_history")
        st.caption(escape_md(CHECKS[row.key[0]].doc))
    st.subheader("Problems")
    frame = problems_frame(result)
    if frame.is_empty():
        st.success("No check is at warn or pull in this selection.", icon=":material/check_circle:")
    else:
        st.dataframe(frame, hide_index=True, width="stretch")
    notes = [f for f in result.findings if f.check in ("schema", "freshness") and f.observed is not None]
    if notes:
        with st.expander("Schema and freshness"):
            for f in notes:
                st.markdown(f"- **{f.level}** {escape_md(f.message)}")
