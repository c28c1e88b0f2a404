"""The shared look of every chart: palette, fonts, margins, axis formats."""

from __future__ import annotations

import plotly.graph_objects as go

from .format import D3

#: Colour-blind-safe categorical palette (Okabe-Ito, reordered).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
FONT = "Inter, 'Source Sans Pro', 'DejaVu Sans', sans-serif"


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def style(fig: go.Figure, title: str | None = None, y_fmt: str | None = None,
          height: int = 360, legend: bool = True) -> go.Figure:
    """Apply the house style; ``y_fmt`` is a format kind (pct, num, ms, count, money)."""
    fig.update_layout(
        template="plotly_white", height=height, font=dict(family=FONT, size=13, color="#1f2933"),
        margin=dict(l=10, r=10, t=48 if title else 16, b=10),
        title=dict(text=title, x=0, xanchor="left", font=dict(size=15)) if title else None,
        hovermode="x unified", showlegend=legend,
        # below the plot: a long title and many series never collide
        legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0, title=None),
    )
    fig.update_xaxes(showgrid=False, linecolor="#c9d1d9")
    fig.update_yaxes(gridcolor="#eef1f4", zeroline=False)
    if y_fmt:
        fig.update_yaxes(tickformat=D3.get(y_fmt, ""))
    return fig


def empty_figure(message: str, height: int = 240) -> go.Figure:
    """A figure that says why there is nothing to draw (never a blank chart)."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font=dict(size=14, color="#52606d"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return style(fig, height=height, legend=False)
