"""Many users at once: N concurrent browser sessions, each with its own filters, on one server.

Starts the dashboard (a Streamlit subprocess over the bundled sample, as
``tests/e2e/conftest.py`` does) and one headless Chromium with N browser
contexts (N Streamlit sessions). Session *i* opens the portfolio with its own
filters in the URL (model, versions, time range, a segment filter), then visits
every page twice through the sidebar navigation, as a user clicks (the session
and its filters stay; every page runs its queries for them). All sessions start
together.

A page is *loaded* when its title (``h1``) is the page's, Streamlit's script
state is ``notRunning``, no spinner is left, and nothing on the page changed
for 0.5 s (elements are drawn after the run's messages arrive, a session's first
tile, chart or date input only once its code is fetched; a page that reruns
changes within that); its time runs from the click (or the URL's ``goto``) to
the page's last change. Every loaded page is checked for

* errors: Streamlit exceptions (``stException``) and error messages
  (``stAlertContentError``: bad input and "this is a bug" sentences alike);
* cross-talk: the URL's filter parameters, the sidebar's model, time range and
  versions must be the session's own, the page must not name a model the
  session did not choose (except the portfolio, which shows them all), and the
  second visit of a page must show the same text as the first (numbers
  included).

Prints the median, p90 and worst page time, a per-page breakdown (first and
second visit), the server's peak resident memory and CPU seconds, and the
machine's load average before and after (the machine is shared: times scale
with it). Exit status 1 when a check failed. Bounded: every wait has a timeout
and the whole run stops after ``--budget`` seconds.

Usage: ``python bench/bench_load.py [--sessions 8] [--visits 2] [--pages overview,drift] [--settle 600]``
(``--settle``: the sessions start once the server has finished computing its answers ahead).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, free_port, wait_healthy  # noqa: E402

SAMPLE = ROOT / "sample_data" / "lastmile.toml"
MODELS = ("credit_default", "ticket_router", "delivery_eta")
#: url path -> the page's title (its h1), in the sidebar's order
PAGES = {"": "Portfolio", "overview": "Model overview", "segments": "Segments", "compare": "Compare versions",
         "drift": "Drift", "quality": "Data quality", "value": "Value", "operations": "Operations",
         "explore": "Explore", "report": "Report"}
#: Each session's own filters (URL parameters; dates inside the data so none is dropped as the default).
FILTERS = [
    {"model": "credit_default", "from": "2026-06-01"},
    {"model": "credit_default", "version": ["v1", "v2"], "from": "2026-07-20"},
    {"model": "credit_default", "version": ["v2", "v3"], "from": "2026-08-10", "to": "2026-10-31"},
    {"model": "credit_default", "where": "region=EU", "from": "2026-06-15"},
    {"model": "ticket_router", "from": "2026-06-08"},
    {"model": "ticket_router", "version": ["v1", "v2"], "from": "2026-08-24"},
    {"model": "delivery_eta", "from": "2026-06-01", "to": "2026-11-15"},
    {"model": "delivery_eta", "version": ["v1", "v2"], "from": "2026-10-19"},
]
#: The sidebar's page links (drawn by the app, each carrying the view's parameters); one per title.
NAV_LINK = '[data-testid="stSidebar"] [data-testid="stPageLink"] a'
TARGET_MEDIAN, TARGET_WORST = 2.0, 5.0
#: What a page shows, as text: headings, markdown, captions, tiles, alerts (not widget chrome, button labels or hover toolbars).
TEXT = """() => Array.from(document.querySelectorAll('[data-testid="stMain"] :is(h1, h2, h3, '
    + '[data-testid="stMarkdownContainer"]:not(button *), [data-testid="stCaptionContainer"], [data-testid="stMetricValue"], '
    + '[data-testid="stMetricDelta"], [data-testid="stAlertContainer"])')).map(e => e.innerText).join('\\n')"""

#: Installed in every page: the time of the last change to the document (elements are drawn
#: after the run's messages arrive, some only once their code is fetched: the first chart,
#: tile or date input of a session).
QUIET = """
window.__lmLast = Date.now();
new MutationObserver(() => { window.__lmLast = Date.now(); })
    .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
