"""The health timeline: the recorded verdicts as status bands over time, reasons on
hover, version releases marked (:mod:`analytics.alerts.timeline`). A page calls
:func:`timeline_panel` with the models it shows."""

from __future__ import annotations

from typing import Sequence

import streamlit as st

from analytics.alerts.history import History
from analytics.alerts.timeline import bands
from analytics.config.cachedir import cache_root, state_dir
from analytics.render.charts.timeline import timeline_figure
from analytics.errors import LastmileError

from app import resources
from app.components.text import escape_md
from app.components.widgets import chart


def _releases(ws_key, model: str):
    try:
        roles = resources.version_roles(ws_key, model)
    except LastmileError:
        return ()
    return sorted(((v, d.first) for v, d in roles.detail.items() if d.first is not None), key=lambda x: x[1])


def timeline_panel(ws_key, workspace, models: Sequence[str], key: str) -> None:
    """The timeline of ``models`` from the workspace's verdict history (read, never written)."""
    history = History.in_state_dir(state_dir(workspace.path, cache_root()))
    try:
        verdicts = [v for m in models for v in history.verdicts(m)]
    except LastmileError as exc:   # a damaged history never breaks the page
        st.caption(f"Health over time is not available: {escape_md(str(exc))}")
        return
    found = bands(verdicts)
    with st.expander("Health over time", expanded=bool(found), icon=":material/timeline:"):
        releases = {m: _releases(ws_key, m) for m in models} if found else {}
        chart(timeline_figure(found, releases, title=None), key=key)
        st.caption("Each band: the verdicts of `lastmile check` (and `check --backfill`) in a row with the same "
                   "status and reasons; hover for the reasons. ▼ marks a version's first prediction.")
