"""Plotly figures to vector SVG through kaleido, with ONE browser per report.

kaleido 1.x drives a headless Chromium. Starting it (and loading plotly.js into
its page) costs a few seconds, so a report starts the browser once, in a
background thread with its own event loop, as soon as it knows it will draw
charts. Each figure is handed to that loop the moment a section queues it
(:meth:`ChartSet.add` returns a placeholder), so browser start-up and drawing
overlap the report's queries; :meth:`ChartSet.render` only waits for the
drawings still running and fills each placeholder's ``svg``.

kaleido's own ``start_sync_server`` is not used: it is one browser per process
(the dashboard may build two reports at once) and a browser that fails to start
leaves its callers waiting forever; here a failed start is an error after
:data:`TIMEOUT` seconds at most.

Everything the browser writes to disk lives in ONE folder of ours,
``$TMPDIR/lastmile-charts-*`` (:class:`_Browser`): kaleido's page (``index.html``),
Chromium's profile, and Chromium's own temporary files (its ``TMPDIR`` points
there). :meth:`_Browser.close` removes the folder after the browser has stopped,
even when Chromium was killed before it could tidy up (a report ended by SIGTERM
while the browser was starting, see :mod:`analytics.cli.commands.report`).

The browser is looked up explicitly (:func:`find_browser`): an explicit path, or
the usual Chromium/Chrome names on ``PATH``. kaleido never downloads one here
(``kaleido.get_chrome()`` is never called); a missing browser is a
:class:`~analytics.errors.DependencyError` that says how to install it.
"""

from __future__ import annotations

import asyncio
import copy
import os
import shutil
import tempfile
import threading
from pathlib import Path
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from analytics.errors import DependencyError

#: Executable names tried on ``PATH`` when no browser path is given, in order.
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
#: Seconds allowed for the browser to start, and for any one figure to render.
TIMEOUT = 60.0
#: Fonts of the charts: the same families the report's CSS uses (embedded in the PDF).
CHART_FONT = "Liberation Sans, DejaVu Sans, sans-serif"
INSTALL_HINT = ("install it with `apt-get install chromium` (Debian/Ubuntu) or your system's "
                "package manager, or use --no-charts for a report with tables only")


#: how often a figure is asked again while kaleido's page is still loading its scripts
LOAD_RETRIES = 3


def find_browser(path: str | os.PathLike | None = None) -> str:
    """The Chromium executable that draws the charts.

    ``path`` names it explicitly (it must exist and be executable); otherwise the
    first of :data:`BROWSER_NAMES` found on ``PATH`` is used.
    """
    if path is not None:
        p = os.fspath(path)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
        raise DependencyError(f"Charts need Chromium, but there is no executable browser at {p!r}; {INSTALL_HINT}.")
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise DependencyError(f"Charts need Chromium, which was not found on PATH; {INSTALL_HINT}.")


@dataclass(eq=False)
class Chart:
    """A queued figure; ``svg`` is set by :meth:`ChartSet.render`."""

    figure: Any
    width: int
    height: int
    alt: str
    svg: str | None = None
    pending: Future | None = field(default=None, repr=False)


def _style(fig: Any, width: int, height: int) -> Any:
    """A copy of ``fig`` in the report's look (fonts, white background, size).

    Only presentation changes: the data, axes and titles set by the chart
    function (shared with the app) are kept.
    """
    out = copy.deepcopy(fig)
    out.update_layout(width=width, height=height, font=dict(family=CHART_FONT, size=11, color="#1f2937"),
                      paper_bgcolor="white", plot_bgcolor="white")
    out.update_xaxes(gridcolor="#e5e7eb", linecolor="#9ca3af", zerolinecolor="#d1d5db")
    out.update_yaxes(gridcolor="#e5e7eb", linecolor="#9ca3af", zerolinecolor="#d1d5db")
    # interval bands are filled outlines: draw them without the markers scatter traces default to
    out.update_traces(selector=dict(type="scatter", fill="toself"), mode="lines")
    return out


async def svg_of(k, fig, width: int, height: int) -> str:
    """The SVG text of ``fig`` drawn by the open kaleido ``k``. On a busy machine kaleido's
    page can be asked before its scripts ran ("ReferenceError: kaleido_scopes is not
    defined"): then wait and ask again, up to :data:`LOAD_RETRIES` times."""
    for attempt in range(LOAD_RETRIES + 1):
        try:
            data = await k.calc_fig(fig, opts={"format": "svg", "width": width, "height": height})
            break
        except Exception as exc:
            if attempt == LOAD_RETRIES or "is not defined" not in str(exc):
                raise
            await asyncio.sleep(0.5 * (attempt + 1))
    return data.decode("utf-8") if isinstance(data, bytes) else str(data)


def _kaleido_class(kaleido: type) -> type:
    """kaleido's ``Kaleido``, but keeping its page between figures.

    kaleido reloads the page (and with it plotly.js, 3.5 MB) after every figure, to
    start each from a clean state: 0.12 s of the 0.17 s a report chart takes.
    ``Plotly.toImage`` draws each figure in a fresh element that it removes, so
    this subclass hands the page back as it is (tests check that the SVGs are the
    same). It overrides a private method of kaleido 1.x; where that method is not
    there (another kaleido), kaleido's own class is used, reloads included.
    """
    if not (hasattr(kaleido, "_return_kaleido_tab") and hasattr(kaleido, "_get_kaleido_tab")):
        return kaleido

    class KeepPage(kaleido):
        async def _return_kaleido_tab(self, tab) -> None:
            await self.tabs_ready.put(tab)

    return KeepPage


