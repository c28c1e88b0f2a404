"""The frame every page runs in: filter bar, data-warning banner, errors as messages.

A page is a function ``body(ctx)``; :func:`run_page` builds its :class:`PageContext`
from the filter bar and catches every :class:`LastmileError` into one
``st.error`` sentence (a bad workspace, an unknown column, an empty
selection), so a user never sees a traceback for a problem of their input. Any
other exception is a bug: the page says so in one sentence and the traceback
goes to the server log. (Streamlit's own rerun/stop signals are BaseExceptions
and pass through.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import streamlit as st

from analytics.analyses.facts import ModelFacts
from analytics.config.workspace import ModelSpec, Workspace
from analytics.errors import EmptySelectionError, LastmileError
from analytics.log.engine import Engine
from analytics.query.selection import Selection
from .. import resources, state
from ..state import Filters
from . import nav
from .filters import filter_bar
from .text import escape_md


log = logging.getLogger("lastmile.app")


@dataclass(frozen=True)
class PageContext:
    """What a page needs: the workspace, the engine, the filters and facts of the chosen model."""

    workspace: Workspace
    engine: Engine
    filters: Filters
    spec: ModelSpec
    facts: ModelFacts | None
    ws_key: tuple[str, float]

    @property
    def selection(self) -> Selection:
        return self.filters.selection()

    @property
    def currency(self) -> str:
        return self.spec.business.currency if self.spec.business else "USD"


def refresh_button() -> None:
    st.sidebar.divider()
    if st.sidebar.button("Re-read the logs", icon=":material/refresh:", key="lm_refresh",
                         help=f"Results are kept for {int(resources.TTL.total_seconds() // 60)} minutes; "
                              "this drops them (for every viewer) so new log files show now."):
        resources.refresh()
        st.rerun()


def run_page(title: str, body: Callable[[PageContext], None], *, caption: str | None = None,
             with_filters: bool = True) -> None:
    """Draw the page ``title`` with the filter bar and run ``body``; errors become messages."""
    st.title(title)
    if caption:
        st.caption(caption)
    menu = st.sidebar.container()  # the navigation, filled last: its links carry this run's view
    try:
        state.enter_page(title, from_url=state.sync_from_url())
        ws = resources.workspace()
        flt = filter_bar(ws.model_names, with_model=with_filters)
        refresh_button()
        state.write_url()
        spec = ws.model(flt.model)
        facts = resources.facts(resources.ws_key(), flt.model) if with_filters else None
        ctx = PageContext(workspace=ws, engine=resources.engine(), filters=flt, spec=spec,
                          facts=facts, ws_key=resources.ws_key())
        if with_filters:
            warnings = resources.data_warnings(ctx.ws_key, flt.model)
            if warnings:
                st.warning("**Data warnings** — " + " ".join(escape_md(w.message) for w in warnings),
                           icon=":material/warning:")
        body(ctx)
    except EmptySelectionError as exc:
        st.info(escape_md(exc), icon=":material/filter_alt_off:")
    except LastmileError as exc:
        st.error(escape_md(exc), icon=":material/error:")
    except Exception as exc:  # noqa: BLE001 - a bug: one sentence here, the traceback in the server log
        log.exception("page %r failed", title)
        st.error(f"Something went wrong on this page ({type(exc).__name__}: {escape_md(exc)}). This is a bug in Lastmile, "
                 "not in your data; the details are in the server log.", icon=":material/bug_report:")
    state.write_url()
    nav.links(menu)
