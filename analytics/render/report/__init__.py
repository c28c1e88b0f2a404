"""The executive PDF report: one model, or the portfolio of every model.

``build_report`` gathers each section's numbers from the same library functions
the CLI and the app use (the metrics registry, drift, value, compare, health,
segments modules: nothing is recomputed here), draws the charts with the app's
chart functions as vector SVG (kaleido, one browser for the whole report),
fills the Jinja2 templates under ``templates/`` and typesets them with
WeasyPrint, in parts and in a helper process while the queries run (see
:mod:`.typeset`): the method notes at once, each chapter of a model as soon as
its sections and charts are ready, the cover last.

The report period: ``start`` (inclusive) and ``end`` (exclusive) as for every
command. When ``end`` is not given it is the day after the model's last
prediction; when ``start`` is not given the period is the :data:`DEFAULT_DAYS`
days before ``end`` (never before the first prediction). KPIs are compared
with the previous period of equal length, ``[start - (end - start), start)``.

Each section is a builder ``(ModelInput) -> dict`` (see :mod:`.sections`);
its dict feeds the section's template. A section whose data cannot be computed
(no labels, no business values, one version only) says why instead of showing
an empty table or chart.
"""

from __future__ import annotations

import datetime as _dt
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from typing import TYPE_CHECKING

from analytics.config.times import parse_time
from analytics.config.workspace import ModelSpec, Workspace
from analytics.errors import EmptySelectionError, LastmileError
from analytics.log.columns import C
from .pdf import paper_size, render_html
from .svg import ChartSet, charts_in

if TYPE_CHECKING:  # the engine (Ibis) is imported where it is used: the typesetting helper imports this package
    from analytics.log.engine import Engine
    from analytics.query.selection import Selection

__all__ = ["build_report", "check_output_path", "write_report", "model_input", "report_specs", "DEFAULT_DAYS",
           "ModelInput", "Press", "Timings"]

#: Length of the report period when no start is given (four whole weeks).
DEFAULT_DAYS = 28

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Span:
    """What a model's whole log covers (one aggregate query)."""

    n: int
    first: _dt.datetime | None
    last: _dt.datetime | None


@dataclass
class ModelInput:
    """Everything a section builder needs for one model."""

    engine: Engine
    spec: ModelSpec
    span: Span
    selection: Selection            # the report period
    previous: Selection | None      # the previous period of equal length (None: no data before start)
    charts: ChartSet
    generated_at: _dt.datetime
    state_dir: Path | None = None   # the workspace's state folder (the verdict history); None: none given

    @property
    def model(self) -> str:
        return self.spec.name


@dataclass
class Timings:
    """Seconds spent per phase of a report (for bench/bench_report.py): building the
    sections (queries; meanwhile the browser draws the charts and the helper typesets
    each finished chapter), then finishing the PDF (the last parts, the page numbers,
    joining them)."""

    queries: float = 0.0
    pdf: float = 0.0


def model_span(engine: Engine, spec: ModelSpec) -> Span:
    """Row count and first/last prediction time of ``spec``'s whole log."""
    t = engine.log(spec)
    row = engine.execute(t.aggregate(n=t.count(), first=t[C.TS].min(), last=t[C.TS].max()), spec).to_pylist()[0]
    return Span(n=int(row["n"] or 0), first=row["first"], last=row["last"])


def _midnight(ts: _dt.datetime) -> _dt.datetime:
    return _dt.datetime(ts.year, ts.month, ts.day)


def report_period(span: Span, start=None, end=None, days: int = DEFAULT_DAYS
                  ) -> tuple[_dt.datetime | None, _dt.datetime | None]:
    """The report's ``[start, end)``: given bounds, else the last ``days`` whole days of data."""
    s, e = parse_time(start, "--start"), parse_time(end, "--end")
    if e is None and span.last is not None:
        e = _midnight(span.last) + _dt.timedelta(days=1)
    if s is None and e is not None:
        s = e - _dt.timedelta(days=days)
        if span.first is not None:
            s = max(s, _midnight(span.first))
    if s is not None and e is not None and s >= e:
        raise LastmileError(f"The report period is empty: start {s} is not before end {e}.")
    return s, e


def period_of(engine: Engine, model: str | ModelSpec, start=None, end=None
              ) -> tuple[_dt.datetime, _dt.datetime]:
    """The ``[start, end)`` that a report of ``model`` with these bounds covers: what
    :func:`build_report` will put on its cover (the Report page shows it before the
    build, and names the file after it)."""
    spec = engine.spec(model)
    span = model_span(engine, spec)
    if span.first is None:
        raise EmptySelectionError(f"Model {spec.name!r} has no predictions to report on.")
    s, e = report_period(span, start, end)
    return s, e


