"""The report's incidents section: the periods of the report window in which the
recorded verdicts (``lastmile check``, ``check --backfill``) were not healthy, each
with its reasons and the notifications sent (:mod:`analytics.alerts`).

The history is read from the state folder the caller gives (``ModelInput.state_dir``:
the CLI and the app pass the workspace's; it is never written here); a workspace with
no history says so, and how to make one.
"""

from __future__ import annotations

import datetime as _dt

from analytics.alerts.history import History
from analytics.alerts.timeline import DAY, bands, incidents

TITLE = "Incidents"
#: Reasons listed per incident (the rest are counted).
MAX_REASONS = 4


def incidents_section(mi, earlier=None) -> dict:
    out = {"template": "incidents.html.j2", "title": TITLE, "rows": [], "empty": None, "period": ""}
    sel = mi.selection
    verdicts = History.in_state_dir(mi.state_dir).verdicts(mi.model) if mi.state_dir else ()
    start, end = sel.start, sel.end
    out["period"] = " to ".join(x for x in (start and start.date().isoformat(),
                                             end and (end - DAY).date().isoformat()) if x) or "all data"
    if not verdicts:
        out["empty"] = ("No verdict of this model is recorded yet: each scheduled health check records one, and "
                        "past days can be filled in from the logs.")
        return out
    seen = [v for v in verdicts if (start is None or _dt.datetime.fromisoformat(v.as_of) > start)
            and (end is None or _dt.datetime.fromisoformat(v.as_of) - DAY < end)]
    found = incidents(bands(verdicts), start, end)
    told = {}
    for v in seen:
        for n in v.notifications:
            told.setdefault(v.as_of, []).append(f"{n['channel']} {'ok' if n['ok'] else 'failed'}")
    for b in found:
        shown = list(b.reasons[:MAX_REASONS])
        more = len(b.reasons) - len(shown)
        notes = sorted({t for a, ts in told.items() if b.start < _dt.datetime.fromisoformat(a) <= b.end for t in ts})
        out["rows"].append({"status": b.status, "start": b.start.date().isoformat(),
                            "end": (b.end - DAY).date().isoformat(),
                            "days": max(1, round((b.end - b.start) / DAY)), "reasons": shown,
                            "more": more, "notified": ", ".join(notes) or "none"})
    if not found:
        out["empty"] = (f"No incident: the {len(seen)} verdict{'s' if len(seen) != 1 else ''} recorded for this "
                        "period were all healthy." if seen else
                        "No verdict is recorded for this period (the history starts later or ended earlier).")
    return out
