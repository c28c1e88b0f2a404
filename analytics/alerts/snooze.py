"""Snoozes: "do not notify about this model (or this rule of it) until then",
recorded with who and why in the history database's ``snoozes`` table
(``model``, ``rule`` (NULL: every rule), ``until``, ``reason``, ``by``,
``created_at``, ``cleared_at``, ``cleared_by``; times naive UTC ISO).

A snooze silences notifications only: ``check`` still judges and records every
verdict, and its exit status is unchanged. A model snoozed whole is not notified
at all; a snoozed rule's reasons are left out of what is compared and sent, so a
model whose only problem is snoozed counts as healthy for notifying.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Sequence

from analytics.alerts.history import History, iso, utcnow
from analytics.errors import SelectionError


@dataclass(frozen=True)
class Snooze:
    id: int
    model: str
    rule: str | None
    until: str
    reason: str
    by: str
    created_at: str
    cleared_at: str | None = None
    cleared_by: str | None = None

    def active(self, now: _dt.datetime) -> bool:
        return self.cleared_at is None and self.until > iso(now)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def describe(self) -> str:
        what = f"rule {self.rule} of {self.model}" if self.rule else self.model
        return f"{what} snoozed until {self.until} by {self.by}: {self.reason}"


def _row(r) -> Snooze:
    return Snooze(r["id"], r["model"], r["rule"], r["until"], r["reason"], r["by"], r["created_at"],
                  r["cleared_at"], r["cleared_by"])


def add(history: History, model: str, until: _dt.datetime, reason: str, by: str, rule: str | None = None,
        now: _dt.datetime | None = None) -> Snooze:
    """Record a snooze; ``until`` must be in the future and ``reason`` not empty."""
    now = now or utcnow()
    if until <= now:
        raise SelectionError(f"--until {iso(until)} is not in the future (now is {iso(now)} UTC).")
    if not reason.strip():
        raise SelectionError("A snooze needs a --reason (who reads the history will want to know why).")
    with history.connect() as con:
        cur = con.execute("INSERT INTO snoozes (model, rule, until, reason, by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                          (model, rule, iso(until), reason.strip(), by, iso(now)))
        r = con.execute("SELECT * FROM snoozes WHERE id = ?", (cur.lastrowid,)).fetchone()
    return _row(r)


def listed(history: History, model: str | None = None, now: _dt.datetime | None = None,
           include_past: bool = False) -> tuple[Snooze, ...]:
    """The snoozes in force at ``now`` (with ``include_past``: every one recorded)."""
    if not history.path.is_file():
        return ()
    now = now or utcnow()
    with history.connect(write=False) as con:
        rows = [_row(r) for r in con.execute("SELECT * FROM snoozes WHERE (? IS NULL OR model = ?) ORDER BY id",
                                             (model, model))]
    return tuple(s for s in rows if include_past or s.active(now))


def clear(history: History, model: str, by: str, rule: str | None = None,
          now: _dt.datetime | None = None) -> int:
    """End the snoozes in force on ``model`` (only those of ``rule`` when given);
    returns how many were cleared."""
    now = now or utcnow()
    with history.connect() as con:
        cur = con.execute("UPDATE snoozes SET cleared_at = ?, cleared_by = ? WHERE model = ? AND cleared_at IS NULL "
                          "AND until > ? AND (? IS NULL OR rule = ?)", (iso(now), by, model, iso(now), rule, rule))
        return cur.rowcount


def active_on(con, model: str, now: _dt.datetime) -> tuple[Snooze, ...]:
    """Within an open history connection: the snoozes of ``model`` in force at ``now``."""
    return tuple(_row(r) for r in con.execute(
        "SELECT * FROM snoozes WHERE model = ? AND cleared_at IS NULL AND until > ? ORDER BY id", (model, iso(now))))


def silenced(snoozes: Sequence[Snooze]) -> tuple[bool, frozenset[str]]:
    """(whole model snoozed, the rules snoozed)."""
    return any(s.rule is None for s in snoozes), frozenset(s.rule for s in snoozes if s.rule)