"""
#: The page ``title`` ran to its end: the time it last changed (else false).
LOADED = """([title]) => {
    const app = document.querySelector('[data-testid="stApp"]');
    const h1 = document.querySelector('h1');
    const done = app !== null && app.getAttribute('data-test-script-state') === 'notRunning'
        && h1 !== null && h1.innerText.trim() === title
        && document.querySelector('[data-testid="stSpinner"]') === null;
    return done ? window.__lmLast : false;
}"""
QUIET_MS = 500


class Requests:
    """The requests of a page in flight (the frontend fetches an element's code when first drawn)."""

    def __init__(self, page):
        self.pending: set = set()
        self.last = time.time()
        page.on("request", lambda r: self.pending.add(r))
        for ev in ("requestfinished", "requestfailed"):
            page.on(ev, self.done)

    def done(self, r) -> None:
        self.pending.discard(r)
        self.last = time.time()


async def loaded(page, title: str, t0: float, timeout: float) -> float:
    """Seconds from ``t0`` until ``title`` ran to its end and was drawn (its last DOM change or
    fetch, once there was none for ``QUIET_MS`` and no request is in flight)."""
    reqs = page._lm_requests
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        last = await page.evaluate(LOADED, [title])
        if last is not False:
            last = max(last / 1000, reqs.last)
            if not reqs.pending and time.time() - last >= QUIET_MS / 1000:
                return last - t0
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{title!r} did not load within {timeout:.0f} s")


def pctl(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, max(0, round(q * (len(v) - 1))))]


