"""app/resources.py: the background prefetch fills Streamlit's cache and leaves errors to the page."""

from __future__ import annotations

import threading
import time

import pytest
import streamlit as st

from analytics.errors import LastmileError
from app import resources


def test_prefetch_fills_the_cache_and_leaves_errors_to_the_page():
    computed: list[int] = []
    threads: set[str] = set()
    lock = threading.Lock()

    @st.cache_data(show_spinner=False)
    def answer(x: int) -> int:
        with lock:
            computed.append(x)
            threads.add(threading.current_thread().name)
        if x == 2:
            raise LastmileError("model 2 is broken")
        return 10 * x

    resources.prefetch([(answer, (1,)), (answer, (2,)), (answer, (3,))])
    deadline = time.monotonic() + 10
    while len(computed) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(computed) == [1, 2, 3]
    assert all(name.startswith("lastmile-prefetch") for name in threads)   # not this thread
    assert answer(1) == 10 and answer(3) == 30
    assert sorted(computed) == [1, 2, 3]                 # cache hits: nothing computed twice
    with pytest.raises(LastmileError, match="model 2 is broken"):
        answer(2)                                        # the page's own call reports the failure
    assert computed.count(2) == 2


def _peak_concurrency(monkeypatch, slots: str) -> int:
    """How many calls of a :func:`resources.computed` function ran at once, 6 threads x 12 calls."""
    from concurrent.futures import ThreadPoolExecutor
    monkeypatch.setenv("LASTMILE_CONCURRENCY", slots)
    active, peak, lock = [0], [0], threading.Lock()

    def work(i: int) -> int:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return i

    fn = resources.computed(work)
    with ThreadPoolExecutor(6) as ex:
        assert list(ex.map(fn, range(12))) == list(range(12))
    return peak[0]


def test_at_most_the_bound_of_answers_compute_at_once(monkeypatch):
    assert _peak_concurrency(monkeypatch, "2") <= 2
    assert _peak_concurrency(monkeypatch, "0") > 2      # 0: no bound (the check can fail)


def test_no_bound_unless_one_is_set(monkeypatch):
    monkeypatch.delenv("LASTMILE_CONCURRENCY", raising=False)
    assert resources.concurrency() == 0
    monkeypatch.setenv("LASTMILE_CONCURRENCY", "three")
    assert resources.concurrency() == 0
    monkeypatch.setenv("LASTMILE_CONCURRENCY", "2")
    assert resources.concurrency() == 2
