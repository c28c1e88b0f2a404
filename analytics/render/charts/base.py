"""The shared look of every chart: palette, fonts, margins, axis formats; and user
text shown as text (:func:`plain_text`)."""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

import plotly.graph_objects as go

from analytics.render.format import D3

#: Colour-blind-safe categorical palette (Okabe-Ito, reordered).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
FONT = "Inter, 'Source Sans Pro', 'DejaVu Sans', sans-serif"


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


@functools.cache
def _paper_template() -> go.layout.Template:
    """plotly's "plotly_white", built once: plotly deep-copies a template named by a string on
    every figure (0.05-0.1 s each, a tenth of a dashboard page's CPU); a Template object is
    copied by its constructor, in half the time, into the same layout."""
    import plotly.io as pio
    return go.layout.Template(pio.templates["plotly_white"])


def style(fig: go.Figure, title: str | None = None, y_fmt: str | None = None,
          height: int = 360, legend: bool = True) -> go.Figure:
    """Apply the house style; ``y_fmt`` is a format kind (pct, num, ms, count, money)."""
    fig.update_layout(
        template=_paper_template(), height=height, font=dict(family=FONT, size=13, color="#1f2933"),
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


def empty_figure(message: str, height: int = 240) -> go.Figure:  # decorated below
    """A figure that says why there is nothing to draw (never a blank chart)."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font=dict(size=14, color="#52606d"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return style(fig, height=height, legend=False)


# --------------------------------------------------------------------------- user text as text
#
# plotly.js reads a subset of HTML in every string it draws -- titles, axis titles and
# category ticks, legend and hover names, annotations: ``<b>``, ``<i>``, ``<br>``,
# ``<a href=...>``, ``<span style=...>`` -- and decodes entities. Feature names, segment
# values, versions and currencies come from the user's logs and workspace, so every chart
# function returns its figure through :func:`plain_text` (the :func:`user_text` decorator),
# which escapes ``&``, ``<`` and ``>`` once in all of those places: plotly then draws the
# characters themselves. Hover templates are not touched (they are markup by design):
# chart functions refer to names there as ``%{fullData.name}`` (the escaped trace name)
# and pass any other user text through :func:`template_text`.

F = TypeVar("F", bound=Callable[..., go.Figure])
_DONE = "_lastmile_plain_text"


def plain(text: Any) -> str:
    """``text`` as plotly shows it verbatim: ``&``, ``<`` and ``>`` as entities."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def template_text(text: Any) -> str:
    """User text for a hover template: :func:`plain`, and ``%{`` that plotly would read
    as a placeholder written as ``%&#123;`` (drawn as ``%{``)."""
    return plain(text).replace("%{", "%&#123;")


def _plain_values(values):
    if isinstance(values, (list, tuple)) and any(isinstance(v, str) for v in values):
        return [plain(v) if isinstance(v, str) else v for v in values]
    return None


def plain_text(fig: go.Figure) -> go.Figure:
    """Escape every user-visible string of ``fig`` in place (once; see above): the title,
    axis titles, the legend's title, annotations, trace names, text and string
    (category) coordinates. Hover templates are left as they are."""
    if getattr(fig, _DONE, False):
        return fig
    lay = fig.layout
    if lay.title.text:
        lay.title.text = plain(lay.title.text)
    if lay.legend.title.text:
        lay.legend.title.text = plain(lay.legend.title.text)

    def axis(ax):
        if ax.title.text:
            ax.title.text = plain(ax.title.text)

    fig.for_each_xaxis(axis)
    fig.for_each_yaxis(axis)
    for ann in lay.annotations:
        if ann.text:
            ann.text = plain(ann.text)
    for tr in fig.data:
        if getattr(tr, "name", None):
            tr.name = plain(tr.name)
        if getattr(tr, "legendgroup", None):  # not drawn; escaped alike so groups stay together
            tr.legendgroup = plain(tr.legendgroup)
        for attr in ("x", "y", "text", "hovertext"):
            if attr not in tr:
                continue
            value = tr[attr]
            if isinstance(value, str):
                tr[attr] = plain(value)
            else:
                escaped = _plain_values(value)
                if escaped is not None:
                    tr[attr] = escaped
    object.__setattr__(fig, _DONE, True)
    return fig


def user_text(fn: F) -> F:
    """Decorate a chart function: its figure comes back through :func:`plain_text`."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return plain_text(fn(*args, **kwargs))
    return wrapper  # type: ignore[return-value]


empty_figure = user_text(empty_figure)
