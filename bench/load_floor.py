"""The floor of ``bench/bench_load.py``: a minimal Streamlit app with the dashboard's pages and
nothing of Lastmile (no workspace, no query, no library).

Every page has the dashboard's title, the filter bar's widgets seeded from the URL (model,
time range, versions), the navigation as page links carrying the parameters (as
``app/components/nav.py`` draws them), one plotly chart and one table of the sizes the
dashboard's pages draw (3 versions x 26 weeks with interval bands; 20 rows x 8 columns).
``python bench/bench_load.py --floor`` serves it: the same 8 browsers, the same clicks and
checks, so what it measures is what Streamlit and the browsers cost on this machine.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

TITLES = {"": "Portfolio", "overview": "Model overview", "segments": "Segments", "compare": "Compare versions",
          "drift": "Drift", "quality": "Data quality", "value": "Value", "operations": "Operations",
          "explore": "Explore", "report": "Report"}
MODELS = ("credit_default", "ticket_router", "delivery_eta")
FIRST, LAST = dt.date(2026, 5, 1), dt.date(2026, 11, 30)


def _date(name: str, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(st.query_params.get(name, ""))
    except ValueError:
        return default


def _filters() -> dict:
    sb = st.sidebar
    q = st.query_params
    model = q.get("model", MODELS[0])
    sb.selectbox("Model", MODELS, index=MODELS.index(model) if model in MODELS else 0, key="flt_model")
    rng = sb.date_input("Time range", (_date("from", FIRST), _date("to", LAST)), min_value=FIRST, max_value=LAST,
                        key="flt_range", format="YYYY-MM-DD")
    versions = sb.multiselect("Versions", ["v1", "v2", "v3"], default=q.get_all("version"), key="flt_versions",
                              placeholder="All versions")
    params = {"model": model}
    if "from" in q:
        params["from"] = rng[0].isoformat()
    if len(rng) == 2 and "to" in q:
        params["to"] = rng[1].isoformat()
    if versions:
        params["version"] = versions
    if "where" in q:
        params["where"] = q.get_all("where")
    return params


def _chart(seed: int) -> go.Figure:
    rng = np.random.default_rng(seed)
    weeks = pd.date_range("2026-05-04", periods=26, freq="W-MON")
    fig = go.Figure()
    for i, v in enumerate(("v1", "v2", "v3")):
        y = 0.8 + 0.05 * rng.standard_normal(26).cumsum() / 10
        fig.add_scatter(x=list(weeks) + list(weeks[::-1]), y=list(y + 0.02) + list((y - 0.02)[::-1]),
                        fill="toself", mode="lines", line=dict(width=0), opacity=0.2, showlegend=False)
        fig.add_scatter(x=weeks, y=y, mode="lines+markers", name=v)
    fig.update_layout(template="plotly_white", height=360, title="ROC AUC per week and version",
                      hovermode="x unified")
    return fig


def page(path: str):
    def draw() -> None:
        st.title(TITLES[path])
        st.caption("The floor of the load bench: no analytics.")
        params = _filters()
        cols = st.columns(3)
        for i, c in enumerate(cols):
            c.metric(f"tile {i}", f"{0.8 + i / 100:.3f}", delta="+0.01")
        st.plotly_chart(_chart(len(path)), width="stretch")
        rng = np.random.default_rng(len(path))
        st.dataframe(pd.DataFrame(rng.random((20, 8)), columns=[f"c{i}" for i in range(8)]), hide_index=True)
        with st.sidebar:
            for p, title in TITLES.items():
                st.page_link(PAGES[p], label=title, query_params=params)
    return draw


PAGES = {p: st.Page(page(p), title=t, url_path=p or "portfolio", default=(p == "")) for p, t in TITLES.items()}
st.navigation(list(PAGES.values()), position="hidden").run()
