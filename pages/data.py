"""Data: what is loaded, from where, and why the last refused file was refused."""

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import format as fmt
from dashboard.services import overview
from dashboard.store.ingest import ingest_file, last_refusal
from dashboard.store.readers import InputError
from dashboard.store.schema import KINDS
from dashboard.ui.db import call, db_path, release

st.title("Data")
st.caption(f"Database `{db_path()}`. Interactions read the summary tables; raw rows stay queryable "
           "for exact figures.")

tables = call(overview.tables)
if tables:
    frame = pd.DataFrame(
        {
            "kind": t.kind, "table": t.table, "rows": fmt.count(t.rows),
            "from": t.first or "", "to": t.last or "",
            "models": ", ".join(t.models), "segments": ", ".join(t.segments),
            "files loaded": t.files, "last loaded": t.last_loaded or "",
        }
        for t in tables
    )
    st.table(frame, hide_index=True)  # a static table wraps: every model and segment name is shown whole
summaries = call(overview.summary_tables)
if not tables:
    st.info("Only summaries are loaded: `python -m dashboard summarize` built them where the raw logs live "
            "(docs/lake.md). Figures that need raw rows say so on their pages." if summaries
            else "Nothing is loaded yet.")
if summaries:
    st.subheader("Summary tables")
    st.caption("Built at load time, or by `summarize` on the engine that holds the raw logs, so that a slider "
               "move never scans raw rows.")
    st.dataframe(pd.DataFrame(summaries), hide_index=True)

segmented = [t for t in tables if t.segments]
if segmented:
    st.subheader("Segments")
    choice = st.selectbox("Table", [t.table for t in segmented], key="data.segment_table")
    info = next(t for t in segmented if t.table == choice)
    cols = st.columns(min(4, len(info.segments)))
    for i, column in enumerate(info.segments):
        values = call(overview.segment_values, info.table, column)
        cols[i % len(cols)].dataframe(pd.DataFrame(values, columns=[column, "rows"]), hide_index=True)

st.subheader("Last refused load")
refusal = last_refusal(db_path())
if refusal:
    st.error(f"{refusal['when']}: `{refusal['source']}` ({refusal['kind']}) was refused; "
             "the database was left unchanged.")
    st.markdown("\n".join(f"- {p}" for p in refusal["problems"]))
else:
    st.success("No load has been refused.")

st.subheader("Load a file")
with st.form("upload"):
    kind = st.selectbox("Kind", list(KINDS), help="See the README's data contract for the columns of each kind.")
    upload = st.file_uploader("CSV, Parquet or TREC file")
    replace = st.checkbox("Replace stored rows with the same keys")
    submitted = st.form_submit_button("Validate and load")
outcome = st.session_state.pop("data.upload_outcome", None)
if outcome:  # kept across the rerun below, which redraws the tables above with the new load
    level, message, problems = outcome
    (st.success if level == "ok" else st.error)(message)
    if problems:
        st.markdown("\n".join(f"- {p}" for p in problems))
if submitted and upload is not None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        try:
            result = ingest_file(db_path(), kind, path, replace=replace)
        except InputError as exc:
            outcome = ("error", f"`{upload.name}` was refused; nothing was changed.", exc.problems)
        except Exception as exc:  # e.g. the database is locked by another writer
            outcome = ("error", f"`{upload.name}` could not be loaded: {exc}", [])
        else:
            outcome = ("ok", f"Loaded {result.rows:,} rows from `{upload.name}` into `{result.table}`.", [])
    release()
    st.session_state["data.upload_outcome"] = outcome
    st.rerun()

st.subheader("Load history")
history = call(overview.load_history)
if history:
    st.dataframe(pd.DataFrame(overview.readable_history(history)), hide_index=True, width="stretch",
                 column_config={"rows": st.column_config.NumberColumn(format="localized")})
