"""Typed access to the URL query parameters and the session state.

This is the only module that touches ``st.query_params`` and ``st.session_state``.

The view a user sees (model, time range, versions, segment filters and each
page's own choices) is a flat set of *parameters* shaped like a query string:
``{"model": "credit_default", "from": "2026-06-01", "version": ["v1", "v2"]}``.
Three copies are kept in step on every run:

* the URL (``st.query_params``), so a view can be bookmarked, shared and reloaded;
* ``_lm_params`` in the session, the canonical copy within a browser session
  (switching pages in the navigation drops the URL's parameters: they are
  written back from here);
* the widgets' own session-state keys, seeded from the parameters the first
  time a widget is drawn (or after the URL changed from outside, e.g. a link
  that opens a model).

Each browser session has its own session state, so sessions never share a view.
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import streamlit as st

from analytics.config.workspace import find_config
from analytics.query.selection import Selection

Param = str | list[str]

_PARAMS = "_lm_params"      # canonical parameters of this session
_WRITTEN = "_lm_written"    # what this session last wrote to the URL
_WIDGETS = "_lm_widgets"    # widget key -> parameter name, for re-seeding

#: Parameters of the filter bar (shared by every page); the rest belong to pages.
FILTER_PARAMS = ("model", "from", "to", "version", "where", "period")


def config_path() -> str:
    """The workspace file: ``$LASTMILE_CONFIG`` (set by ``lastmile serve``), else the contract's discovery."""
    env = os.environ.get("LASTMILE_CONFIG")
    return str(Path(find_config(None, env, Path.cwd())).resolve())


# ------------------------------------------------------------------ parameters


def _url_params() -> dict[str, Param]:
    qp = st.query_params
    out: dict[str, Param] = {}
    for key in qp.keys():
        vals = list(qp.get_all(key))
        out[key] = vals if len(vals) > 1 else (vals[0] if vals else "")
    return out


def _norm(params: dict[str, Param]) -> dict[str, Param]:
    """Drop empty values; a one-element list is its element (as the URL shows it)."""
    out: dict[str, Param] = {}
    for k, v in params.items():
        if isinstance(v, (list, tuple)):
            v = list(v) if len(v) > 1 else (v[0] if v else "")
        if v not in ("", None):
            out[k] = v
    return out


def sync_from_url() -> bool:
    """Adopt the URL's parameters on a session's first run or when the URL changed from outside
    (a link with parameters); return whether they were adopted.

    Called once at the start of every run, before any widget is drawn.
    """
    ss = st.session_state
    url = _norm(_url_params())
    written = ss.get(_WRITTEN)
    if written is None or (url and url != written):
        ss[_PARAMS] = dict(url)
        for key in list(ss.get(_WIDGETS, {})):
            if key in ss:
                del ss[key]
        ss[_WRITTEN] = dict(url)
        return True
    return False


def enter_page(page: str, from_url: bool = False) -> None:
    """Note which page runs; on a page change, re-seed the widgets from the parameters.

    Widgets drawn by a page belong to that page (Streamlit gives them page-specific
    ids), so the filter bar of the new page starts from this session's parameters;
    the previous page's own parameters (its metric, feature, ...) are dropped, unless
    they came with the URL that opened this page (``from_url``).
    """
    ss = st.session_state
    previous = ss.get("_lm_page")
    if previous != page:
        for key in list(ss.get(_WIDGETS, {})):
            if key in ss:
                del ss[key]
        if previous is not None and not from_url:  # the previous page's own choices do not carry over
            ss[_PARAMS] = {k: v for k, v in ss.get(_PARAMS, {}).items() if k in FILTER_PARAMS}
        ss["_lm_page"] = page


def params() -> dict[str, Param]:
    return dict(st.session_state.get(_PARAMS, {}))


def get(name: str, default: str | None = None) -> str | None:
    v = st.session_state.get(_PARAMS, {}).get(name)
    if isinstance(v, list):
        return v[-1] if v else default
    return v if v not in (None, "") else default


def get_all(name: str) -> list[str]:
    v = st.session_state.get(_PARAMS, {}).get(name)
    if v is None or v == "":
        return []
    return list(v) if isinstance(v, list) else [v]


def set_param(name: str, value: Param | None) -> None:
    p = dict(st.session_state.get(_PARAMS, {}))
    if value in (None, "", []):
        p.pop(name, None)
    else:
        p[name] = list(value) if isinstance(value, (list, tuple)) else str(value)
    st.session_state[_PARAMS] = p


def write_url() -> None:
    """Make the URL show this session's parameters (called at the end of a run)."""
    ss = st.session_state
    want = _norm(ss.get(_PARAMS, {}))
    if _norm(_url_params()) != want:
        st.query_params.from_dict(want)
    ss[_WRITTEN] = dict(want)


def link_params(**changes: Param | None) -> dict[str, Param]:
    """The current filter parameters with ``changes`` applied (for links to other pages)."""
    p = {k: v for k, v in params().items() if k in FILTER_PARAMS}
    for k, v in changes.items():
        if v in (None, "", []):
            p.pop(k, None)
        else:
            p[k] = v
    return p


# ------------------------------------------------------------------ widgets bound to parameters


def bind(key: str, param: str, parse: Callable[[Any], Any], multi: bool = False) -> None:
    """Seed widget ``key`` from parameter ``param`` (``parse`` turns the text into a valid widget value).

    Only seeds when the widget has no value yet, so a user's choice is never overwritten.
    ``parse`` gets a list of texts when ``multi`` (else one text or None) and returns
    ``None`` to leave the widget at its own default.
    """
    ss = st.session_state
    reg = dict(ss.get(_WIDGETS, {}))
    reg[key] = param
    ss[_WIDGETS] = reg
    if key not in ss:
        raw = get_all(param) if multi else get(param)
        value = parse(raw)
        if value is not None:
            ss[key] = value


def widget_value(key: str, default: Any = None) -> Any:
    return st.session_state.get(key, default)


def forget(*keys: str) -> None:
    """Drop widget values (e.g. the version choice when the model changes)."""
    for key in keys:
        if key in st.session_state:
            del st.session_state[key]


def forget_prefix(prefix: str) -> None:
    forget(*[k for k in list(st.session_state.keys()) if isinstance(k, str) and k.startswith(prefix)])


# ------------------------------------------------------------------ the filter bar's state


@dataclass(frozen=True)
class Filters:
    """The filter bar's choices: model, days (both inclusive), versions, segment filters, period."""

    model: str
    start: _dt.date | None = None
    end: _dt.date | None = None
    versions: tuple[str, ...] = ()
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()
    period: str = "week"

    def selection(self, **changes) -> Selection:
        """The query spec (the end day is included, so the selection ends the day after)."""
        end = self.end + _dt.timedelta(days=1) if self.end else None
        sel = Selection.build(self.model, start=self.start, end=end, versions=self.versions,
                              where=dict(self.where))
        return sel.replace(**changes) if changes else sel

    def to_params(self) -> dict[str, Param | None]:
        return {
            "model": self.model,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "version": list(self.versions),
            "where": [f"{c}={v}" for c, vals in self.where for v in vals],
            "period": None if self.period == "week" else self.period,
        }


def parse_date(text: str | None) -> _dt.date | None:
    if not text:
        return None
    try:
        return _dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def remember(name: str, value: Any) -> None:
    """Keep a non-widget value for this session (e.g. a computed report)."""
    st.session_state[f"_lm_mem_{name}"] = value


def recall(name: str, default: Any = None) -> Any:
    return st.session_state.get(f"_lm_mem_{name}", default)
