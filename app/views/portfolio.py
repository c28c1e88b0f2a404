"""portfolio page (being built)."""
import streamlit as st

from app.components.page import run_page

run_page("Portfolio", lambda ctx: st.info("This page is being built."))
