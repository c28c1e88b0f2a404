"""Every time chart marks each version's first day and the start of detected drift
(:mod:`analytics.analyses.timeline`, cached per model; drawn by
:func:`analytics.render.charts.markers.mark_events`)."""

from __future__ import annotations

from analytics.render.charts.markers import mark_events
from analytics.errors import LastmileError

from app import resources


def marked(ctx, fig):
    """``fig`` (a chart over time of ``ctx``'s model) with the model's moments marked."""
    try:
        events = resources.timeline(ctx.ws_key, ctx.spec.name)
    except LastmileError:
        return fig   # no moments to mark: the chart is still right
    return mark_events(fig, events)
