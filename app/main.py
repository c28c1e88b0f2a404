"""Lastmile dashboard: page configuration and navigation, nothing else.

Run it with ``lastmile serve`` (which sets ``LASTMILE_CONFIG``). Each page lives
in ``app/views/``; the shared frame (filter bar, errors) is
``app/components/page.py``.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run app/main.py` puts app/ first, not the project
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

st.set_page_config(page_title="Lastmile", page_icon=":material/monitoring:", layout="wide")

PAGES = {
    "Models": [
        st.Page("views/portfolio.py", title="Portfolio", icon=":material/dashboard:", url_path="portfolio", default=True),
        st.Page("views/overview.py", title="Model overview", icon=":material/insights:", url_path="overview"),
        st.Page("views/segments.py", title="Segments", icon=":material/pie_chart:", url_path="segments"),
        st.Page("views/compare.py", title="Compare versions", icon=":material/compare_arrows:", url_path="compare"),
        st.Page("views/drift.py", title="Drift", icon=":material/ssid_chart:", url_path="drift"),
        st.Page("views/value.py", title="Value", icon=":material/payments:", url_path="value"),
        st.Page("views/operations.py", title="Operations", icon=":material/speed:", url_path="operations"),
    ],
    "Tools": [
        st.Page("views/explore.py", title="Explore", icon=":material/query_stats:", url_path="explore"),
        st.Page("views/report.py", title="Report", icon=":material/picture_as_pdf:", url_path="report"),
    ],
}

from analytics.errors import LastmileError  # noqa: E402

from app import auth  # noqa: E402

if __name__ == "__main__":  # (a worker process of app/pool.py re-imports this file as __mp_main__)
    try:  # the gate: who is this, which models and pages are theirs (it stops the run for a stranger)
        PAGES = auth.visible_pages(PAGES, auth.gate())
    except LastmileError:
        pass  # a bad workspace: the page says so in one sentence

st.navigation(PAGES).run()
