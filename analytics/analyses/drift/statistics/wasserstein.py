"""Wasserstein distance, raw and in reference standard deviations."""

from __future__ import annotations

import math

from .registry import DriftStatistic, Missing, register


def _w(a) -> float:
    return max(float(a["wasserstein"]), 0.0)  # a sum of non-negative pieces: clip rounding below 0


def _normed(a) -> float:
    var = a["ref_var"]
    if var is not None and var > 0:
        return _w(a) / math.sqrt(var)
    raise Missing("the reference has a single value" if a["n_ref"] < 2 else
                  "the reference values are all equal (standard deviation 0)")


register(DriftStatistic(
    name="wasserstein", kinds=("numeric",), needs=("sorted_pass",), finish=_w, label="Wasserstein", shown=False,
    doc="scipy.stats.wasserstein_distance(ref, cur): the integral of |Fr - Fc|.",
))
register(DriftStatistic(
    name="wasserstein_normed", kinds=("numeric",), needs=("sorted_pass", "reference_summary"), finish=_normed,
    threshold=0.2, label="Wasserstein (norm.)",
    doc="The Wasserstein distance divided by the reference's standard deviation (ddof=1).",
))
