"""SIGTERM to `lastmile report` cleans up like Ctrl-C: no chart-browser temporary folders
left in the temporary directory, no Chromium left running (issue #13, point 8)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from analytics.errors import DependencyError
from analytics.render.report.svg import find_browser
from .factories import make_workspace


ROOT = Path(__file__).resolve().parents[1]


def _browser_or_skip() -> str:
    try:
        return find_browser()
    except DependencyError:
        pytest.skip("no Chromium on this machine")


def _processes_of(session: int, mark: str) -> list[str]:
    """Processes in the session ``session`` or whose command line mentions ``mark``."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # ended meanwhile, or not ours to read
            continue
        fields = stat[stat.rindex(")") + 2:].split()   # after "pid (comm) ": state ppid pgrp session
        if fields[0] != "Z" and (int(fields[3]) == session or mark in cmd):
            found.append(f"{d.name}: {cmd[:120]}")
    return found


def _wait_for(pred, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what} after {seconds:g} s")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_sigterm_removes_the_chart_browser_and_its_folders(tmp_path):
    _browser_or_skip()
    g = make_workspace(tmp_path / "ws", "binary", n=800, seed=5, days=28)
    # short: Chromium's socket path under TMPDIR must fit in 107 bytes
    tmp = Path(tempfile.mkdtemp(prefix="lm-sigterm-", dir="/tmp" if os.path.isdir("/tmp") else None))
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": os.pathsep.join(
        [str(ROOT)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))}
    proc = subprocess.Popen([sys.executable, "-m", "analytics.cli", "report", "--config", str(g.config),
                             "--model", "binary_model", "-o", str(tmp_path / "r.pdf")],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        # the browser is up: kaleido's page (index.html) is written and Chromium runs on a
        # profile under TMPDIR
        def browser_up():
            page = any(tmp.glob("index.html")) or any(tmp.glob("*/index.html"))
            return page and any("chrom" in p for p in _processes_of(proc.pid, f"--user-data-dir={tmp}"))

        _wait_for(lambda: browser_up() or proc.poll() is not None, 90, "the chart browser to start")
        assert proc.poll() is None, proc.communicate()[1].decode()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
        err = err.decode()
        assert proc.returncode == 143, err
        assert "terminated" in err and "Traceback" not in err and not (tmp_path / "r.pdf").exists()
        left = {p.name: sorted(q.name for q in p.iterdir()) for p in tmp.iterdir() if p.is_dir()}
        assert left == {}, (err, left)
        # Chromium's helpers go once the browser has closed: wait for them (bounded)
        _wait_for(lambda: not _processes_of(proc.pid, str(tmp)), 30, "the browser's processes to end")
    finally:
        if proc.poll() is None:  # the test failed: leave nothing behind
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)


def test_sigterm_handler_is_restored(monkeypatch):
    """In-process (the tests' own runs of the CLI): the previous SIGTERM handler comes back."""
    from analytics.cli.commands.report import Terminated, sigterm_raises

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated):
        with sigterm_raises():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)   # the handler raises in this thread before the sleep ends
    assert signal.getsignal(signal.SIGTERM) is before
