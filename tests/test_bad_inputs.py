"""The bad-input corpus (tests/bad_inputs/): every refused file exits 2 with a message naming the file,
the line or row and the column, and leaves every table's content unchanged; every odd-but-valid file
loads."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from dashboard.cli import main
from tests.bad_inputs.corpus import BASE, FILES, REFUSED, VALID

# problems about the file as a whole (no line or column to name): the file name and what is wrong
FILE_LEVEL = ("missing column", "misspelled", "unexpected column", "empty", "no data rows", "unknown kind",
              "unknown file type", "unknown encoding", "cannot be parsed as parquet", "same content",
              "column name 'my country'", "found a BIGINT column", "found a DOUBLE column", "found a VARCHAR[] column",
              "found a reserved name", "found NUL bytes")


def checksums(db: Path) -> dict[str, str]:
    """Every table's content (sorted rows), hashed."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        return {t: hashlib.sha256(repr(con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall()).encode()).hexdigest()
                for t in tables}
    finally:
        con.close()


@pytest.fixture(scope="module")
def base_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("bad_inputs") / "base.duckdb"
    for name, (kind, _) in BASE.items():
        assert main(["ingest", kind, str(FILES / name), "--db", str(db)]) == 0
    return db


@pytest.fixture
def db(base_db, tmp_path) -> Path:
    copy = tmp_path / "store.duckdb"
    shutil.copy(base_db, copy)
    return copy


def test_the_corpus_holds_at_least_80_refused_files():
    assert len(REFUSED) + 2 >= 80
    assert all((FILES / case[0]).exists() for case in REFUSED + VALID)


CASES = [(name, kind, args, expected) for name, kind, _, args, expected in REFUSED] + [
    ("x.csv", "predictions", [], ["x.csv", "is a directory"]),
    ("does_not_exist.csv", "predictions", [], ["does_not_exist.csv", "no such file"]),
]


@pytest.mark.parametrize("name,kind,args,expected", CASES, ids=[c[0] for c in CASES])
def test_refused_exit_2_naming_file_line_column_and_nothing_changes(db, capsys, name, kind, args, expected):
    before = checksums(db)
    code = main(["ingest", kind, str(FILES / name), "--db", str(db), *args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    problems = [line for line in err.splitlines() if line.startswith("  - ")]
    assert problems, err
    for part in expected:
        assert part in err, f"{part!r} not in:\n{err}"
    for problem in problems:
        assert name in problem, problem
        if not any(word in problem for word in FILE_LEVEL + ("is a directory", "no such file")):
            assert ("line " in problem or "row " in problem or "lines " in problem or "Line: " in problem), problem
            assert "column" in problem or "duplicate" in problem or "Line: " in problem, problem
    assert checksums(db) == before


@pytest.mark.parametrize("name,kind,args", [(c[0], c[1], c[3]) for c in VALID], ids=[c[0] for c in VALID])
def test_odd_but_valid_files_load(db, capsys, name, kind, args):
    code = main(["ingest", kind, str(FILES / name), "--db", str(db), *args])
    assert code == 0, capsys.readouterr().err


def test_offsets_are_stored_in_utc(db):
    assert main(["ingest", "predictions", str(FILES / "v_ts_offset.csv"), "--db", str(db)]) == 0
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT CAST(ts AS VARCHAR) FROM predictions WHERE model = 'zoned' ORDER BY score").fetchall()
    con.close()
    assert rows == [("2026-11-01 01:00:00",), ("2026-11-01 05:00:00",)]


def test_latin1_declared_keeps_its_letters(db):
    assert main(["ingest", "predictions", str(FILES / "v_latin1_declared.csv"), "--db", str(db),
                 "--encoding", "latin-1"]) == 0
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT country FROM predictions WHERE model = 'latin' ORDER BY 1").fetchall()
    con.close()
    assert rows == [("España",), ("Perú",)]


def test_replace_loads_the_same_content_again(db):
    copy = FILES / "p_same_content_copy.csv"
    assert main(["ingest", "predictions", str(copy), "--db", str(db), "--replace"]) == 0
    con = duckdb.connect(str(db), read_only=True)
    n = con.execute("SELECT count(*) FROM predictions WHERE model = 'm1'").fetchone()[0]
    con.close()
    assert n == 4  # replaced, not doubled


def test_a_new_segment_column_with_values_is_not_a_conflict(db):
    f = db.parent / "seg.csv"
    f.write_text("date,metric,value,region\n2026-01-01,ctr,0.2,EU\n")
    assert main(["ingest", "daily", str(f), "--db", str(db)]) == 0
