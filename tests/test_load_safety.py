"""Loads beside other processes: a load waits (bounded, with a message) for whoever holds the database,
stale scratch copies of killed loads are removed, and `summarize` names a missing source."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from dashboard.cli import main
from dashboard.store.ingest import SCRATCH_PREFIX, clean_stale_scratch, ingest_file

GOOD = "model,score,label\nm1,0.9,1\nm1,0.2,0\n"


def _hold(db: Path, seconds: float) -> subprocess.Popen:
    """Another process holding a write connection (a load, or a program left open) for `seconds`."""
    code = (f"import duckdb, time, sys; c = duckdb.connect({str(db)!r}); print('held', flush=True); "
            f"time.sleep({seconds}); c.close()")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_load_waits_for_the_holder_then_loads(tmp_path):
    db = tmp_path / "s.duckdb"
    duckdb.connect(str(db)).close()
    (tmp_path / "p.csv").write_text(GOOD)
    said: list[str] = []
    holder = _hold(db, 3)
    start = time.monotonic()
    result = ingest_file(db, "predictions", tmp_path / "p.csv", wait_seconds=30, on_wait=said.append)
    assert result.rows == 2 and time.monotonic() - start >= 1.0
    assert said == ["s.duckdb is in use by another process; waiting up to 30 s..."]
    holder.wait()


def test_a_load_gives_up_with_a_message_and_exit_4(tmp_path, capsys):
    db = tmp_path / "s.duckdb"
    duckdb.connect(str(db)).close()
    (tmp_path / "p.csv").write_text(GOOD)
    holder = _hold(db, 20)  # the CLI's first start takes a few seconds
    try:
        assert main(["ingest", "predictions", str(tmp_path / "p.csv"), "--db", str(db), "--wait", "1"]) == 4
        err = capsys.readouterr().err
        assert "still in use by another process after 1 s" in err and "nothing was loaded" in err
        assert "Traceback" not in err
    finally:
        holder.kill()
        holder.wait()


def test_a_load_waits_for_a_reader_of_this_process(tmp_path):
    """The app's own read-only connection (a page, or the warming thread) in the server process: DuckDB
    refuses a second configuration of an open file; an upload from the Data page waits for it."""
    import threading

    db = tmp_path / "s.duckdb"
    duckdb.connect(str(db)).close()
    (tmp_path / "p.csv").write_text(GOOD)
    reader = duckdb.connect(str(db), read_only=True)
    threading.Timer(0.5, reader.close).start()
    said: list[str] = []
    result = ingest_file(db, "predictions", tmp_path / "p.csv", wait_seconds=30, on_wait=said.append)
    assert result.rows == 2 and len(said) == 1


def test_scratch_of_a_dead_load_is_removed_and_a_live_one_kept():
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{dead.pid}-"))
    (stale / "copy.parquet").write_bytes(b"x" * 1000)
    live = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
    try:
        removed = clean_stale_scratch()
        assert stale in removed and not stale.exists()
        assert live.exists()
    finally:
        live.rmdir()


def test_summarize_names_a_missing_source_or_an_empty_pattern(tmp_path, capsys):
    db = tmp_path / "l.duckdb"
    assert main(["summarize", "predictions", "--source", str(tmp_path / "none.parquet"), "--db", str(db)]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["summarize", "predictions", "--source", str(tmp_path / "nothing_*.parquet"), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "no file matches this pattern" in err and "Traceback" not in err
