"""Imported by the worker pool's forkserver only (its preload, :mod:`app.pool`): the worker
processes forked from it never run the server's main script.

A process started by ``multiprocessing`` (spawn or forkserver) first re-runs its parent's
``__main__`` as ``__mp_main__``, so that functions defined there can be unpickled. The
parent here is a Streamlit server (or a test process after an ``AppTest``): Streamlit
installs the *page script* as ``sys.modules["__main__"]`` on every run, so each worker
re-ran ``app/main.py`` outside a runtime (and died in it: ``BrokenProcessPool``), or, in the
test suite, a script of an earlier ``AppTest`` that was already deleted
(``FileNotFoundError``). The workers' tasks live in importable modules (``app.pool``), so
they need nothing from the parent's main: here, in the forkserver, the two steps of
``multiprocessing.spawn.prepare`` that re-run it are skipped, for every process forked
from it.
"""

from __future__ import annotations

from multiprocessing import spawn


def _keep_own_main(_main: str) -> None:
    """Do not re-run the parent's main module (path or module name) in a worker."""


spawn._fixup_main_from_path = _keep_own_main
spawn._fixup_main_from_name = _keep_own_main
