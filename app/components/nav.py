"""The page navigation, as links that carry the view's parameters.

Streamlit's own navigation drops the URL's parameters on a page change; the app then
writes them back, and the browser gets two history entries for one click (Back had to
be pressed twice, and the first press showed a URL that did not match the page). Here
the navigation is hidden and drawn as links whose URL already holds the parameters the
new page will show (:func:`app.state.link_params`), so a click is one history entry and
Back walks back through the views one by one.
"""

from __future__ import annotations

import streamlit as st

from app import state

#: (section, [(script, title, icon, url path)]): the pages of the app, in order.
LAYOUT = {
    "Models": [
        ("views/portfolio.py", "Portfolio", ":material/dashboard:", "portfolio"),
        ("views/overview.py", "Model overview", ":material/insights:", "overview"),
        ("views/segments.py", "Segments", ":material/pie_chart:", "segments"),
        ("views/compare.py", "Compare versions", ":material/compare_arrows:", "compare"),
        ("views/drift.py", "Drift", ":material/ssid_chart:", "drift"),
        ("views/quality.py", "Data quality", ":material/fact_check:", "quality"),
        ("views/value.py", "Value", ":material/payments:", "value"),
        ("views/operations.py", "Operations", ":material/speed:", "operations"),
    ],
    "Tools": [
        ("views/explore.py", "Explore", ":material/query_stats:", "explore"),
        ("views/report.py", "Report", ":material/picture_as_pdf:", "report"),
    ],
}


def pages() -> dict[str, list]:
    """``st.Page`` objects for ``st.navigation`` (the first one is the default)."""
    return {section: [st.Page(script, title=title, icon=icon, url_path=path, default=(i == 0 and j == 0))
                      for j, (script, title, icon, path) in enumerate(items)]
            for i, (section, items) in enumerate(LAYOUT.items())}


def remember(pages: dict[str, list]) -> None:
    """Note the pages this user may open (the sign-in gate may hide some): only those get links."""
    # by title: the default page's ``url_path`` is "" (it lives at the root)
    state.remember("nav_pages", {p.title for items in pages.values() for p in items})


def links(where) -> None:
    """The navigation links in ``where`` (a sidebar container), each carrying the current
    filter parameters; call it after the page's parameters are final for this run."""
    params = state.link_params()
    visible = state.recall("nav_pages")
    with where:
        for section, items in LAYOUT.items():
            shown = [i for i in items if visible is None or i[1] in visible]
            if shown:
                st.caption(section)
            for script, title, icon, _path in shown:
                st.page_link(script, label=title, icon=icon, query_params=params)
