"""Time presets for the filter bar: the last 7, 30 or 90 days of data, or all of it.

A preset sets the time range (the newest day of data is the end); the preset shown as
chosen is the one the current range equals, so editing the dates by hand clears it.
The range, not the preset, goes to the URL (``from``/``to``), so a link keeps the days.
"""

from __future__ import annotations

import datetime as _dt

import streamlit as st

K_PRESET = "flt_preset"
#: Short labels: four fit on one row of the sidebar ("7 days" wrapped the last one).
PRESETS = {"7d": 7, "30d": 30, "90d": 90, "All": None}


def preset_range(label: str, first: _dt.date, last: _dt.date) -> tuple[_dt.date, _dt.date]:
    """The days of ``label``: the last N days of data (both ends included), or all of it."""
    n = PRESETS[label]
    if n is None:
        return first, last
    return max(first, last - _dt.timedelta(days=n - 1)), last


def matching(rng, first: _dt.date, last: _dt.date) -> str | None:
    """The preset whose days equal ``rng`` (a ``(start, end)`` pair), if any."""
    if not (isinstance(rng, (tuple, list)) and len(rng) == 2):
        return None
    return next((k for k in PRESETS if preset_range(k, first, last) == tuple(rng)), None)


def preset_control(where, range_key: str, current, first: _dt.date, last: _dt.date) -> None:
    """Draw the presets (in ``where``, e.g. the sidebar) above the range widget ``range_key``.
    ``current``: the range the widget will show. Call before the range widget is drawn."""
    def chosen() -> None:
        label = st.session_state.get(K_PRESET)
        if label in PRESETS:
            st.session_state[range_key] = preset_range(label, first, last)

    st.session_state[K_PRESET] = matching(current, first, last)
    where.segmented_control("Last", list(PRESETS), key=K_PRESET, on_change=chosen,
                            help="The last 7, 30 or 90 days of data (up to its newest day), or all of it.")
