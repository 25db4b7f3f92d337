"""Data: what is loaded, from where, and why the last refused file was refused."""

import logging
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import format as fmt
from dashboard.services import overview
from dashboard.store.ingest import ingest_file, last_refusal
from dashboard.store.readers import InputError
from dashboard.store.schema import KINDS
from dashboard.ui.db import call, db_path, release, uploads_allowed
from dashboard.ui.text import bullets, md

st.title("Data")
st.caption(f"Database `{md(db_path().name)}`. Interactions read the summary tables; raw rows stay queryable "
           "for exact figures.")

ROWS = st.column_config.NumberColumn(format="localized")  # 160,340 as every count reads, not 160340
tables = call(overview.tables)
if tables:
    frame = pd.DataFrame(
        {
            "table (kind)": t.table if t.table == t.kind else f"{t.table} ({t.kind})", "rows": fmt.count(t.rows),
            "dates": f"{t.first} to {t.last}" if t.first else "",
            "models": ", ".join(md(m) for m in t.models), "segments": ", ".join(md(c) for c in t.segments),
            "files": t.files, "last loaded": str(t.last_loaded or "")[:16],
        }
        for t in tables
    )
    # a static table wraps (every model and segment name is shown whole); its cells are markdown: escaped
    st.table(frame, hide_index=True)
summaries = call(overview.summary_tables)
if not tables:
    st.info("Only summaries are loaded: `python -m dashboard summarize` built them where the raw logs live "
            "(docs/lake.md). Figures that need raw rows say so on their pages." if summaries
            else "Nothing is loaded yet.")
if summaries:
    st.subheader("Summary tables")
    st.caption("Built at load time, or by `summarize` on the engine that holds the raw logs, so that a slider "
               "move never scans raw rows.")
    st.dataframe(pd.DataFrame(summaries), hide_index=True,
                 column_config={"rows": ROWS})

segmented = [t for t in tables if t.segments]
if segmented:
    st.subheader("Segments")
    choice = st.selectbox("Table", [t.table for t in segmented], key="data.segment_table")
    info = next(t for t in segmented if t.table == choice)
    cols = st.columns(min(4, len(info.segments)))
    for i, column in enumerate(info.segments):
        values = call(overview.segment_values, info.table, column)
        cols[i % len(cols)].dataframe(pd.DataFrame(values, columns=[column, "rows"]), hide_index=True,
                                      column_config={"rows": ROWS})

st.subheader("Last refused load")
refusal = last_refusal(db_path())
if refusal:
    # the file's name only: where it was on the server is nobody's business
    st.error(f"{md(refusal['when'])}: {md(Path(str(refusal['source'])).name)} ({md(refusal['kind'])}) was refused; "
             "the database was left unchanged.")
    st.markdown(bullets(refusal["problems"]))
else:
    st.success("No load has been refused.")

st.subheader("Load history")
history = call(overview.load_history)
if history:
    frame = pd.DataFrame(history)
    if "source" in frame:  # file names, not where they were on the server
        frame["source"] = [Path(str(s)).name for s in frame["source"]]
    st.dataframe(frame, hide_index=True, width="stretch", column_config={"rows": ROWS})

st.subheader("Load a file")
if not uploads_allowed():
    st.caption("Loading from the browser is off. Load files with `python -m dashboard ingest KIND FILE`, or start "
               "the dashboard with `python -m dashboard serve --allow-uploads` to load them here.")
    st.stop()
with st.form("upload", clear_on_submit=True):
    kind = st.selectbox("Kind", list(KINDS), help="See the README's data contract for the columns of each kind.")
    upload = st.file_uploader("CSV, Parquet or TREC file")
    replace = st.checkbox("Replace stored rows with the same keys")
    append = st.checkbox("Predictions: add rows whose times overlap the stored ones of the same model",
                         help="Only when they are different predictions (e.g. one file per country); otherwise "
                              "an overlap is refused, as those rows would count twice (--append on the command line).")
    submitted = st.form_submit_button("Validate and load")
outcome = st.session_state.pop("data.upload_outcome", None)
if outcome:  # kept across the rerun below, which redraws the tables above with the new load
    level, message, problems = outcome
    (st.success if level == "ok" else st.error)(message)
    if problems:
        st.markdown(bullets(problems))
if submitted and upload is not None:
    name = Path(upload.name).name
    with tempfile.TemporaryDirectory(prefix="dashboard-upload-") as tmp:
        path = Path(tmp) / name
        with path.open("wb") as out:  # copied in chunks: no second whole copy of the upload in memory
            shutil.copyfileobj(upload, out, 1 << 20)
        try:
            result = ingest_file(db_path(), kind, path, replace=replace, append=append)
        except InputError as exc:
            outcome = ("error", f"{md(name)} was refused; nothing was changed.", exc.problems)
        except Exception as exc:  # e.g. the database stayed locked: a short message, details in the server log
            logging.getLogger(__name__).exception("upload of %s failed", name)
            outcome = ("error", f"{md(name)} could not be loaded ({type(exc).__name__}); nothing was changed. "
                       "The server log has the details.", [])
        else:
            outcome = ("ok", f"Loaded {result.rows:,} rows from {md(name)} into `{result.table}`.", [])
    release()
    st.session_state["data.upload_outcome"] = outcome
    st.rerun()