def serve(root: Path, config: Path, port: int, floor: bool = False) -> subprocess.Popen:
    """The dashboard of the checkout ``root`` as `lastmile serve` runs it (the filter-free
    answers computed ahead), or with ``floor`` the minimal app of ``bench/load_floor.py``."""
    env = dict(os.environ, LASTMILE_CONFIG=str(config), PYTHONPATH=str(root),
               LASTMILE_PRECOMPUTE=os.environ.get("LASTMILE_PRECOMPUTE", "1"))
    script = ROOT / "bench" / "load_floor.py" if floor else root / "app" / "main.py"
    cmd = [sys.executable, "-m", "streamlit", "run", str(script),
           "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    return subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def proc_stats(pid: int, skip: int | None = None) -> tuple[float, float]:
    """(sum of peak resident MB, user + system CPU seconds, reaped children included) of the
    process ``pid`` and its descendants (leaving out the tree of ``skip``)."""
    skipped = set(descendants(skip)) if skip else set()
    peak = cpu = 0.0
    for p in descendants(pid):
        if p in skipped:
            continue
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak += int(line.split()[1]) / 1024
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu += sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return peak, cpu


def as_params(flt: dict) -> dict[str, set[str]]:
    return {k: set(v) if isinstance(v, list) else {v} for k, v in flt.items()}


class Session:
    def __init__(self, idx: int, flt: dict, pages: list[str], visits: int):
        self.idx, self.flt, self.pages, self.visits = idx, flt, pages, visits
        self.times: list[tuple[str, int, float]] = []     # (page, visit, seconds)
        self.problems: list[str] = []
        self.texts: dict[str, str] = {}
        self.drawn = 0.0

    async def wait_loaded(self, page, title: str, t0: float, timeout: float) -> float:
        """Seconds from ``t0`` (``time.time()``) until the page ``title`` ran to its end and was drawn:
        its last change or fetch, once nothing changed and nothing was fetched for ``QUIET_MS``."""
        return await loaded(page, title, t0, timeout)

    async def check(self, page, path: str, visit: int) -> None:
        """Look for errors and cross-talk on the loaded page, once it showed the same for 1.5 s (an
        element whose code is fetched or parsed late is drawn after the last change the timing
        saw; ``self.drawn`` is then the time of the page's last change)."""
        main, last, calm = await page.evaluate(TEXT), await page.evaluate("window.__lmLast"), 0
        for _ in range(40):
            await page.wait_for_timeout(500)
            again, last2 = await page.evaluate(TEXT), await page.evaluate("window.__lmLast")
            calm = calm + 1 if (again, last2) == (main, last) else 0
            main, last = again, last2
            if calm >= 3:
                break
        self.drawn = last / 1000
        where = f"session {self.idx} /{path} visit {visit}"
        for sel, what in (('[data-testid="stException"]', "exception"),
                          ('[data-testid="stAlertContentError"]', "error")):
            loc = page.locator(sel)
            for i in range(await loc.count()):
                self.problems.append(f"{where}: {what}: {(await loc.nth(i).inner_text())[:300]}")
        # the URL carries this session's filters, not another's
        q = {k: set(v) for k, v in parse_qs(urlparse(page.url).query).items()}
        want = as_params(self.flt)
        got = {k: q.get(k, set()) for k in want}
        if got != want:
            self.problems.append(f"{where}: URL filters {got} are not the session's {want}")
        model = self.flt["model"]
        if path:  # every page but the portfolio shows this session's filter bar and its model only
            sidebar = page.locator('[data-testid="stSidebar"]')
            wanted = {"model": [model], "time range": [self.flt[k] for k in ("from", "to") if k in self.flt],
                      "versions": self.flt.get("version", [])}
            for _ in range(20):  # an input is filled once its code is fetched: empty means not drawn yet
                inputs = sidebar.locator('[data-testid="stDateInput"] input')
                shown = {
                    "model": await sidebar.locator('[data-testid="stSelectbox"] input').first.input_value(),
                    "time range": " ".join([await inputs.nth(i).input_value() for i in range(await inputs.count())]),
                    "versions": (await sidebar.locator('[data-testid="stMultiSelect"]').first.inner_text()
                                 if wanted["versions"] else ""),
                }
                if all(shown[k] for k in wanted if wanted[k]):
                    break
                await page.wait_for_timeout(500)
            for k, want in wanted.items():
                if not all(w in shown[k] for w in want):
                    self.problems.append(f"{where}: sidebar {k} {shown[k]!r} is not the session's {want}")
            others = [m for m in MODELS if m != model and m in main]
            if others:
                self.problems.append(f"{where}: the page names another model: {others}")
        if visit == 0:
            self.texts[path] = main
        elif self.texts.get(path) != main:
            a, b = self.texts.get(path, "").splitlines(), main.splitlines()
            diff = next(((x, y) for x, y in zip(a, b) if x != y), (len(a), len(b)))
            if os.environ.get("LOAD_DUMP"):
                Path(os.environ["LOAD_DUMP"]).mkdir(parents=True, exist_ok=True)
                for v, t in ((0, self.texts.get(path, "")), (1, main)):
                    Path(os.environ["LOAD_DUMP"], f"s{self.idx}_{path or 'portfolio'}_{v}.txt").write_text(t)
            self.problems.append(f"{where}: the page differs from its first visit: {diff}")

    async def run(self, browser, url: str, timeout: float) -> None:
        ctx = await browser.new_context(viewport={"width": 1440, "height": 1400})
        await ctx.add_init_script(QUIET)
        page = await ctx.new_page()
        page._lm_requests = Requests(page)
        page.set_default_timeout(timeout * 1000)
        try:
            first = True
            for visit in range(self.visits):
                for path in self.pages:
                    title = PAGES[path]
                    t0 = time.time()
                    if first:  # the session starts from a shared link with its filters
                        await page.goto(f"{url}/{path}?{urlencode(self.flt, doseq=True)}")
                        first = False
                    else:      # then clicks through the sidebar navigation (the app's links: app/components/nav.py)
                        await page.locator(NAV_LINK).filter(has_text=title).first.click()
                    secs = await self.wait_loaded(page, title, t0, timeout)
                    await self.check(page, path, visit)
                    # an element drawn after the page looked done (its code came late) counts too
                    self.times.append((path, visit, max(secs, self.drawn - t0)))
        except Exception as exc:  # noqa: BLE001 - a page that never loads is a finding, not a crash
            self.problems.append(f"session {self.idx}: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
        finally:
            await ctx.close()


async def warm_up(browser, url: str, timeout: float) -> float:
    """Seconds for the server's first page (imports, workspace, engine): the report page of the
    default model, which runs no query of the filters (not timed with the others)."""
    ctx = await browser.new_context()
    await ctx.add_init_script(QUIET)
    page = await ctx.new_page()
    page._lm_requests = Requests(page)
    t0 = time.time()
    await page.goto(f"{url}/report")
    secs = await loaded(page, PAGES["report"], t0, timeout)
    await ctx.close()
    return secs


async def settle(pid: int, limit: float) -> float:
    """Seconds until the server is idle (its answers computed ahead: under 0.05 CPU s in a
    second, three seconds running), at most ``limit``: a server started before its users
    arrive, as a team's is."""
    t0, quiet, last = time.monotonic(), 0, proc_stats(pid)[1]
    while time.monotonic() - t0 < limit and quiet < 3:
        await asyncio.sleep(1.0)
        now = proc_stats(pid)[1]
        quiet, last = (quiet + 1 if now - last < 0.05 else 0), now
    return time.monotonic() - t0


async def drive(url: str, sessions: list[Session], timeout: float, budget: float, on_start,
                settle_for: float = 0.0, pid: int = 0) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            print(f"server's first page (untimed warm-up): {await warm_up(browser, url, timeout):.1f} s", flush=True)
            if settle_for > 0:
                print(f"server idle (computing ahead done) after {await settle(pid, settle_for):.1f} s more", flush=True)
            on_start()
            await asyncio.wait_for(asyncio.gather(*(s.run(browser, url, timeout) for s in sessions)), budget)
        finally:
            await browser.close()


def report(sessions: list[Session], pages: list[str], wall: float) -> bool:
    times = [t for s in sessions for _, _, t in s.times]
    expected = sum(len(s.pages) * s.visits for s in sessions)
    print(f"\npage loads: {len(times)} of {expected} in {wall:.1f} s wall")
    if times:
        med, p90, worst = statistics.median(times), pctl(times, 0.9), max(times)
        print(f"page time: median {med:.2f} s, p90 {p90:.2f} s, worst {worst:.2f} s "
              f"(targets: median <= {TARGET_MEDIAN} s, worst <= {TARGET_WORST} s: "
              f"{'met' if med <= TARGET_MEDIAN and worst <= TARGET_WORST else 'NOT met'})")
        print(f"\n{'page':<12} {'1st median':>10} {'1st worst':>10} {'2nd median':>10} {'2nd worst':>10}")
        for path in pages:
            row = [path or "portfolio"]
            for visit in (0, 1):
                v = [t for s in sessions for p, vi, t in s.times if p == path and vi == visit]
                row += [f"{statistics.median(v):.2f}", f"{max(v):.2f}"] if v else ["-", "-"]
            print(f"{row[0]:<12} {row[1]:>10} {row[2]:>10} {row[3]:>10} {row[4]:>10}")
    problems = [p for s in sessions for p in s.problems]
    if len(times) < expected and not problems:
        problems.append(f"only {len(times)} of {expected} pages loaded (budget exhausted)")
    print(f"\nchecks: {'no error, no cross-talk' if not problems else f'{len(problems)} PROBLEMS'}")
    for p in problems[:40]:
        print("  " + p)
    return not problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--visits", type=int, default=2, help="how many times each session visits every page")
    ap.add_argument("--pages", default="", help="comma-separated url paths (portfolio = ''); default every page")
    ap.add_argument("--config", default=str(SAMPLE))
    ap.add_argument("--app", default=str(ROOT), help="the checkout whose dashboard is served (e.g. an older one)")
    ap.add_argument("--timeout", type=float, default=180, help="seconds a page may take")
    ap.add_argument("--budget", type=float, default=1200, help="seconds the whole run may take")
    ap.add_argument("--floor", action="store_true",
                    help="serve bench/load_floor.py (the pages' widgets, one chart and one table each, no analytics)")
    ap.add_argument("--settle", type=float, default=0.0,
                    help="after the warm-up, wait up to this many seconds for the server to go idle (its "
                         "answers computed ahead), as a server started before its users arrive; 0: start at once")
    ap.add_argument("--py-spy", default="", help="path of a py-spy executable: sample the server during the run")
    ap.add_argument("--py-spy-out", default=str(ROOT / "bench" / "results" / "load_spy.txt"))
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"Chromium is not installed at {CHROMIUM}")
    pages = list(PAGES) if not args.pages else ["" if p == "portfolio" else p for p in args.pages.split(",")]
    sessions = [Session(i, FILTERS[i % len(FILTERS)], pages, args.visits) for i in range(args.sessions)]

    port = free_port()
    proc = serve(Path(args.app), Path(args.config), port, args.floor)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        mark: dict = {}
        spy = []

        def on_start() -> None:
            mark["load"], mark["t"] = os.getloadavg(), time.monotonic()
            mark["cpu"], mark["browser"] = proc_stats(proc.pid)[1], proc_stats(os.getpid(), skip=proc.pid)[1]
            if args.py_spy:  # sample the server while the sessions run (threads, idle ones left out)
                spy.append(subprocess.Popen([args.py_spy, "record", "--pid", str(proc.pid), "--format", "raw",
                                             "--rate", "50", "--output", args.py_spy_out, "--threads"],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        try:
            asyncio.run(drive(url, sessions, args.timeout, args.budget, on_start, args.settle, proc.pid))
        except asyncio.TimeoutError:
            print(f"budget of {args.budget:.0f} s exhausted", file=sys.stderr)
        mark["browser_end"] = proc_stats(os.getpid(), skip=proc.pid)[1]
        for s in spy:
            s.send_signal(signal.SIGINT)
            s.wait(timeout=60)
        load0, cpu0, wall = mark["load"], mark["cpu"], time.monotonic() - mark["t"]
        peak, cpu1 = proc_stats(proc.pid)
        load1 = os.getloadavg()
        print(f"{args.sessions} sessions x {len(pages)} pages x {args.visits} visits on {Path(args.config).name}")
        ok = report(sessions, pages, wall)
        print(f"server: peak RSS {peak:.0f} MB (its workers included), {cpu1 - cpu0:.1f} CPU s during the run; "
              f"the browser and this script: {mark['browser_end'] - mark['browser']:.1f} CPU s")
        print(f"machine load (1, 5, 15 min): before {load0[0]:.1f} {load0[1]:.1f} {load0[2]:.1f}, "
              f"after {load1[0]:.1f} {load1[1]:.1f} {load1[2]:.1f} ({os.cpu_count()} cores)")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except Exception:  # noqa: BLE001
            proc.kill()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
