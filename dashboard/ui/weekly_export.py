"""Export buttons of the weekly review: the files are built when clicked (PDF charts take a few
seconds through kaleido), not on every rerun. Full-width, one under the other, so the labels stay
whole in a narrow sidebar (a projector at 1024 px)."""

from __future__ import annotations

import streamlit as st

from dashboard.export import weekly as export


def export_buttons(review: dict) -> None:
    stem = export.file_stem(review)
    st.download_button("Export HTML", data=lambda: export.render_html(review), file_name=f"{stem}.html",
                       mime="text/html", icon=":material/download:", on_click="ignore", width="stretch")
    st.download_button("Export PDF", data=lambda: export.render_pdf(review), file_name=f"{stem}.pdf",
                       mime="application/pdf", icon=":material/picture_as_pdf:", on_click="ignore", width="stretch")
