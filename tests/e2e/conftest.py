"""Browser tests: the dashboard served by Streamlit, driven by Playwright in Debian's Chromium.

One Streamlit server (a subprocess on a free port, over the bundled sample
workspace) and one browser serve the whole session; each test gets a fresh
page (its own browser context, so its own Streamlit session).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "lastmile.toml"
SHOTS = ROOT / "artifacts" / "screenshots"
from tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: F401 - the e2e modules import them from here

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(config: Path, port: int, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Streamlit serving app/main.py over ``config`` (as `lastmile serve` starts it);
    ``env``: extra environment (e.g. its own LASTMILE_CACHE_DIR)."""
    env = dict(os.environ, **(env or {}), LASTMILE_CONFIG=str(config))
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "main.py"),
           "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("streamlit did not become healthy in time")


@pytest.fixture(scope="session")
def server():
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    port = free_port()
    proc = start_server(SAMPLE, port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """End a server started by a fixture (SIGTERM, then SIGKILL after 10 s)."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def tab(chromium):
    """A fresh browser context and page: its own Streamlit session."""
    ctx = chromium.new_context(viewport={"width": 1440, "height": 1400}, accept_downloads=True)
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    ctx.close()


def wait_idle(page, timeout: float = 180_000) -> None:
    """Wait until the script run is over (and stays over for a moment: a page may rerun)."""
    done = """() => {
        const app = document.querySelector('[data-testid="stApp"]');
        const state = app && app.getAttribute('data-test-script-state');
        return state === 'notRunning' && document.querySelector('h1') !== null;
    }"""
    page.wait_for_function(done, timeout=timeout)
    page.wait_for_timeout(300)  # a page that reruns (a link, a switch) starts again within this
    page.wait_for_function(done, timeout=timeout)


def no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
        '[data-testid="stException"]').first.inner_text()


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
