"""``[models.alerts]``: the health rules' settings, their defaults, and the validator
(the rules themselves are :mod:`analytics.analyses.health`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from analytics.config.times import iso_date_problems
from analytics.errors import suggest

if TYPE_CHECKING:  # a type only: the workspace module imports this one
    from analytics.config.workspace import ModelSpec

#: ``[models.alerts]`` top-level settings and their defaults.
GENERAL_DEFAULTS: dict[str, Any] = {
    "min_labels": 200,
    "min_label_coverage": 0.5,
    "lookback_weeks": 8,
    "alpha": 0.05,
    "min_rows": 100,
    "versions": (),
    "reference_start": None,
    "reference_end": None,
}

#: Rule tables (``[models.alerts.<rule>]``) and their defaults. None: off.
RULE_DEFAULTS: dict[str, dict[str, Any]] = {
    "drop": {"enabled": True, "metric": None, "warn": 0.05, "pull": 0.10},
    # drift is a warning sign, not proof of harm: by default it never pulls on its own
    # (a performance drop or floor does); set ``pull`` to change that
    "drifted_features": {"enabled": True, "warn": 0.2, "pull": None},
    "prediction_psi": {"enabled": True, "warn": 0.2, "pull": None},
    "net_value": {"enabled": True, "warn": 0.0, "pull": None},
    "latency_p95": {"enabled": True, "warn": None, "pull": None, "warn_ratio": 1.5, "pull_ratio": 3.0},
    "label_coverage": {"enabled": True, "warn": 0.5, "pull": 0.2, "after_weeks": 5},
    # this week's predictions against the reference's typical week (weekday medians): a relative drop
    "volume_drop": {"enabled": True, "warn": 0.5, "pull": 0.8},
}

#: Default metric floors per task (``[models.alerts.floors]`` adds to / overrides them).
DEFAULT_FLOORS: dict[str, dict[str, dict[str, float]]] = {
    "binary": {"roc_auc": {"warn": 0.70, "pull": 0.60}},
    "multiclass": {},
    "regression": {},
}


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class AlertSettings:
    """``[models.alerts]`` merged over the defaults."""

    general: Mapping[str, Any]
    rules: Mapping[str, Mapping[str, Any]]
    floors: Mapping[str, Mapping[str, float]]
    ceilings: Mapping[str, Mapping[str, float]]

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> "AlertSettings":
        raw = dict(spec.alerts)
        general = {k: raw.get(k, v) for k, v in GENERAL_DEFAULTS.items()}
        rules = {name: {**d, **dict(raw.get(name, {}))} for name, d in RULE_DEFAULTS.items()}
        floors = {**DEFAULT_FLOORS.get(spec.task, {}), **{k: dict(v) for k, v in dict(raw.get("floors", {})).items()}}
        ceilings = {k: dict(v) for k, v in dict(raw.get("ceilings", {})).items()}
        return cls(general, rules, floors, ceilings)


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def validate_alerts_config(raw: Mapping[str, Any]) -> list[str]:
    """Problems with a ``[models.alerts]`` table (one sentence each; empty if fine)."""
    where = "[models.alerts]"
    allowed = set(GENERAL_DEFAULTS) | set(RULE_DEFAULTS) | {"floors", "ceilings"}
    problems = [f"{where}: unknown key {k!r}{suggest(k, allowed)}." for k in raw if k not in allowed]
    for key in ("min_labels", "lookback_weeks", "min_rows"):
        if key in raw and (not isinstance(raw[key], int) or isinstance(raw[key], bool) or raw[key] < 1):
            problems.append(f"{where}: {key} must be a whole number >= 1.")
    for key, lo, hi in (("min_label_coverage", 0.0, 1.0), ("alpha", 0.0, 0.5)):
        if key in raw and (not _is_num(raw[key]) or not lo < raw[key] <= hi):
            problems.append(f"{where}: {key} must be a number in ({lo:g}, {hi:g}].")
    if "versions" in raw and (not isinstance(raw["versions"], list)
                              or not all(isinstance(v, str) and v for v in raw["versions"])):
        problems.append(f"{where}: versions must be a list of version names.")
    problems += iso_date_problems(raw, ("reference_start", "reference_end"), where)
    for name, defaults in RULE_DEFAULTS.items():
        if name not in raw:
            continue
        table = raw[name]
        w = f"[models.alerts.{name}]"
        if not isinstance(table, Mapping):
            problems.append(f"{w} must be a table (keys: {', '.join(defaults)}).")
            continue
        problems += [f"{w}: unknown key {k!r}{suggest(k, defaults)}." for k in table if k not in defaults]
        for k, v in table.items():
            if k == "enabled" and not isinstance(v, bool):
                problems.append(f"{w}: enabled must be true or false.")
            elif k == "metric" and not isinstance(v, str):
                problems.append(f"{w}: metric must be a metric name.")
            elif k == "after_weeks" and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
                problems.append(f"{w}: after_weeks must be a whole number >= 0.")
            elif k in ("warn", "pull", "warn_ratio", "pull_ratio") and not _is_num(v):
                problems.append(f"{w}: {k} must be a number.")
        if name == "drop" and isinstance(table.get("metric"), str):
            problems += _metric_problems(table["metric"], w)
    for kind in ("floors", "ceilings"):
        if kind not in raw:
            continue
        w = f"[models.alerts.{kind}]"
        if not isinstance(raw[kind], Mapping):
            problems.append(f"{w} must be a table of metric = {{ warn = x, pull = y }}.")
            continue
        for metric, lv in raw[kind].items():
            problems += _metric_problems(metric, w, kind)
            if not isinstance(lv, Mapping) or not lv or any(k not in ("warn", "pull") or not _is_num(x)
                                                           for k, x in lv.items()):
                problems.append(f"{w}: {metric} must be {{ warn = number, pull = number }}.")
            elif "warn" in lv and "pull" in lv:
                bad = lv["pull"] > lv["warn"] if kind == "floors" else lv["pull"] < lv["warn"]
                if bad:
                    problems.append(f"{w}: {metric}'s pull level must be {'below' if kind == 'floors' else 'above'} "
                                    "its warn level.")
    return problems


def _metric_problems(name: str, where: str, kind: str | None = None) -> list[str]:
    from analytics.metrics import METRICS  # lazy: Ibis and scipy, only when a metric is named

    d = METRICS.get(name)
    if d is None:
        return [f"{where}: {name!r} is not a metric{suggest(name, METRICS)}."]
    if kind == "floors" and d.higher_is_better is False:
        return [f"{where}: {name} is better when lower; give it a ceiling, not a floor."]
    if kind == "ceilings" and d.higher_is_better is True:
        return [f"{where}: {name} is better when higher; give it a floor, not a ceiling."]
    return []
