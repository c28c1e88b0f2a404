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

# the navigation is drawn by each page as links that carry the view (app/components/nav.py)
st.navigation(nav.pages(), position="hidden").run()
