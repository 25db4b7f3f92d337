"""Home: what the dashboard is for, and where to go."""

import streamlit as st

from dashboard.services import overview
from dashboard.ui.app_pages import page_links
from dashboard.ui.db import call

st.title("Do our model improvements turn into business value?")
st.markdown(
    "Teams ship models that win offline (NDCG +8%) and lose online (retention −1.5%). "
    "This dashboard puts the offline metrics, the online experiments and the business metrics "
    "side by side, so the gap is visible and a decision can be defended."
)

tables = call(overview.tables)
if not tables:
    st.warning("The database is empty. Load files with `python -m dashboard ingest KIND PATH` "
               "(see the README), or build the demo with `python -m dashboard demo`.")

st.subheader("Where to go")
page_links()

if tables:
    st.subheader("Loaded data")
    cols = st.columns(min(4, len(tables)))
    for i, info in enumerate(tables):
        cols[i % len(cols)].metric(info.table.replace("_", " "), f"{info.rows:,} rows")
