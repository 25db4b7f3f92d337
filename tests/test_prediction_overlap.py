"""Predictions that would count twice are refused: a file whose times overlap the stored rows of the
same model (a re-exported day), with the file, line and column; --append and --replace load it."""

from __future__ import annotations

import duckdb

from dashboard.cli import main


def _write(path, model: str, days: list[str], with_ts: bool = True):
    head = "model,score,label" + (",ts" if with_ts else "")
    rows = [f"{model},0.{i % 9 + 1},{i % 2}" + (f",{d} 0{i % 9}:00:00" if with_ts else "")
            for d in days for i in range(3)]
    path.write_text("\n".join([head, *rows]) + "\n")
    return str(path)


def _rows(db) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT count(*) FROM predictions").fetchone()[0]


def test_an_overlapping_export_is_refused_naming_the_first_overlapping_line(tmp_path, capsys):
    db = str(tmp_path / "p.duckdb")
    week1 = _write(tmp_path / "w1.csv", "m", ["2026-11-02", "2026-11-03"])
    assert main(["ingest", "predictions", week1, "--db", db]) == 0
    # the next export starts where the last ended: disjoint, loads
    assert main(["ingest", "predictions", _write(tmp_path / "w2.csv", "m", ["2026-11-04"]), "--db", db]) == 0
    assert _rows(db) == 9
    capsys.readouterr()
    again = _write(tmp_path / "again.csv", "m", ["2026-11-01", "2026-11-03", "2026-11-05"])
    assert main(["ingest", "predictions", again, "--db", db]) == 2
    err = capsys.readouterr().err
    # lines 2-4 are 1 Nov (before the stored range); line 5 is the first on a stored day
    assert "again.csv, line 5, column 'ts': model 'm' already has predictions from 2026-11-02 00:00:00 to " \
           "2026-11-04 02:00:00" in err, err
    assert "would count twice" in err and "--append" in err
    assert _rows(db) == 9  # unchanged
    assert main(["ingest", "predictions", again, "--db", db, "--append"]) == 0
    assert _rows(db) == 18


def test_other_models_files_without_times_and_replace_are_not_refused(tmp_path):
    db = str(tmp_path / "p.duckdb")
    assert main(["ingest", "predictions", _write(tmp_path / "a.csv", "a", ["2026-11-02"]), "--db", db]) == 0
    assert main(["ingest", "predictions", _write(tmp_path / "b.csv", "b", ["2026-11-02"]), "--db", db]) == 0
    assert main(["ingest", "predictions", _write(tmp_path / "c.csv", "a", ["2026-11-02"], with_ts=False),
                 "--db", db]) == 0  # no times: only an identical file is caught
    assert main(["ingest", "predictions", _write(tmp_path / "d.csv", "a", ["2026-11-02", "2026-11-09"]),
                 "--db", db, "--replace"]) == 0
    with duckdb.connect(db, read_only=True) as con:
        assert con.execute("SELECT model, count(*) FROM predictions GROUP BY 1 ORDER BY 1").fetchall() == [
            ("a", 6), ("b", 3)]


def test_a_file_around_the_stored_days_with_none_inside_them_loads(tmp_path):
    """Its range spans the stored one, but no row falls inside it: nothing would count twice."""
    db = str(tmp_path / "p.duckdb")
    assert main(["ingest", "predictions", _write(tmp_path / "mid.csv", "m", ["2026-11-05"]), "--db", db]) == 0
    around = _write(tmp_path / "around.csv", "m", ["2026-11-01", "2026-11-09"])
    assert main(["ingest", "predictions", around, "--db", db]) == 0
    assert _rows(db) == 9
