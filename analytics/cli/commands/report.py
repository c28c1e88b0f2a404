"""`lastmile report`: the executive PDF report of one model (--model) or of every model (--all).

SIGTERM (a scheduler's or a container's stop) ends a report the way Ctrl-C does: the
signal raises :class:`Terminated` in the main thread, so the press closes as on any
exception -- the chart browser (Chromium) and its temporary folders (kaleido's
``index.html``, the browser profile) and the typesetting helper are removed -- and the
command exits 143 (128 + SIGTERM) with one line on stderr. Without the handler Python
dies on the spot and leaves those folders in the temporary directory.
"""

import contextlib
import signal
import sys
import threading
import time

from analytics.cli import add_common
from analytics.errors import LastmileError
from analytics.cli.commands._alerts import state


def add_parser(sub):
    p = sub.add_parser("report", help="write the executive PDF report of a model, or of every model with --all")
    add_common(p, formats=False)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", metavar="M", help="model name")
    which.add_argument("--all", action="store_true", help="a portfolio report of every model")
    p.add_argument("--start", metavar="ISO", help="first prediction time included (default: 28 days before --end)")
    p.add_argument("--end", metavar="ISO", help="first prediction time excluded (default: the day after the last prediction)")
    p.add_argument("-o", "--output", required=True, metavar="FILE.pdf", help="where to write the PDF")
    p.add_argument("--paper", choices=("a4", "letter"), default="a4", type=str.lower, help="paper size (default a4)")
    p.add_argument("--no-charts", action="store_true", help="tables only: no charts, no browser needed")
    return p


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the main thread is, so that cleanup runs as for Ctrl-C."""


#: The exit status of a report ended by SIGTERM (the shell's 128 + signal number).
EXIT_TERMINATED = 128 + signal.SIGTERM


@contextlib.contextmanager
def sigterm_raises():
    """While inside, SIGTERM raises :class:`Terminated` (once: a second SIGTERM during the
    cleanup is ignored so the cleanup can finish; it is bounded by the press's timeouts).
    The previous handler comes back on exit. Outside the main thread nothing changes
    (Python only lets the main thread set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = False

    def handler(signum, frame):
        nonlocal fired
        if not fired:
            fired = True
            raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(args, ctx) -> int:
    try:
        with sigterm_raises():
            return _run(args, ctx)
    except Terminated:  # the press (browser, temporary folders, helpers) is closed by now
        ctx.warn("terminated: no report written")
        return EXIT_TERMINATED


def _run(args, ctx) -> int:
    # lazy: the report modules load after the command line is parsed, and the press (browser,
    # typesetting helper) starts before the heavy imports of its sections
    from analytics.render.report import Press, build_report, check_output_path, report_specs, write_report

    out = check_output_path(args.output)  # an unwritable path fails before any work
    t0 = time.perf_counter()

    def progress(msg: str) -> None:
        sys.stderr.write(f"[{time.perf_counter() - t0:5.1f}s] {msg}\n")
        sys.stderr.flush()

    # an unknown model or an empty workspace: one clear error, before anything starts
    models = [spec.name for spec in report_specs(ctx.workspace, args.model)]
    # the typesetting helper and the chart browser start up while the logs are checked
    with Press(args.paper, charts=not args.no_charts) as press:
        for m in models:
            try:
                ctx.warn_data(m)
            except LastmileError:
                if args.model:
                    raise
                # --all: the portfolio gets a page saying what is wrong with this model
        pdf = build_report(ctx.engine, args.model, start=args.start, end=args.end, progress=progress,
                           press=press, state_dir=state(ctx))
    write_report(out, pdf)
    ctx.out(f"Wrote {out} ({len(pdf) / 1024:,.0f} KiB) in {time.perf_counter() - t0:.1f} s.")
    return 0
