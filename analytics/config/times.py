"""ISO dates and datetimes as the workspace and the command line write them."""

from __future__ import annotations

import datetime as _dt
from typing import Any, Iterable, Mapping

from analytics.errors import SelectionError


def parse_time(value: str | _dt.date | _dt.datetime | None, what: str = "time bound") -> _dt.datetime | None:
    """An ISO date or datetime (naive; an aware one is converted to UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, _dt.datetime):
        out = value
    elif isinstance(value, _dt.date):
        out = _dt.datetime(value.year, value.month, value.day)
    else:
        try:
            out = _dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise SelectionError(
                f"{what} {value!r} is not an ISO date or datetime (for example 2026-03-01 or 2026-03-01T12:00)."
            ) from None
    if out.tzinfo is not None:
        out = out.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return out


def iso_date_problems(raw: Mapping[str, Any], keys: Iterable[str], where: str) -> list[str]:
    """What is wrong with the date keys of a workspace table: each of ``keys`` present must be
    a TOML date or datetime, or a string :meth:`datetime.fromisoformat` reads."""
    problems = []
    for key in keys:
        if key in raw:
            v = raw[key]
            if isinstance(v, str):
                try:
                    _dt.datetime.fromisoformat(v)
                except ValueError:
                    problems.append(f"{where}: {key} {v!r} is not an ISO date.")
            elif not isinstance(v, (_dt.date, _dt.datetime)):
                problems.append(f"{where}: {key} must be an ISO date.")
    return problems