def file_name(model: str | None, start: _dt.datetime | None, end: _dt.datetime | None) -> str:
    """``<model>_<start>_<end>.pdf`` (the last day included, as on the cover); the
    portfolio is ``portfolio_...``. Characters other than letters, digits, ``-``,
    ``_`` and ``.`` become ``_`` so a model name can never make a path."""
    import re

    last = end - _dt.timedelta(days=1) if end else None
    parts = [model or "portfolio", start.date().isoformat() if start else "first",
             last.date().isoformat() if last else "last"]
    return re.sub(r"[^A-Za-z0-9._-]", "_", "_".join(parts)) + ".pdf"


def model_input(engine: Engine, spec: ModelSpec, charts: ChartSet, generated_at: _dt.datetime,
                start=None, end=None, state_dir: str | os.PathLike | None = None) -> ModelInput:
    """Resolve ``spec``'s report period and the previous period of equal length."""
    from analytics.query.selection import Selection  # lazy: Ibis, see the TYPE_CHECKING note

    span = model_span(engine, spec)
    if span.first is None:
        raise EmptySelectionError(f"Model {spec.name!r} has no predictions to report on.")
    s, e = report_period(span, start, end)
    if (e is not None and e <= span.first) or (s is not None and s > span.last):
        raise EmptySelectionError(
            f"Model {spec.name!r} has no predictions from {s.date() if s else '…'} to {e.date() if e else '…'}; "
            f"its data runs from {span.first.date()} to {span.last.date()}.")
    selection = Selection.build(spec.name, start=s, end=e)
    previous = None
    if s is not None and e is not None and span.first is not None and span.first < s:
        previous = Selection.build(spec.name, start=s - (e - s), end=s)
    return ModelInput(engine=engine, spec=spec, span=span, selection=selection, previous=previous,
                      charts=charts, generated_at=generated_at, state_dir=state_dir and Path(state_dir))


def check_output_path(path: str | os.PathLike) -> Path:
    """``path`` if a PDF can be written there; else a clear error (call it before any work)."""
    p = Path(path).expanduser()
    if p.is_dir():
        raise LastmileError(f"Cannot write the report to {str(p)!r}: it is a folder; give a file name such as report.pdf.")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise LastmileError(f"Cannot write the report to {str(p)!r}: folder {str(parent)!r} does not exist.")
    if p.exists() and not os.access(p, os.W_OK):
        raise LastmileError(f"Cannot write the report to {str(p)!r}: the file is not writable.")
    if not p.exists() and not os.access(parent, os.W_OK | os.X_OK):
        raise LastmileError(f"Cannot write the report to {str(p)!r}: folder {str(parent)!r} is not writable.")
    return p


def write_report(path: str | os.PathLike, data: bytes) -> Path:
    """Write the PDF bytes to ``path`` (checked with :func:`check_output_path`)."""
    p = check_output_path(path)
    try:
        p.write_bytes(data)
    except OSError as exc:
        raise LastmileError(f"Cannot write the report to {str(p)!r}: {exc.strerror or exc}.") from None
    return p


def report_specs(workspace: Workspace, model: str | None) -> list[ModelSpec]:
    """The models a report covers: ``model``, or every model (``None``). An unknown model
    or a workspace without models is an error."""
    specs = [workspace.model(model)] if model is not None else list(workspace.models)
    if not specs:
        raise LastmileError("The workspace has no models to report on.")
    return specs


