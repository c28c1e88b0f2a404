"""What the workspace's parsers share: unknown keys (with a did-you-mean), strings,
numbers, paths, an ISO timestamp, a duration, and the one error listing every problem."""

from __future__ import annotations

import datetime as _dt
import math
import re
from pathlib import Path
from typing import Any, Mapping

from analytics.config.spec import TIMESTAMP_MAX_AHEAD, TIMESTAMP_MIN
from analytics.errors import ConfigError, suggest

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def raise_problems(where: str, problems: list[str]) -> None:
    """One :class:`ConfigError` naming the first problem and how many more (none: nothing)."""
    if problems:
        n = len(problems)
        head = f"{where} has {n} problem{'s' if n > 1 else ''}: {problems[0]}"
        if n > 1:
            head += f" (and {n - 1} more; `lastmile validate` lists them all)"
        raise ConfigError(head.rstrip(".") + ".", tuple(problems))


def parse_timestamp_min(value: Any, problems: list[str]) -> _dt.datetime:
    """``[engine] timestamp_min``: a TOML date/datetime or an ISO string (aware: to UTC)."""
    out = None
    if isinstance(value, _dt.datetime):
        out = value
    elif isinstance(value, _dt.date):
        out = _dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            out = _dt.datetime.fromisoformat(value.strip())
        except ValueError:
            out = None
    if out is None:
        problems.append("[engine] timestamp_min must be an ISO date or datetime such as \"1970-01-01\".")
        return TIMESTAMP_MIN
    if out.tzinfo is not None:
        out = out.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return out


def parse_duration(value: Any, what: str, problems: list[str]) -> _dt.timedelta:
    """A duration such as ``"1d"``, ``"36h"``, ``"2w"`` (units s, m, h, d, w)."""
    if isinstance(value, _dt.timedelta):
        return value
    m = _DURATION.match(value) if isinstance(value, str) else None
    if m is None:
        problems.append(f"{what} must be a duration such as \"1d\", \"12h\" or \"2w\" "
                        f"(a number and one of s, m, h, d, w).")
        return TIMESTAMP_MAX_AHEAD
    try:
        return _dt.timedelta(**{_DURATION_UNITS[m.group(2)]: float(m.group(1))})
    except OverflowError:
        problems.append(f"{what} {value!r} is too long.")
        return TIMESTAMP_MAX_AHEAD


def unknown_keys(table: Mapping[str, Any], allowed: set[str], where: str, problems: list[str]) -> None:
    for key in table:
        if key not in allowed:
            problems.append(f"{where}: unknown key {key!r}{suggest(key, allowed)}.")


def resolve_path(p: str, root: Path) -> str:
    if "://" in p or Path(p).is_absolute():
        return p
    return str((root / p))


def str_or_none(table, key, where, problems) -> str | None:
    v = table.get(key)
    if v is None:
        return None
    if not isinstance(v, str) or not v:
        problems.append(f"{where}: {key} must be a non-empty string.")
        return None
    return v


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
