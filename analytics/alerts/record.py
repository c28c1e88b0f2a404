"""One ``check`` run into the history, and (with ``--notify``) its messages out:
the verdicts are written first (one short transaction), the channels are called
with no lock held, then what they answered is written (a second transaction)."""

from __future__ import annotations

import datetime as _dt
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from analytics.alerts.history import History, iso, utcnow
from analytics.alerts.notify import Outcome, notify_models, recommendations_of
from analytics.alerts.secrets import Redactor, redactor_for
from analytics.alerts.snooze import active_on
from analytics.config.notify import notify_settings
from analytics.config.workspace import Workspace


@dataclass(frozen=True)
class Recorded:
    history: Path
    outcomes: tuple[Outcome, ...]
    redact: Redactor

    @property
    def failed(self) -> bool:
        return any(not d.ok for o in self.outcomes for d in o.deliveries)


def as_of(model: Mapping[str, Any], now: _dt.datetime) -> str:
    """The time a verdict describes: the end of its current window (the end of the last
    day of data it judged), else the check's own time."""
    end = (model.get("windows") or {}).get("current", {}).get("end")
    return str(end) if end else iso(now)


def record_check(ws: Workspace, payload: Mapping[str, Any], state_dir: str | Path, *, notify: bool = False,
                 environ: Mapping[str, str] | None = None, now: _dt.datetime | None = None,
                 by: str | None = None, sleep: Callable[[float], None] = time.sleep) -> Recorded:
    """Record every model of the check JSON ``payload``; with ``notify``, decide and
    send what changed (see :mod:`analytics.alerts.notify`)."""
    environ = os.environ if environ is None else environ
    now = now or utcnow()
    history = History.in_state_dir(state_dir)
    models = list(payload.get("models", ()))
    settings = notify_settings(ws) if notify else None
    redact = redactor_for(settings, environ) if settings else Redactor()
    ends = {m["model"]: as_of(m, now) for m in models}
    with history.connect() as con:
        run = history.start_run(con, "check", by, notify, now)
        ids = {m["model"]: history.add_verdict(con, run, m, ends[m["model"]], now,
                                               recommendations=recommendations_of(payload, m)) for m in models}
        lasts = {m["model"]: history.last_told(con, m["model"]) for m in models} if notify else {}
        snoozes = {m["model"]: active_on(con, m["model"], now) for m in models} if notify else {}
    if not notify:
        return Recorded(history.path, (), redact)
    outcomes = notify_models(payload, settings, environ, lasts, snoozes, ends, now, redact, sleep)
    with history.connect() as con:
        for o in outcomes:
            vid = ids[o.decision.model]
            event = o.decision.event if o.channels or not o.decision.sends else "no_channel"
            history.set_outcome(con, vid, event, o.told)
            for d in o.deliveries:
                history.add_notification(con, vid, o.decision.model, d.channel, o.decision.event, d.ok,
                                         d.attempts, redact(d.error), utcnow())
    return Recorded(history.path, outcomes, redact)
