"""The health verdict of a model in plain words (status badge and reasons)."""

from __future__ import annotations

import streamlit as st

from app.components.text import escape_md

#: Icon, colour and word of every badge: the health statuses and reason levels, and the
#: recommendations' actions (``pull`` is both, the same badge).
BADGES = {
    "healthy": (":material/check_circle:", "green", "Healthy"),
    "warn": (":material/warning:", "orange", "Warn"),
    "pull": (":material/block:", "red", "Pull"),
    "error": (":material/error:", "violet", "Cannot be checked"),
    "info": (":material/info:", "gray", "Note"),
    "switch": (":material/swap_horiz:", "green", "Switch"),
    "threshold": (":material/tune:", "green", "Threshold"),
    "watch": (":material/visibility:", "orange", "Watch"),
    "keep": (":material/check_circle:", "green", "Keep"),
}


def badge(key: str) -> str:
    """The badge of a status, a reason's level or a recommendation's action."""
    icon, colour, text = BADGES.get(key, (":material/help:", "gray", key))
    return f":{colour}-badge[{icon} {text}]"


def reason_lines(health, with_info: bool = True) -> list[str]:
    """One markdown bullet per reason, the most severe first."""
    order = {"error": 0, "pull": 1, "warn": 2, "info": 3}
    reasons = sorted(health.reasons, key=lambda r: order.get(r.level, 4))
    return [f"- {badge(r.level)} {escape_md(r.message)}" for r in reasons if with_info or r.level != "info"]


def health_panel(health) -> None:
    """The status and every reason, one sentence each."""
    with st.container(border=True):
        st.markdown(f"**Health** {badge(health.status)}")
        lines = reason_lines(health)
        st.markdown("\n".join(lines) if lines else "Every health rule passes.")
