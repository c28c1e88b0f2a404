"""The one filter bar (sidebar): model, time range, versions, segment filters, period.

Widgets are seeded from the URL parameters and write their choices back, so
every view is a shareable link. Choices are checked against what the model's
log actually holds (a stale link with an unknown version simply drops it).
"""

from __future__ import annotations

import datetime as _dt

import streamlit as st

from analytics.query.selection import parse_where
from analytics.render import format as F
from .. import resources, state
from .presets import preset_control
from ..state import Filters


K_MODEL = "flt_model"
K_RANGE = "flt_range"
K_VERSIONS = "flt_versions"
K_PERIOD = "flt_period"
K_SEG = "flt_seg_"          # + segment column name
PERIODS = ("day", "week", "month")


def _on_model_change() -> None:
    # versions and segment values belong to the previous model
    state.forget(K_VERSIONS, K_RANGE)
    state.forget_prefix(K_SEG)
    for name in ("version", "where", "from", "to"):
        state.set_param(name, None)


def filter_bar(models: tuple[str, ...], with_model: bool = True) -> Filters:
    """Draw the filter bar in the sidebar and return the choices."""
    sb = st.sidebar
    if with_model:
        sb.markdown("### Filters")
    state.bind(K_MODEL, "model", lambda v: v if v in models else None)
    if with_model:
        model = sb.selectbox("Model", models, key=K_MODEL, on_change=_on_model_change,
                             help="The model every page of the dashboard looks at.")
    else:
        model = state.widget_value(K_MODEL) or (state.get("model") if state.get("model") in models else models[0])
    state.set_param("model", model)
    if not with_model:
        return Filters(model=model)

    facts = resources.facts(resources.ws_key(), model)
    first = facts.first_ts.date() if facts.first_ts else _dt.date.today()
    last = facts.last_ts.date() if facts.last_ts else first

    def parse_range(_):
        a = state.parse_date(state.get("from")) or first
        b = state.parse_date(state.get("to")) or last
        a, b = max(first, min(a, last)), max(first, min(b, last))
        return (a, b) if a <= b else (first, last)

    state.bind(K_RANGE, "from", parse_range)
    seeded = {} if K_RANGE in st.session_state else {"value": (first, last)}
    preset_control(sb, K_RANGE, st.session_state.get(K_RANGE, (first, last)), first, last)
    rng = sb.date_input("Time range", **seeded, min_value=first, max_value=last, key=K_RANGE, format="YYYY-MM-DD",
                        help=f"Prediction dates, both days included. Data spans {F.date(first)} to {F.date(last)}.")
    start, end = (rng if isinstance(rng, (tuple, list)) and len(rng) == 2 else (first, last))
    start = None if start == first else start
    end = None if end == last else end

    state.bind(K_VERSIONS, "version", lambda vs: [v for v in vs if v in facts.versions] or None,
               multi=True)
    versions = ()
    if len(facts.versions) > 1:
        versions = tuple(sb.multiselect("Versions", facts.versions, key=K_VERSIONS,
                                        placeholder="All versions",
                                        help="Leave empty for every version."))

    where = []
    wanted = dict(parse_where(state.get_all("where"), strict=False))
    segs = [c for c, _ in facts.segment_values]
    if segs:
        with sb.expander("Segment filters", expanded=bool(wanted)):
            for col in segs:
                key = K_SEG + col
                choices = facts.values_of(col)
                state.bind(key, "where", lambda _, c=col, ch=choices: [v for v in wanted.get(c, []) if v in ch] or None,
                           multi=True)
                chosen = st.multiselect(col, choices, key=key, placeholder="All",
                                        help=f"Only predictions whose {col} is one of these.")
                if chosen:
                    where.append((col, tuple(chosen)))

    state.bind(K_PERIOD, "period", lambda v: v if v in PERIODS else None)
    seeded = {} if K_PERIOD in st.session_state else {"default": "week"}
    period = sb.segmented_control("Time buckets", PERIODS, key=K_PERIOD, **seeded,
                                  help="The period of every chart over time.") or "week"
    flt = Filters(model=model, start=start, end=end, versions=versions, where=tuple(where), period=period)
    for k, v in flt.to_params().items():
        state.set_param(k, v)
    return flt
