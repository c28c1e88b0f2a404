"""Charts that read in the light and the dark theme.

The library's figures carry the house style for paper (white template, dark text: the
PDF). On the dashboard the user's theme decides: :func:`for_theme` drops the fixed
light colours so Streamlit's chart theme (its colours for light and dark) applies, and
makes grid lines a neutral translucent grey that shows on both backgrounds.
"""

from __future__ import annotations

import plotly.graph_objects as go

GRID = "rgba(128,128,128,0.22)"
AXIS = "rgba(128,128,128,0.55)"


def for_theme(fig: go.Figure) -> go.Figure:
    """``fig`` without its fixed light colours (in place; returned for chaining)."""
    fig.update_layout(template=None, paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
    if fig.layout.font is not None:
        fig.layout.font.color = None
    if fig.layout.title is not None and fig.layout.title.font is not None:
        fig.layout.title.font.color = None
    fig.update_xaxes(linecolor=AXIS)
    fig.update_yaxes(gridcolor=GRID)
    for a in fig.layout.annotations or ():
        a.bgcolor = None
    return fig
