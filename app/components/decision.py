"""What to do about each model, first on the portfolio: the recommendations of
:mod:`analytics.analyses.recommend` (the same sentences as ``lastmile check`` and page 1
of the report), and each model's findings in a few plain words."""

from __future__ import annotations

import streamlit as st

from analytics.analyses.recommend import plain_reason
from analytics.errors import LastmileError

from app import resources
from app.components.health import badge
from app.components.text import escape_md

def recommendation_calls(ws, models) -> list[tuple]:
    """The cached calls behind the board (to prefetch)."""
    return [(resources.recommendations, (ws, m.name)) for m in models]


def board(ws, models) -> None:
    """One line per recommendation, most urgent model first (pull, then warn...)."""
    lines = []
    for spec in models:
        try:
            recs = resources.recommendations(ws, spec.name)
        except LastmileError as exc:
            lines.append(f"- **{escape_md(spec.name)}** cannot be assessed: {escape_md(exc.message)}")
            continue
        for r in recs:
            lines.append(f"- {badge(r.action)} {escape_md(r.sentence)}")
    with st.container(border=True, key="pf_decisions"):
        st.markdown("#### What to do")
        st.markdown("\n".join(lines) if lines else "Nothing to do: every model is healthy.")


def plain_findings(spec, health) -> list[str]:
    """The model's warn/pull findings in a few plain words each (numbers rounded), the
    full sentences left to the overview's health panel."""
    seen, out = set(), []
    for r in health.reasons:
        if r.level in ("warn", "pull"):
            text = plain_reason(spec, r)
            if text not in seen:
                seen.add(text)
                out.append(f"- {badge(r.level)} {escape_md(text)}")
    return out
