"""A first load of a plain TREC run or qrels is parsed straight into its stored table, in the load's
transaction (readers.trec_stored): the same rows, the same refusals naming file, line and column,
and nothing written when it is refused."""

from __future__ import annotations

import duckdb
import pytest

from dashboard.store import readers
from dashboard.store.connection import connect
from dashboard.store.ingest import ingest_file
from dashboard.store.readers import InputError

RUN = "q1 Q0 d1 1 2.5 bm25\nq1 Q0 d2 2 1.5 bm25\nq2 Q0 d1 1 0.5 bm25\n"
QRELS = "q1 0 d1 1\nq1 0 d2 0\nq2 0 d1 2\n"


@pytest.fixture
def taken(monkeypatch):
    """The tables each load parsed straight into (None: it took the staged path)."""
    seen = []
    real = readers.trec_stored

    def spy(con, path, kind, table, *a, **k):
        out = real(con, path, kind, table, *a, **k)
        seen.append(table if out else None)
        return out

    monkeypatch.setattr("dashboard.store.ingest.trec_stored", spy)
    return seen


def tables(db) -> set[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    finally:
        con.close()


def rows(db, sql: str):
    con = connect(db, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_first_loads_go_straight_in_and_store_the_staged_rows(tmp_path, taken):
    (tmp_path / "qrels.trec").write_text(QRELS)
    (tmp_path / "run.trec").write_text(RUN)
    db = tmp_path / "a.duckdb"
    ingest_file(db, "qrels", tmp_path / "qrels.trec")
    ingest_file(db, "run", tmp_path / "run.trec")
    ingest_file(db, "run", tmp_path / "run.trec", model="other")  # the table exists: staged
    assert taken == ["qrels", "rankings"]  # the third load did not ask
    assert rows(db, "SELECT * FROM qrels ORDER BY ALL") == [("q1", "d1", 1), ("q1", "d2", 0), ("q2", "d1", 2)]
    assert rows(db, "SELECT * FROM rankings ORDER BY ALL") == [
        (m, q, d, s, None, None) for m in ("bm25", "other")
        for q, d, s in (("q1", "d1", 2.5), ("q1", "d2", 1.5), ("q2", "d1", 0.5))]
    types = dict(rows(db, "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'rankings'"))
    assert types == {"model": "VARCHAR", "query_id": "VARCHAR", "item_id": "VARCHAR", "score": "DOUBLE",
                     "position": "BIGINT", "relevance": "BIGINT"}
    assert rows(db, "SELECT kind, rows FROM load_log ORDER BY load_id") == [("qrels", 3), ("run", 3), ("run", 3)]
    assert rows(db, "SELECT count(*) FROM ranking_query_metrics") == [(4,)]


def test_a_first_load_named_on_the_command_line_stores_that_name(tmp_path, taken):
    (tmp_path / "run.trec").write_text(RUN)
    ingest_file(tmp_path / "a.duckdb", "run", tmp_path / "run.trec", model="it's new")
    assert taken == ["rankings"]
    assert rows(tmp_path / "a.duckdb", "SELECT DISTINCT model FROM rankings") == [("it's new",)]


@pytest.mark.parametrize("kind", ["run", "qrels"])
def test_a_refused_first_load_writes_nothing(tmp_path, taken, kind):
    """Duplicate keys, found after the rows went into the new table: refused with every line, and
    the table is rolled back with the load."""
    text = RUN + "q1 Q0 d2 9 0.1 bm25\n" if kind == "run" else QRELS + "q1 0 d1 3\n"
    path = tmp_path / f"{kind}.trec"
    path.write_text(text)
    db = tmp_path / "a.duckdb"
    with pytest.raises(InputError) as err:
        ingest_file(db, kind, path)
    assert taken == ["rankings" if kind == "run" else "qrels"]
    line = "lines 2, 4" if kind == "run" else "lines 1, 4"
    assert f"{kind}.trec, {line}: duplicate key" in str(err.value)
    assert not tables(db) & {"rankings", "qrels", "ranking_query_metrics"}
    assert rows(db, "SELECT count(*) FROM load_log") == [(0,)]
    path.write_text(RUN if kind == "run" else QRELS)
    ingest_file(db, kind, path)  # the same database takes the corrected file
    assert taken[-1] == ("rankings" if kind == "run" else "qrels")


def test_line_numbers_hold_across_row_groups(tmp_path, taken):
    """DuckDB numbers the rows of a table not yet committed from an offset; the checks' line
    numbers are still the file's, past the first row group (122,880 rows)."""
    n = 300_000
    lines = [f"q{i // 20} Q0 d{i % 20} {i % 20 + 1} {i % 7}.5 bm25" for i in range(n)]
    lines.append(lines[250_001])  # line n + 1 repeats line 250,002
    (tmp_path / "run.trec").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"run.trec, lines 250002, 300001: duplicate key"):
        ingest_file(tmp_path / "a.duckdb", "run", tmp_path / "run.trec")
    assert taken == ["rankings"]


def test_a_file_the_plain_reader_does_not_take_is_staged(tmp_path, taken):
    (tmp_path / "run.trec").write_text(RUN.replace("d2 2", "d2  2"))  # two spaces: not plain
    ingest_file(tmp_path / "a.duckdb", "run", tmp_path / "run.trec")
    assert taken == [None]
    assert rows(tmp_path / "a.duckdb", "SELECT count(*) FROM rankings") == [(3,)]


def test_a_first_load_killed_mid_write_leaves_no_rows(tmp_path):
    """kill -9 inside the open transaction, after the rows went into the new table and the
    summaries were built from them: the database is as it was, and loads the file again."""
    import os
    import signal
    import subprocess
    import sys

    from dashboard.store.ingest import PAUSE_ENV

    (tmp_path / "qrels.trec").write_text(QRELS)
    (tmp_path / "run.trec").write_text(RUN)
    db = tmp_path / "a.duckdb"
    ingest_file(db, "qrels", tmp_path / "qrels.trec")
    before = tables(db)
    code = "from dashboard.store.ingest import ingest_file; import sys; ingest_file(sys.argv[1], 'run', sys.argv[2])"
    proc = subprocess.Popen([sys.executable, "-c", code, str(db), str(tmp_path / "run.trec")],
                            env=dict(os.environ, **{PAUSE_ENV: "60"}), stderr=subprocess.PIPE, text=True)
    assert "paused inside the open transaction" in proc.stderr.readline()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert tables(db) == before and "rankings" not in before
    ingest_file(db, "run", tmp_path / "run.trec")
    assert rows(db, "SELECT count(*) FROM rankings") == [(3,)]
