"""``[models.compare]``: its keys, their defaults, and its validator (the comparison
itself is :mod:`analytics.analyses.compare`)."""

from __future__ import annotations

import math
from typing import Any, Mapping

from analytics.errors import suggest
from analytics.stats import sequential as seq

#: ``[models.compare]`` keys and their defaults (None: derived from the task).
DEFAULTS: dict[str, Any] = {
    "primary_metric": None,
    "min_n": 500,
    "alpha": 0.05,
    "paired_overlap": 0.5,
    "segment_min_n": 100,
    "block_on_segment_loss": True,
    "sequential_metric": None,
    "sequential_tau": seq.DEFAULT_TAU_REL,
}

#: Per-row values the engine can compute, by task (paired t and sequential monitoring).
ROW_METRICS = {
    "binary": ("accuracy", "brier", "log_loss", "positive_rate"),
    "multiclass": ("accuracy",),
    "regression": ("mae", "bias"),
}
#: Metric watched sequentially when the primary metric is not a per-row mean.
SEQUENTIAL_DEFAULT = {"binary": "brier", "multiclass": "accuracy", "regression": "mae"}


def validate_compare_config(raw: Mapping[str, Any]) -> list[str]:
    """Problems with a ``[models.compare]`` table (one sentence each; empty if fine)."""
    problems = []
    for key in raw:
        if key not in DEFAULTS:
            problems.append(f"[models.compare]: unknown key {key!r}{suggest(key, DEFAULTS)}.")
    for key in ("primary_metric", "sequential_metric"):
        if key in raw:
            v = raw[key]
            if not isinstance(v, str) or not v:
                problems.append(f"[models.compare]: {key} must be a metric name.")
                continue
            from analytics.metrics import METRICS  # lazy: Ibis and scipy, only when a metric is named

            if v not in METRICS:
                problems.append(f"[models.compare]: {key} {v!r} is not a metric{suggest(v, METRICS)}.")
    if "sequential_metric" in raw and isinstance(raw["sequential_metric"], str):
        allowed = {m for ms in ROW_METRICS.values() for m in ms}
        if raw["sequential_metric"] not in allowed:
            problems.append(f"[models.compare]: sequential_metric must be one of {', '.join(sorted(allowed))}.")
    for key, lo, hi in (("alpha", 0.0, 0.5), ("paired_overlap", 0.0, 1.0), ("sequential_tau", 0.0, math.inf)):
        if key in raw:
            v = raw[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo < v <= hi:
                problems.append(f"[models.compare]: {key} must be a number in ({lo:g}, {hi:g}].")
    for key in ("min_n", "segment_min_n"):
        if key in raw:
            v = raw[key]
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                problems.append(f"[models.compare]: {key} must be a whole number >= 1.")
    if "block_on_segment_loss" in raw and not isinstance(raw["block_on_segment_loss"], bool):
        problems.append("[models.compare]: block_on_segment_loss must be true or false.")
    return problems
