"""Small building blocks shared by pages: KPI tiles, tooltips from the registry, empty states."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from analytics.metrics import get_metric
from analytics.query.selection import Grouping, Selection
from analytics.render import format as F
from .. import resources



def metric_help(name: str, task: str | None = None) -> str:
    """The tooltip of a statistic: what it measures and how its interval is computed."""
    d = get_metric(name, task)
    text = d.description
    if d.interval_method:
        text += f"\n\nInterval: {d.interval_method}"
    return text


def kpi(col, label: str, value: str, *, delta: str | None = None, help: str | None = None,
        delta_color: str = "normal", caption: str | None = None) -> None:
    """One KPI tile: a value, an optional change and a line under it (e.g. the interval)."""
    with col:
        with st.container(border=True):
            st.metric(label, value, delta=delta if delta not in (None, F.MISSING) else None,
                      help=help, delta_color=delta_color)
            if caption:
                st.caption(caption)


def chart(fig: go.Figure, key: str | None = None) -> None:
    """Draw a plotly figure full width, without the plotly mode bar clutter, in the user's theme."""
    from app.components.theme import for_theme
    st.plotly_chart(for_theme(fig), width="stretch", key=key, config={"displaylogo": False,
                                                           "modeBarButtonsToRemove": ["lasso2d", "select2d"]})


def table(frame, **column_config) -> None:
    """A sortable table; integer columns with thousands separators."""
    import polars as pl
    config = {c: st.column_config.NumberColumn(format="localized") for c, t in frame.schema.items()
              if t in (pl.Int64, pl.Int32, pl.UInt32, pl.UInt64)}
    config.update(column_config)
    st.dataframe(frame, hide_index=True, width="stretch", column_config=config)


def label_delay_days(ws_key, model: str) -> float | None:
    """The typical delay between a prediction and its outcome, over the whole log."""
    res = resources.metrics(ws_key, Selection.build(model), Grouping(), ("volume",))
    return res.rows[0].label_delay_days if res.rows else None


def no_labels_message(ws_key, model: str) -> str:
    """The empty-state sentence for metrics that need labels."""
    d = label_delay_days(ws_key, model)
    late = f": labels arrive about {F.days(d)} after the prediction" if d is not None else ""
    return (f"No labeled predictions in this range yet{late}. Widen the time range to earlier "
            f"dates, or look at Operations for volume and latency, which need no labels.")


def spinner(text: str = "Querying the logs…"):
    return st.spinner(text, show_time=True)
