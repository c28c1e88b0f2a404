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
from analytics.errors import EmptySelectionError, LastmileError, UnknownModelError
from analytics.log.engine import Engine
from analytics.query.selection import Selection
from .. import auth, resources, state
from ..state import Filters
from . import store_refresh
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
    #: who is looking, with which role on which model (app/auth.py)
    access: auth.Access | None = None

    @property
    def selection(self) -> Selection:
        return self.filters.selection()

    @property
    def currency(self) -> str:
        return self.spec.business.currency if self.spec.business else "USD"


def refresh_button(access: auth.Access, page: str) -> None:
    st.sidebar.divider()
    if not access.can("refresh"):  # admins only: it drops every user's cached results
        return
    if st.sidebar.button("Re-read the logs", icon=":material/refresh:", key="lm_refresh",
                         help=f"Results are kept for {int(resources.TTL.total_seconds() // 60)} minutes; "
                              "this drops them (for every viewer) so new log files show now."):
        access.record("refresh", page=page, detail="re-read the logs")
        store_refresh.refresh_now(resources.workspace())
        resources.refresh()
        st.rerun()


def run_page(title: str, body: Callable[[PageContext], None], *, caption: str | None = None,
             with_filters: bool = True, needs: str | None = None) -> None:
    """Draw the page ``title`` with the filter bar and run ``body``; errors become messages.

    The page sees only the models the user may see (``needs``: only those on which the
    user has that capability, e.g. ``"explore"``); a URL naming another model gets the
    same sentence as a model that does not exist."""
    st.title(title)
    if caption:
        st.caption(caption)
    try:
        state.enter_page(title, from_url=state.sync_from_url())
        access = auth.gate()
        ws = access.scoped(needs)
        if not ws.models:
            st.info(f"This page needs the {needs} capability (role analyst or admin) on a model; "
                    "ask an admin.", icon=":material/lock:")
            return
        wanted = state.get("model")
        if wanted is not None and wanted not in ws.model_names:
            try:
                ws.model(wanted)
            except UnknownModelError as exc:  # the same words for a model not shared and one that does not exist
                st.warning(f"{escape_md(exc)} Showing {escape_md(ws.model_names[0])}.", icon=":material/help:")
            state.set_param("model", None)
        flt = filter_bar(ws.model_names, with_model=with_filters)
        auth.sidebar_user(access)
        refresh_button(access, title)
        store_refresh.maybe_refresh(resources.workspace())
        state.write_url()
        spec = ws.model(flt.model)
        auth.viewed(access, title, flt.model if with_filters else None,
                    None if with_filters else f"models: {', '.join(ws.model_names)}")
        facts = resources.facts(resources.ws_key(), flt.model) if with_filters else None
        ctx = PageContext(workspace=ws, engine=access.engine(ws), filters=flt, spec=spec,
                          facts=facts, ws_key=resources.ws_key(), access=access)
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
