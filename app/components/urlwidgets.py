"""Widgets whose choice lives in the URL: a what-if number or a report option is part of
the view, so a link (or Back) restores it. Each is seeded from its URL parameter the
first time it is drawn, and writes its value back only when it differs from the default
(the URL stays short)."""

from __future__ import annotations

from typing import Sequence

import streamlit as st

from app import state


def _float(text) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except (TypeError, ValueError):
        return None


def number(label: str, param: str, default: float, *, key: str, **kw) -> float:
    """``st.number_input`` bound to URL parameter ``param``."""
    lo, hi = kw.get("min_value"), kw.get("max_value")
    state.bind(key, param, lambda v: (x if (x := _float(v)) is not None and (lo is None or x >= lo)
                                      and (hi is None or x <= hi) else None))
    seeded = {} if key in st.session_state else {"value": float(default)}
    v = st.number_input(label, key=key, **seeded, **kw)
    state.set_param(param, None if v is None or float(v) == float(default) else f"{float(v):g}")
    return v


def slider(label: str, param: str, lo: float, hi: float, default: float, step: float, *, key: str, **kw) -> float:
    """``st.slider`` of one number bound to URL parameter ``param``."""
    state.bind(key, param, lambda v: x if (x := _float(v)) is not None and lo <= x <= hi else None)
    seeded = {} if key in st.session_state else {"value": float(default)}
    v = st.slider(label, lo, hi, step=step, key=key, **seeded, **kw)
    state.set_param(param, None if abs(float(v) - float(default)) < 1e-12 else f"{float(v):g}")
    return v


def radio(label: str, param: str, options: Sequence[str], *, key: str, **kw) -> str:
    """``st.radio`` bound to URL parameter ``param`` (the first option is the default)."""
    state.bind(key, param, lambda v: v if v in options else None)
    v = st.radio(label, options, key=key, **kw)
    state.set_param(param, None if v == options[0] else v)
    return v


def toggle(label: str, param: str, default: bool, *, key: str, **kw) -> bool:
    """``st.toggle`` bound to URL parameter ``param`` ("on"/"off")."""
    state.bind(key, param, lambda v: {"on": True, "off": False}.get(v))
    seeded = {} if key in st.session_state else {"value": default}
    v = st.toggle(label, key=key, **seeded, **kw)
    state.set_param(param, None if v == default else ("on" if v else "off"))
    return v


def set_unless_default(param: str, value, default) -> None:
    """Write ``value`` to URL parameter ``param`` unless it is the page's default and the URL
    does not name it already: a first visit then adds nothing to the URL (one history entry
    per click), while a link that names the value keeps it."""
    state.set_param(param, value if value != default or state.get(param) is not None else None)
