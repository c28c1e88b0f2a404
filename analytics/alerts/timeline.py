"""The verdict history as status bands over time, for the dashboard and the PDF.

:func:`bands` turns recorded verdicts into runs of the same status and the same
reasons per model: a verdict ``as_of`` T describes the day ending at T, so a run of
verdicts covers from the first one's day start to the last one's T.
:func:`incidents` lists the bands that were not healthy, for the report;
:func:`analytics.render.charts.timeline.timeline_figure` draws them.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Sequence

DAY = _dt.timedelta(days=1)


@dataclass(frozen=True)
class Band:
    model: str
    start: _dt.datetime
    end: _dt.datetime
    status: str
    reasons: tuple[str, ...]          # the warn/pull/error sentences of the band's last verdict
    verdicts: int = 1

    def to_dict(self) -> dict:
        return {"model": self.model, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "status": self.status, "reasons": list(self.reasons), "verdicts": self.verdicts}


def _ts(text: str) -> _dt.datetime:
    return _dt.datetime.fromisoformat(text)


def bands(verdicts: Sequence) -> list[Band]:
    """Runs of equal status and reason rules, per model, in time order. ``verdicts``:
    :class:`~analytics.alerts.history.Verdict` objects (several at one ``as_of``: the
    latest checked counts)."""
    latest: dict[tuple[str, str], object] = {}
    for v in sorted(verdicts, key=lambda v: (v.model, v.as_of, v.checked_at, v.id)):
        latest[(v.model, v.as_of)] = v
    out: list[Band] = []
    for (model, _), v in sorted(latest.items()):
        notable = [r for r in v.reasons if r.get("level") in ("warn", "pull", "error")]
        rules = tuple(sorted({str(r.get("rule")) for r in notable}))
        end = _ts(v.as_of)
        prev = out[-1] if out and out[-1].model == model else None
        if prev is not None and prev.status == v.status and \
                tuple(sorted({_rule(m) for m in prev.reasons})) == rules and end - prev.end <= 8 * DAY:
            out[-1] = Band(model, prev.start, end, v.status, tuple(f"{r['rule']}: {r['message']}" for r in notable),
                           prev.verdicts + 1)
            continue
        start = prev.end if prev is not None and end - prev.end <= 8 * DAY else end - DAY
        out.append(Band(model, start, end, v.status, tuple(f"{r['rule']}: {r['message']}" for r in notable)))
    return out


def _rule(reason_text: str) -> str:
    return reason_text.split(":", 1)[0]


def incidents(all_bands: Sequence[Band], start: _dt.datetime | None = None,
              end: _dt.datetime | None = None) -> list[Band]:
    """The bands that were not healthy and overlap ``[start, end)``."""
    return [b for b in all_bands if b.status != "healthy"
            and (start is None or b.end > start) and (end is None or b.start < end)]
