"""report page (being built)."""
import streamlit as st

from app.components.page import run_page

run_page("Report", lambda ctx: st.info("This page is being built."))
