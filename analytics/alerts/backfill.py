"""Past days' verdicts, so that a new installation starts with a history.

The verdict of day D is :func:`analytics.analyses.health.model_health` with ``now = D``
(its current window is the 7 days ending with D) on the log **as it was at the
end of D**: predictions made before D + 1 day, and only the labels known by then
(an outcome whose ``label_timestamp`` is at or after D + 1 day counts as not yet
arrived; an outcome without a label timestamp counts as known when its prediction
was made). :class:`AsOf` is the engine that serves that log: every query of the
health rules, metrics, drift and value reads it through ``engine.log``.

One limit: the joined log keeps the latest outcome of a prediction id; a label
corrected after D is therefore missing on D rather than shown as first recorded
(0.2% of the sample's outcomes).
"""

from __future__ import annotations

import datetime as _dt
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Sequence

import ibis

from analytics.alerts.history import History, iso, utcnow
from analytics.analyses.health import checked_health, unreadable
from analytics.config.workspace import ModelSpec
from analytics.errors import LastmileError
from analytics.log.columns import C
from analytics.log.engine import Engine

DAY = _dt.timedelta(days=1)


class AsOf:
    """An :class:`~analytics.log.engine.Engine` whose logs end at ``end`` (naive UTC):
    rows predicted before it, labels known before it. Everything else is the
    wrapped engine's (one connection, one snapshot per model)."""

    def __init__(self, engine: Engine, end: _dt.datetime, logs: dict | None = None):
        self._engine = engine
        self.end = end
        self._logs: dict[str, object] = dict(logs or {})

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def snapshotted(self, model) -> bool:
        """Always: every reader goes through :meth:`log` (never the raw files)."""
        return True

    def log(self, model):
        spec = self._engine.spec(model)
        if spec.name not in self._logs:
            self._logs[spec.name] = self.view(spec)
        return self._logs[spec.name]

    def view(self, spec: ModelSpec):
        """The log of ``spec`` as it was at :attr:`end` (an expression over today's)."""
        t = self._engine.log(spec)
        end = ibis.literal(self.end)
        t = t.filter(t[C.TS] < end)
        if C.LABEL_TS in t.columns:
            known = t[C.LABEL_TS].isnull() | (t[C.LABEL_TS] < end)
            t = t.mutate(**{C.LABEL: ibis.ifelse(known, t[C.LABEL], ibis.null().cast(t[C.LABEL].type())),
                            C.LABELED: t[C.LABELED] & known})
        return t


@contextmanager
def as_of(engine: Engine, spec: ModelSpec, end: _dt.datetime):
    """An :class:`AsOf` engine for ``spec`` whose log is computed once into a temporary
    table (DuckDB; elsewhere the expression), so each query compiles as fast as today's."""
    view = AsOf(engine, end)
    with engine.temporary(view.view(spec), spec) as table:
        yield AsOf(engine, end, {spec.name: table})


def _span(engine: Engine, spec: ModelSpec) -> tuple[_dt.date | None, _dt.date | None]:
    """The days of the first and latest prediction (``(None, None)``: no rows, or logs
    that cannot be read: each day's check then says which)."""
    try:
        t = engine.log(spec)
        row = engine.execute(t.aggregate(lo=t[C.TS].min(), hi=t[C.TS].max()), spec).to_pylist()[0]
    except LastmileError:
        return None, None
    return (row["lo"].date() if row["lo"] else None, row["hi"].date() if row["hi"] else None)


def last_day(engine: Engine, specs: Sequence[ModelSpec]) -> _dt.date | None:
    """The day of the latest prediction among ``specs``."""
    return max((d for d in (_span(engine, s)[1] for s in specs) if d is not None), default=None)


def backfill(engine: Engine, specs: Sequence[ModelSpec], since: _dt.date, until: _dt.date,
             state_dir: str | Path, by: str | None = None, every: int = 1,
             progress: Callable[[str], None] | None = None) -> list[dict]:
    """Judge each day from ``since`` to ``until`` (inclusive, every ``every`` days) as
    of its end and record it (a day backfilled again is replaced); a model is judged
    from the day of its first prediction on. Returns the recorded rows ``{"model",
    "day", "status", "reasons"}``."""
    history = History.in_state_dir(state_dir)
    first = {spec.name: _span(engine, spec)[0] for spec in specs}
    out = []
    day = since
    started = time.monotonic()
    while day <= until:
        start = _dt.datetime(day.year, day.month, day.day)
        verdicts = []
        for spec in specs:
            if first[spec.name] is not None and first[spec.name] > day:
                continue        # before its first prediction (unreadable logs: judged, status error)
            try:
                with as_of(engine, spec, start + DAY) as view:
                    verdicts.append(checked_health(view, spec, start).to_dict())
            except LastmileError as exc:   # the logs cannot be read: that day's verdict is error
                verdicts.append(unreadable(spec.name, exc).to_dict())
        if not verdicts:
            day += every * DAY
            continue
        with history.connect() as con:
            run = history.start_run(con, "backfill", by, False, utcnow())
            for v in verdicts:
                history.add_verdict(con, run, v, iso(start + DAY), replace_backfill=True, event="backfill")
        for v in verdicts:
            out.append({"model": v["model"], "day": day.isoformat(), "status": v["status"],
                        "reasons": list(dict.fromkeys(r["rule"] for r in v["reasons"] if r["level"] != "info"))})
        if progress:
            progress(f"backfill {day.isoformat()}: " + ", ".join(f"{v['model']} {v['status']}" for v in verdicts)
                     + f" ({time.monotonic() - started:.0f} s)")
        day += every * DAY
    return out
