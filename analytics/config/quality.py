"""``[models.quality]``: the settings of the data-quality checks
(:mod:`analytics.analyses.quality`) and their validator. The reference window, the smallest period judged, and per-check
``warn`` / ``pull`` levels (each check's defaults live in its registry entry).

```toml
[models.quality]
reference_start = "2026-05-25"     # default: the drift module's reference (first 28 days)
reference_end = "2026-06-22"
min_rows = 30                      # periods with fewer rows are not judged (column checks)

[models.quality.missing]
warn = 0.05                        # 5 points more missing than in the reference
pull = 0.20

[models.quality.new_categories]
known = { weather = ["snow"] }     # values that are valid though the reference lacks them
```
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from typing import Any, Mapping

from analytics.errors import suggest as _suggest


def _checks():
    """The quality catalogue (its check files import Ibis: loaded only when a model has
    ``[models.quality]`` or a quality run starts)."""
    from analytics.analyses.quality.checks import CHECKS
    return CHECKS

#: ``[models.quality]`` top-level settings and their defaults.
GENERAL_DEFAULTS: dict[str, Any] = {"reference_start": None, "reference_end": None, "min_rows": 30}


@dataclass(frozen=True)
class QualitySettings:
    general: Mapping[str, Any]
    checks: Mapping[str, Mapping[str, Any]]

    @classmethod
    def from_spec(cls, spec) -> "QualitySettings":
        raw = dict(getattr(spec, "quality", {}) or {})
        general = {k: raw.get(k, v) for k, v in GENERAL_DEFAULTS.items()}
        checks = {name: {**c.defaults, **dict(raw.get(name, {}))} for name, c in _checks().items()}
        return cls(general, checks)

    def enabled(self, name: str) -> bool:
        return bool(self.checks[name]["enabled"])


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def validate_quality_config(raw: Mapping[str, Any]) -> list[str]:
    """Problems with a ``[models.quality]`` table (one sentence each; empty if fine)."""
    checks = _checks()
    where = "[models.quality]"
    allowed = set(GENERAL_DEFAULTS) | set(checks)
    problems = [f"{where}: unknown key {k!r}{_suggest(k, allowed)}." for k in raw if k not in allowed]
    if "min_rows" in raw and (not isinstance(raw["min_rows"], int) or isinstance(raw["min_rows"], bool)
                              or raw["min_rows"] < 1):
        problems.append(f"{where}: min_rows must be a whole number >= 1.")
    for key in ("reference_start", "reference_end"):
        v = raw.get(key)
        if key in raw and not isinstance(v, (_dt.date, _dt.datetime)):
            try:
                _dt.datetime.fromisoformat(str(v))
            except ValueError:
                problems.append(f"{where}: {key} {v!r} is not an ISO date.")
    for name, check in checks.items():
        if name not in raw:
            continue
        table, w, defaults = raw[name], f"[models.quality.{name}]", check.defaults
        if not isinstance(table, Mapping):
            problems.append(f"{w} must be a table (keys: {', '.join(defaults)}).")
            continue
        problems += [f"{w}: unknown key {k!r}{_suggest(k, defaults)}." for k in table if k not in defaults]
        for k, v in table.items():
            if k not in defaults:
                continue
            d = defaults[k]
            if k == "enabled" or isinstance(d, bool):
                if not isinstance(v, bool):
                    problems.append(f"{w}: {k} must be true or false.")
            elif isinstance(d, Mapping):
                if not isinstance(v, Mapping) or not all(isinstance(x, list) for x in v.values()):
                    problems.append(f"{w}: {k} must be a table of column = [values].")
            elif not _num(v) and not (v is None and k in ("warn", "pull")):
                problems.append(f"{w}: {k} must be a number.")
        merged = {**defaults, **{k: v for k, v in table.items() if k in defaults}}
        wv, pv = merged.get("warn"), merged.get("pull")
        if _num(wv) and _num(pv) and (pv < wv if check.direction == "above" else pv > wv):
            word = "above" if check.direction == "above" else "below"
            problems.append(f"{w}: pull ({pv:g}) must be {word} warn ({wv:g}).")
    return problems
