"""The dashboard's side of the incremental store: refresh on "Re-read the logs" (with
progress) and every ``[store] refresh_seconds`` in the background."""

from __future__ import annotations

import threading
import time

import streamlit as st

from analytics.errors import LastmileError
from analytics.store import StoreBusyError, refresh

#: workspace path -> when the background refresh last started (monotonic)
_last: dict[str, float] = {}
_lock = threading.Lock()


def refresh_now(ws) -> None:
    """Refresh the store while the user waits, showing files and rows done."""
    with st.status("Refreshing the store…", expanded=False) as status:
        try:
            res = refresh(ws, progress=lambda line: status.write(line))
        except StoreBusyError as exc:
            status.update(label=str(exc), state="complete")
            return
        except LastmileError as exc:
            status.update(label=f"The store was not refreshed: {exc}", state="error")
            return
        done = sum(m.rows for m in res.models)
        status.update(label=f"Store refreshed in {res.seconds:.1f} s ({done:,} rows written).", state="complete")


def _background(ws) -> None:
    try:
        res = refresh(ws)
    except LastmileError:   # another refresh runs, or the logs are unreadable: the raw path answers
        return
    from app import precompute, resources   # (they import the views' cached calls)
    if resources.precompute() and any(m.rows for m in res.models):
        precompute.after_refresh()   # the pages' default answers on the new data, remembered by the store


def maybe_refresh(ws) -> None:
    """Start a background refresh when ``[store] refresh_seconds`` have passed since the last."""
    every = ws.store.refresh_seconds
    if not every or not ws.store.enabled:
        return
    key = str(ws.path)
    now = time.monotonic()
    with _lock:
        if now - _last.get(key, -1e18) < every:
            return
        _last[key] = now
    threading.Thread(target=_background, args=(ws,), daemon=True, name="lastmile-store-refresh").start()