#: Chromium puts a Unix socket at ``$TMPDIR/org.chromium.Chromium.XXXXXX/SingletonSocket``
#: and does not start when that path is longer than a socket path may be (107 bytes).
_SOCKET_TAIL = len("/org.chromium.Chromium.XXXXXX/SingletonSocket")
_SOCKET_MAX = 107


def _chromium_class(tmp: str) -> type | None:
    """choreographer's Chromium, with its ``TMPDIR`` set to ``tmp``. None (Chromium's
    own temporary files go to the inherited ``TMPDIR``) when ``tmp`` is too long a
    path for Chromium's socket, or choreographer is not the one kaleido 1.x uses."""
    if len(os.fsencode(tmp)) + _SOCKET_TAIL > _SOCKET_MAX:
        return None
    try:
        from choreographer.browsers import Chromium
    except ImportError:  # pragma: no cover - kaleido 1.x depends on choreographer
        return None
    if not hasattr(Chromium, "get_env"):  # pragma: no cover - another choreographer
        return None

    class OwnTmpChromium(Chromium):
        def get_env(self):
            env = dict(super().get_env())
            env["TMPDIR"] = tmp
            return env

    return OwnTmpChromium


class _Browser:
    """One kaleido browser living in a background thread's event loop; its files in
    one temporary folder of ours (``self.folder``), removed by :meth:`close`."""

    def __init__(self, browser: str):
        from kaleido import Kaleido, PageGenerator  # heavy import: only when charts are drawn

        # a snap-packaged Chromium cannot see /tmp (choreographer uses the home folder then)
        self.folder = tempfile.mkdtemp(prefix="lastmile-charts-",
                                       dir=str(Path.home()) if "snap" in browser else None)
        try:
            index = Path(self.folder) / "index.html"
            index.write_text(PageGenerator(mathjax=False).generate_index(), encoding="utf-8")
            kwargs = {"page_generator": index, "tmp_dir": self.folder}
            own = _chromium_class(self.folder)
            if own is not None:
                kwargs["browser_cls"] = own
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, name="lastmile-kaleido", daemon=True)
            self._thread.start()
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        self._browser = browser

        async def _open():
            k = _kaleido_class(Kaleido)(path=browser, n=1, **kwargs)
            await k.open()
            return k

        self._kaleido: Future = asyncio.run_coroutine_threadsafe(_open(), self._loop)

    def _ready(self):
        try:
            return self._kaleido.result(TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - any start failure means no usable browser
            raise DependencyError(f"Charts need Chromium, but the browser at {self._browser!r} did not start "
                                  f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no detail'}); "
                                  f"{INSTALL_HINT}.") from None

    def draw(self, chart: Chart) -> Future:
        """Start drawing ``chart`` (once the browser is up); a future of its SVG text."""
        opened = self._kaleido
        fig = _style(chart.figure, chart.width, chart.height)

        async def _draw():
            return await svg_of(await asyncio.wrap_future(opened), fig, chart.width, chart.height)

        return asyncio.run_coroutine_threadsafe(_draw(), self._loop)

    def result(self, pending: Future) -> str:
        """The SVG of a drawing started by :meth:`draw` (a browser that never started is a
        DependencyError)."""
        self._ready()
        return pending.result(TIMEOUT)

    def close(self) -> None:
        """Stop the browser (waiting for it to finish starting, so no process is left behind)."""
        try:
            try:
                k = self._kaleido.result(TIMEOUT)
            except Exception:  # noqa: BLE001 - it never started: nothing to stop
                k = None
            if k is not None:
                asyncio.run_coroutine_threadsafe(k.close(), self._loop).result(TIMEOUT)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(TIMEOUT)
            if not self._thread.is_alive():
                self._loop.close()
            # the page, the profile and Chromium's own files (left when it was killed)
            shutil.rmtree(self.folder, ignore_errors=True)


def charts_in(value: Any) -> list[Chart]:
    """The charts queued in ``value`` (sections: dicts and lists holding :class:`Chart` values)."""
    if isinstance(value, Chart):
        return [value]
    if isinstance(value, dict):
        return [c for v in value.values() for c in charts_in(v)]
    if isinstance(value, (list, tuple)):
        return [c for v in value for c in charts_in(v)]
    return []


@dataclass
class ChartSet:
    """The charts of one report: drawn by one browser while the sections are built.

    ``enabled=False`` (``--no-charts``) collects nothing: :meth:`add` returns
    ``None`` and templates show tables only. With charts on, the browser is
    started at construction (in the background) so that its start-up overlaps
    the queries; use the set as a context manager so the browser always stops.
    """

    enabled: bool = True
    browser_path: str | os.PathLike | None = None
    charts: list[Chart] = field(default_factory=list)
    _browser: _Browser | None = None

    def __post_init__(self):
        if self.enabled:
            self._browser = _Browser(find_browser(self.browser_path))

    def add(self, figure: Any, alt: str, width: int = 720, height: int = 300) -> Chart | None:
        """Queue ``figure`` (a plotly Figure) and start drawing it; ``None`` when charts are off."""
        if not self.enabled or figure is None or self._browser is None:
            return None
        chart = Chart(figure=figure, width=width, height=height, alt=alt)
        chart.pending = self._browser.draw(chart)
        self.charts.append(chart)
        return chart

    def render(self, charts: list[Chart] | None = None) -> None:
        """Wait for the SVG of ``charts`` (default: every queued chart)."""
        for c in self.charts if charts is None else charts:
            if c.svg is None and c.pending is not None and self._browser is not None:
                c.svg = self._browser.result(c.pending)

    def close(self) -> None:
        if self._browser is not None:
            browser, self._browser = self._browser, None
            browser.close()

    def __enter__(self) -> "ChartSet":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
