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

from app.components import nav  # noqa: E402

from analytics.errors import LastmileError  # noqa: E402

from app import auth  # noqa: E402

PAGES = nav.pages()
if __name__ == "__main__":  # (a worker process of app/pool.py re-imports this file as __mp_main__)
    try:  # the gate: who is this, which models and pages are theirs (it stops the run for a stranger)
        PAGES = auth.visible_pages(PAGES, auth.gate())
    except LastmileError:
        pass  # a bad workspace: the page says so in one sentence
nav.remember(PAGES)
# the navigation is drawn by each page as links that carry the view (app/components/nav.py)
st.navigation(PAGES, position="hidden").run()
