"""The verdict history as status bands over time, for the dashboard and the PDF.

:func:`bands` turns recorded verdicts into runs of the same status and the same
reasons per model: a verdict ``as_of`` T describes the day ending at T, so a run of
verdicts covers from the first one's day start to the last one's T.
:func:`timeline_figure` draws them (pure: no query, no history read), with each
band's reasons on hover and the version releases (a version's first prediction)
marked. :func:`incidents` lists the bands that were not healthy, for the report.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Mapping, Sequence

import plotly.graph_objects as go

from ..charts.base import empty_figure, style, template_text, user_text

STATUS_COLORS = {"healthy": "#009E73", "warn": "#E69F00", "pull": "#D55E00", "error": "#CC79A7"}
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


@user_text
def timeline_figure(all_bands: Sequence[Band], releases: Mapping[str, Sequence[tuple[str, _dt.datetime]]]
                    | None = None, title: str | None = "Health over time", height: int | None = None) -> go.Figure:
    """Status bands per model (one row each), reasons on hover, releases marked."""
    if not all_bands:
        return empty_figure("No verdicts recorded yet: `lastmile check` records one per run, and "
                            "`lastmile check --backfill --since DATE` fills past days.", height=160)
    models = list(dict.fromkeys(b.model for b in all_bands))
    fig = go.Figure()
    for status, colour in STATUS_COLORS.items():
        bs = [b for b in all_bands if b.status == status]
        if not bs:
            continue
        hover = []
        for b in bs:
            lines = [template_text(r if len(r) < 160 else r[:157] + "...") for r in b.reasons[:6]]
            more = f"<br>... and {len(b.reasons) - 6} more" if len(b.reasons) > 6 else ""
            hover.append(f"<b>{template_text(b.model)}: {status}</b><br>{b.start:%Y-%m-%d} to "
                         f"{(b.end - DAY):%Y-%m-%d}<br>" + ("<br>".join(lines) or "every rule passes") + more)
        fig.add_trace(go.Bar(
            y=[b.model for b in bs], x=[(b.end - b.start).total_seconds() * 1000 for b in bs],
            base=[b.start.isoformat() for b in bs], orientation="h", name=status,
            marker=dict(color=colour, line=dict(width=1, color="white")), hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
        ))
    shown = False
    for m in models:
        rel = (releases or {}).get(m) or ()
        if not rel:
            continue
        fig.add_trace(go.Scatter(
            x=[t.isoformat() for _, t in rel], y=[m] * len(rel), mode="markers+text",
            text=[v for v, _ in rel], textposition="top center", name="release",
            legendgroup="release", showlegend=not shown,
            marker=dict(symbol="triangle-down", size=11, color="#1f2933"),
            hovertemplate="release of %{text}: first prediction %{x|%Y-%m-%d}<extra></extra>",
        ))
        shown = True
    fig.update_layout(barmode="overlay", bargap=0.35)
    fig.update_xaxes(type="date")
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(models)))
    style(fig, title=title, height=height or (110 + 48 * len(models)))
    fig.update_layout(hovermode="closest")
    return fig