class Press:
    """What typesets one report: the typesetting helper processes (see :mod:`.typeset`)
    and the chart browser (see :mod:`.svg`), both started at construction, in the
    background.

    Both take a second or two to start. :func:`build_report` makes its own press, but a
    caller with other work to do first (the CLI checks the logs) can make it earlier and
    pass it in, so that they start up meanwhile. A press serves one report; use it as a
    context manager so the helpers and the browser always stop. A bad paper name or a
    missing browser (with charts on) is an error here, before any work.
    """

    def __init__(self, paper: str = "A4", charts: bool = True, *,
                 browser_path: str | os.PathLike | None = None, helpers: int | None = None):
        from .typeset import HELPERS, Typesetter  # lazy: WeasyPrint, loaded by the press only

        self.paper = paper_size(paper)
        self.charts_on = charts
        self.charts = ChartSet(enabled=charts, browser_path=browser_path)  # no browser: an error, nothing started
        try:
            self.typesetter = Typesetter(self.paper, helpers=HELPERS if helpers is None else helpers)
        except BaseException:
            self.charts.close()
            raise

    def close(self) -> None:
        try:
            self.charts.close()
        finally:
            self.typesetter.close()

    def __enter__(self) -> "Press":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def build_report(engine: Engine, model: str | None = None, start=None, end=None, paper: str = "A4",
                 charts: bool = True, progress: Progress | None = None, *,
                 browser_path: str | os.PathLike | None = None, now: _dt.datetime | None = None,
                 timings: Timings | None = None, typeset_helpers: int | None = None,
                 press: Press | None = None, state_dir: str | os.PathLike | None = None) -> bytes:
    """The PDF report of ``model`` (``None``: every model of the workspace) as bytes.

    ``charts=False`` leaves the charts out (no browser needed). ``browser_path``
    names the Chromium executable explicitly (default: looked up on ``PATH``).
    ``progress`` receives one short line per step. ``now`` fixes the
    "generated at" time (UTC); ``timings``, when given, receives the seconds
    spent on queries, charts and typesetting. ``typeset_helpers`` is the number of
    helper processes that typeset the parts (default :data:`.typeset.HELPERS`; 0
    typesets in this process; the PDF is the same, see :mod:`.typeset`).

    ``press``: a :class:`Press` made earlier (its paper, charts, browser and helpers
    are used; the arguments of the same names are ignored). It is closed on return.
    ``state_dir``: the workspace's state folder, whose verdict history the incidents
    section reads (None: the section says no history was given).
    """
    # an unknown model or an empty workspace fails before anything starts
    specs = report_specs(engine.workspace, model)
    if press is None:  # bad paper names and a missing browser fail here, before any query
        press = Press(paper, charts, browser_path=browser_path, helpers=typeset_helpers)
    with press:
        return _build(engine, specs, model is None, start, end, press, progress, now, timings, state_dir)


def _build(engine: Engine, specs: list[ModelSpec], portfolio: bool, start, end, press: Press,
           progress: Progress | None, now: _dt.datetime | None, timings: Timings | None,
           state_dir: str | os.PathLike | None = None) -> bytes:
    from . import sections  # lazy: the analyses and charts, after the press has started

    say = progress or (lambda _msg: None)
    timings = timings if timings is not None else Timings()
    charts, typesetter, chart_set = press.charts_on, press.typesetter, press.charts
    generated_at = (now or _dt.datetime.now(_dt.timezone.utc)).replace(microsecond=0)
    title = sections.report_title([s.name for s in specs], portfolio=portfolio)
    common = {"portfolio": portfolio, "charts_on": charts, "title": title}

    def part_html(secs: list[dict], running: str | None) -> str:
        return render_html({**common, "sections": secs, "running": running}, "part.html.j2")

    t0 = time.perf_counter()
    # the method notes depend only on the models' tasks: typeset them while the queries run
    expected = sections.expected_notes(specs)
    typesetter.submit("notes", part_html([expected], title))
    order: list = ["cover"] if portfolio else []
    models = []
    for spec in specs:
        def on_part(index: int, secs: list[dict], name: str = spec.name) -> None:
            chart_set.render(charts_in(secs))  # a part is typeset with its charts drawn
            typesetter.submit((name, index), part_html(secs, None if index == 0 else name), nest=index > 0)

        say(f"{spec.name}: reading the log")
        try:
            mi = model_input(engine, spec, chart_set, generated_at, start, end, state_dir)
            report = sections.build_model(mi, say, cover_alone=not portfolio, on_part=on_part)
        except LastmileError as exc:
            if not portfolio:
                raise
            # a portfolio still reports on the other models; this one says what is wrong
            say(f"{spec.name}: {exc.message}")
            report = sections.failed_model(spec, exc.message)
            on_part(0, report.parts[0])
        models.append(report)
        order += [(spec.name, i) for i in range(len(report.parts))]
    if portfolio:
        typesetter.submit("cover", part_html([sections.portfolio_cover(models, generated_at=generated_at,
                                                                       charts=charts)], None))
    notes = sections.report_notes(models)
    if notes != expected:  # a model of the portfolio failed: fewer metrics to define
        typesetter.submit("notes", part_html([notes], title))
    chart_set.render()
    t1 = time.perf_counter()
    say("typesetting the PDF")
    # every chart is drawn: stop the browser while the parts are joined
    closing = threading.Thread(target=chart_set.close, name="lastmile-chart-close")
    closing.start()
    try:
        pdf = typesetter.finish(order + ["notes"], lambda pages: render_html({**common, "pages": pages},
                                                                              "frame.html.j2"))
    finally:
        closing.join()
    for failure in typesetter.failures:  # cost speed only; say so, for whoever wonders why
        say(f"typesetting in this process instead: {failure}")
    timings.queries, timings.pdf = t1 - t0, time.perf_counter() - t1
    return pdf
