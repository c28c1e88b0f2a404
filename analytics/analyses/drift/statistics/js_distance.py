"""Jensen-Shannon distance (base 2) over the same bins or categories as PSI."""

from __future__ import annotations

from analytics.stats.drift import js_distance

from .registry import DriftStatistic, register

register(DriftStatistic(
    name="js_distance", kinds=("numeric", "categorical"), needs=("bins",), threshold=0.1, label="JS distance",
    finish=lambda a: js_distance(a["ref_bins"], a["cur_bins"]),
    doc="scipy.spatial.distance.jensenshannon(r, c, base=2) on the raw shares (0 same, 1 disjoint).",
))
