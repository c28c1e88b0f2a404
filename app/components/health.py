"""The health verdict of a model in plain words (status badge and reasons)."""

from __future__ import annotations

import streamlit as st

STATUS = {
    "healthy": (":material/check_circle:", "green", "Healthy"),
    "warn": (":material/warning:", "orange", "Warning"),
    "pull": (":material/block:", "red", "Pull"),
}


def badge(status: str) -> str:
    icon, colour, text = STATUS.get(status, (":material/help:", "gray", status))
    return f":{colour}-badge[{icon} {text}]"


def health_panel(health) -> None:
    """The status and every reason, one sentence each."""
    with st.container(border=True):
        st.markdown(f"**Health** {badge(health.status)}")
        if not health.reasons:
            st.markdown("Every health rule passes for the latest period.")
        for r in health.reasons:
            st.markdown(f"- {badge(r.level)} {r.message}")
