"""``[models.drift]``: its keys, their defaults, and its validator (drift itself is
:mod:`analytics.analyses.drift`, whose ``DriftConfig`` adds the decision rule)."""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Mapping

from analytics.config.times import parse_time
from analytics.errors import SelectionError, suggest

if TYPE_CHECKING:  # a type only: the workspace module imports this one
    from analytics.config.workspace import ModelSpec


@dataclass(frozen=True)
class DriftSettings:
    """``[models.drift]``: thresholds of the default decision and the default reference window."""

    psi_threshold: float = 0.2
    js_threshold: float = 0.1
    wasserstein_threshold: float = 0.2
    p_value_threshold: float = 0.01
    large_n: int = 1000
    bins: int = 10
    reference_start: _dt.datetime | None = None
    reference_end: _dt.datetime | None = None

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> "DriftSettings":
        raw = dict(spec.drift)
        kw: dict[str, Any] = {k: raw[k] for k in ("psi_threshold", "js_threshold", "wasserstein_threshold",
                                                  "p_value_threshold") if k in raw}
        kw.update({k: int(raw[k]) for k in ("large_n", "bins") if k in raw})
        for k in ("reference_start", "reference_end"):
            if k in raw:
                kw[k] = parse_time(raw[k], f"[models.drift] {k}")
        return cls(**kw)


_CONFIG_KEYS = {f.name for f in fields(DriftSettings)}


def validate_drift_config(raw: Mapping[str, Any]) -> list[str]:
    """Problems in a ``[models.drift]`` table, one sentence each (empty if fine)."""
    problems = []
    for key, val in raw.items():
        if key not in _CONFIG_KEYS:
            problems.append(f"[models.drift]: unknown key {key!r}{suggest(key, sorted(_CONFIG_KEYS))}.")
            continue
        if key in ("reference_start", "reference_end"):
            if not isinstance(val, (str, _dt.date)):
                problems.append(f"[models.drift]: {key} must be an ISO date or datetime.")
                continue
            try:
                parse_time(val, key)
            except SelectionError as exc:
                problems.append(f"[models.drift]: {exc.message}")
        elif key in ("large_n", "bins"):
            low = 2 if key == "bins" else 0
            if isinstance(val, bool) or not isinstance(val, int) or val < low:
                problems.append(f"[models.drift]: {key} must be an integer >= {low}.")
        else:
            ok = isinstance(val, (int, float)) and not isinstance(val, bool) and math.isfinite(val) and val > 0
            if not ok or (key in ("p_value_threshold", "js_threshold") and val >= 1):
                bound = "between 0 and 1" if key in ("p_value_threshold", "js_threshold") else "> 0"
                problems.append(f"[models.drift]: {key} must be a number {bound}.")
    start, end = raw.get("reference_start"), raw.get("reference_end")
    if not problems and start is not None and end is not None \
            and parse_time(start) >= parse_time(end):
        problems.append("[models.drift]: reference_start must be before reference_end.")
    return problems
