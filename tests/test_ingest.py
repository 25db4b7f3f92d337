"""Ingest: every refusal names file, row and column; a refused or killed load changes nothing."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from dashboard.store.ingest import PAUSE_ENV, ingest_file, last_refusal
from dashboard.store.readers import InputError

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text.strip() + "\n")
    return path


def snapshot(db: Path) -> dict:
    """Every table's rows, as a comparable fingerprint."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        out = {}
        for t in tables:
            rows = con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall()
            out[t] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return out
    finally:
        con.close()


GOOD = """
model,score,label,country,ts
m1,0.9,1,US,2026-11-01 10:00:00
m1,0.3,0,US,2026-11-01 11:00:00
m1,0.5,,DE,2026-11-02 10:00:00
"""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "store.duckdb"
    ingest_file(path, "predictions", write(tmp_path, "good.csv", GOOD))
    return path


REFUSALS = [
    ("predictions", "missing.csv", "model,score,country\nm1,0.5,US", ["missing.csv", "missing column 'label'"]),
    ("predictions", "misspelled.csv", "model,score,lable\nm1,0.5,1",
     ["missing column 'label' (found 'lable': misspelled?)"]),
    ("predictions", "type.csv", "model,score,label\nm1,0.5,1\nm1,high,0",
     ["type.csv, line 3, column 'score': found 'high'; expected a finite number"]),
    ("predictions", "nan.csv", "model,score,label\nm1,nan,1", ["line 2, column 'score': found 'nan'"]),
    ("predictions", "inf.csv", "model,score,label\nm1,0.2,1\nm1,-inf,1", ["line 3, column 'score': found '-inf'"]),
    ("predictions", "labels.csv", "model,score,label\nm1,0.5,2", ["line 2, column 'label': found '2'; expected 0 or 1"]),
    ("results", "neg.csv", "experiment_id,variant,metric,n,sum,sum_sq\nE1,control,ctr,-5,1,1",
     ["neg.csv, line 2, column 'n': found '-5'; expected a whole number >= 0"]),
    ("results", "dup.csv",
     "experiment_id,variant,metric,n,sum,sum_sq\nE1,control,ctr,5,1,1\nE1,treatment,ctr,5,1,1\nE1,control,ctr,6,1,1",
     ["dup.csv, lines 2, 4: duplicate key", "experiment_id='E1'"]),
    ("experiments", "date.csv",
     "experiment_id,name,start_date,end_date,control_model,treatment_model\nE1,x,2026-13-01,2026-01-02,a,b",
     ["line 2, column 'start_date': found '2026-13-01'; expected a date (YYYY-MM-DD)"]),
    ("qrels", "qrels.csv", "query_id,item_id,relevance\nq1,d1,1.5", ["column 'relevance': found '1.5'; expected a whole number"]),
    ("daily", "extra.csv", "date,metric,valeu\n2026-01-01,ctr,0.1", ["missing column 'value'"]),
]


@pytest.mark.parametrize("kind,name,text,expected", REFUSALS, ids=[r[1] for r in REFUSALS])
def test_refusals_name_file_row_column_and_change_nothing(db, tmp_path, kind, name, text, expected):
    before = snapshot(db)
    with pytest.raises(InputError) as info:
        ingest_file(db, kind, write(tmp_path, name, text))
    message = str(info.value)
    for part in expected:
        assert part in message
    assert snapshot(db) == before
    assert last_refusal(db)["problems"] == info.value.problems


def test_empty_file_and_header_only_and_unknown_kind(db, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty.csv: the file is empty"):
        ingest_file(db, "predictions", empty)
    with pytest.raises(InputError, match="header.csv: has a header but no data rows"):
        ingest_file(db, "predictions", write(tmp_path, "header.csv", "model,score,label"))
    with pytest.raises(InputError, match="unknown kind 'predicitons'; expected one of predictions"):
        ingest_file(db, "predicitons", write(tmp_path, "x.csv", GOOD))


def test_every_problem_is_reported_at_once(db, tmp_path):
    text = "model,score,label\n,abc,1\nm1,0.5,7\nm1,nan,0\nm1,0.1,1\nm1,0.2,3\nm1,0.2,4\nm1,0.3,5"
    with pytest.raises(InputError) as info:
        ingest_file(db, "predictions", write(tmp_path, "many.csv", text))
    problems = info.value.problems
    assert any("line 2, column 'model'" in p for p in problems)
    assert any("line 2, column 'score'" in p for p in problems)
    assert any("line 4, column 'score'" in p for p in problems)
    assert any("column 'label': 4 rows in all" in p for p in problems)


def test_reloading_a_keyed_file_is_refused_unless_replace(tmp_path):
    db = tmp_path / "s.duckdb"
    path = write(tmp_path, "r.csv", "experiment_id,variant,metric,n,sum,sum_sq\nE1,control,ctr,5,1,1")
    ingest_file(db, "results", path)
    with pytest.raises(InputError, match="already loaded; pass --replace"):
        ingest_file(db, "results", path)
    path.write_text("experiment_id,variant,metric,n,sum,sum_sq\nE1,control,ctr,9,2,2\n")
    ingest_file(db, "results", path, replace=True)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT n FROM experiment_results").fetchall() == [(9,)]


def test_predictions_file_loaded_twice_needs_replace(db, tmp_path):
    with pytest.raises(InputError, match="already loaded on"):
        ingest_file(db, "predictions", tmp_path / "good.csv")
    ingest_file(db, "predictions", tmp_path / "good.csv", replace=True)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM predictions").fetchone()[0] == 3


def test_parquet_and_csv_load_the_same_rows(tmp_path):
    frame = pd.DataFrame({"model": ["a", "a", "b"], "score": [0.1, 0.7, 0.7], "label": [0, 1, None],
                          "tier": ["free", "power", None]})
    frame.to_parquet(tmp_path / "p.parquet")
    frame.to_csv(tmp_path / "p.csv", index=False)
    for name in ("p.parquet", "p.csv"):
        db = tmp_path / f"{name}.duckdb"
        ingest_file(db, "predictions", tmp_path / name)
        con = duckdb.connect(str(db), read_only=True)
        rows = con.execute("SELECT model, score, label, tier FROM predictions ORDER BY model, score").fetchall()
        assert rows == [("a", 0.1, 0, "free"), ("a", 0.7, 1, "power"), ("b", 0.7, None, None)]
        con.close()


def test_parquet_row_numbers_in_messages(tmp_path):
    pd.DataFrame({"model": ["a", "a"], "score": [0.1, float("nan")], "label": [0, 1]}).to_parquet(tmp_path / "x.parquet")
    with pytest.raises(InputError, match=r"x.parquet, row 2, column 'score': is empty; expected a finite number"):
        ingest_file(tmp_path / "d.duckdb", "predictions", tmp_path / "x.parquet")


def test_trec_run_and_qrels(tmp_path):
    run = write(tmp_path, "run.trec", "q1 Q0 d1 1 2.5 bm25\nq1 Q0 d2 2 1.5 bm25\nq2 Q0 d1 1 0.3 bm25")
    qrels = write(tmp_path, "qrels.trec", "q1 0 d1 1\nq1 0 d3 2\nq2 0 d9 0")
    db = tmp_path / "r.duckdb"
    ingest_file(db, "qrels", qrels)
    ingest_file(db, "run", run)
    ingest_file(db, "run", run, model="bm25-tuned")
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT model, count(*) FROM rankings GROUP BY 1 ORDER BY 1").fetchall() == [
        ("bm25", 3), ("bm25-tuned", 3)]
    assert con.execute("SELECT relevance FROM qrels ORDER BY item_id").fetchall() == [(1,), (2,), (0,)]


def test_bad_trec_line_names_the_line(tmp_path):
    run = write(tmp_path, "run.trec", "q1 Q0 d1 1 2.5 bm25\nq1 Q0 d2 2 1.5")
    with pytest.raises(InputError, match="run.trec, line 2: 5 fields; a TREC run line is 'qid Q0 docno rank score tag'"):
        ingest_file(tmp_path / "r.duckdb", "run", run)


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.*")) if EXAMPLES.exists() else [])
def test_bundled_examples_load(tmp_path, name):
    kind = {"run.trec": "run", "qrels.trec": "qrels", "run_logged.csv": "run"}.get(name, Path(name).stem)
    result = ingest_file(tmp_path / "e.duckdb", kind, EXAMPLES / name)
    assert result.rows > 0


def test_killed_mid_load_leaves_database_exactly_as_it_was(db, tmp_path):
    rng = np.random.default_rng(3)
    n = 50_000
    pd.DataFrame({"model": "m2", "score": rng.random(n), "label": rng.integers(0, 2, n),
                  "country": rng.choice(["US", "DE"], n)}).to_parquet(tmp_path / "big.parquet")
    before = snapshot(db)
    code = ("from dashboard.store.ingest import ingest_file; import sys; "
            "ingest_file(sys.argv[1], 'predictions', sys.argv[2])")
    proc = subprocess.Popen([sys.executable, "-c", code, str(db), str(tmp_path / "big.parquet")],
                            env=dict(os.environ, **{PAUSE_ENV: "60"}), stderr=subprocess.PIPE, text=True)
    # every row is written and the summaries rebuilt inside the open transaction: kill it there
    assert "paused inside the open transaction" in proc.stderr.readline()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert snapshot(db) == before
    ingest_file(db, "predictions", tmp_path / "big.parquet")  # and the store still works
    assert snapshot(db) != before


def test_pandas_index_column_is_not_a_segment(tmp_path):
    frame = pd.DataFrame({"model": ["a", "a"], "score": [0.1, 0.9], "label": [0, 1]}, index=[10, 20])
    frame.to_parquet(tmp_path / "i.parquet")  # writes __index_level_0__
    result = ingest_file(tmp_path / "i.duckdb", "predictions", tmp_path / "i.parquet")
    assert result.segment_columns == []


def test_parquet_run_takes_the_model_override_and_row_numbers(tmp_path):
    run = pd.DataFrame({"model": ["bm25", "bm25", "bm25"], "query_id": ["q1", "q1", "q2"],
                        "item_id": ["d1", "d2", "d1"], "score": [2.5, 1.5, 0.3]})
    run.to_parquet(tmp_path / "run.parquet")
    db = tmp_path / "r.duckdb"
    ingest_file(db, "run", tmp_path / "run.parquet", model="it's-tuned")  # a quote in the name
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT DISTINCT model FROM rankings").fetchall() == [("it's-tuned",)]
    con.close()
    run.drop(columns=["model"]).assign(score=[2.5, None, 0.3]).to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(InputError, match=r"bad.parquet, row 2, column 'score'"):
        ingest_file(db, "run", tmp_path / "bad.parquet", model="x")


def test_not_a_parquet_file_is_refused_by_name(tmp_path):
    (tmp_path / "fake.parquet").write_text("model,score\na,0.1\n")
    with pytest.raises(InputError, match=r"fake.parquet: cannot be parsed as parquet"):
        ingest_file(tmp_path / "d.duckdb", "predictions", tmp_path / "fake.parquet")


def test_parquet_changed_while_loading_is_refused_and_stores_nothing(db, tmp_path):
    # Parquet is read in place (never copied into memory), so a rewrite mid-load must be caught
    path = tmp_path / "live.parquet"
    pd.DataFrame({"model": ["m9"] * 3, "score": [0.1, 0.5, 0.9], "label": [0, 1, 1]}).to_parquet(path)
    before = snapshot(db)
    code = ("from dashboard.cli import main; import sys; "
            "sys.exit(main(['ingest', 'predictions', sys.argv[2], '--db', sys.argv[1]]))")
    proc = subprocess.Popen([sys.executable, "-c", code, str(db), str(path)],
                            env=dict(os.environ, **{PAUSE_ENV: "3"}), stderr=subprocess.PIPE, text=True)
    assert "paused inside the open transaction" in proc.stderr.readline()
    pd.DataFrame({"model": ["m9"] * 4, "score": [0.1, 0.5, 0.9, 0.2], "label": [0, 1, 1, 0]}).to_parquet(path)
    err = proc.stderr.read()
    assert proc.wait() == 2
    assert "live.parquet: changed while it was loading; nothing was stored, load it again" in err
    assert snapshot(db) == before


def test_line_numbers_hold_in_a_large_csv_read_in_parallel(tmp_path):
    """DuckDB reads a big CSV in parallel chunks; the lines named must still be the file's lines."""
    n = 400_000
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"model": "m", "score": rng.random(n).round(6).astype(str), "label": rng.integers(0, 2, n),
                          "zip": rng.choice(["02134", "10001"], n)})
    bad = [7, 123_456, 399_998]  # 0-based rows; the file line is row + 2
    frame.loc[bad, "score"] = ["high", "x1", "?"]
    frame.to_csv(tmp_path / "big.csv", index=False)
    with pytest.raises(InputError) as err:
        ingest_file(tmp_path / "b.duckdb", "predictions", tmp_path / "big.csv")
    assert [p.split(",")[1].strip() for p in err.value.problems] == [f"line {r + 2}" for r in bad]
    frame.loc[bad, "score"] = "0.5"
    frame.to_csv(tmp_path / "big.csv", index=False)
    ingest_file(tmp_path / "b.duckdb", "predictions", tmp_path / "big.csv")
    con = duckdb.connect(str(tmp_path / "b.duckdb"), read_only=True)
    assert con.execute("SELECT count(*), count(DISTINCT zip), min(zip) FROM predictions").fetchone() == (n, 2, "02134")
    con.close()  # text stays text: a zip code keeps its leading zero


@pytest.mark.parametrize("text, message", [
    ("model,score,label\nm,0.5,1\nm,0.7,0,extra\n", "CSV Error on Line: 3; Original Line: m,0.7,0,extra; "
                                                     "Expected Number of Columns: 3 Found: 4"),
    ("model,score,label\nm,0.5,1\nm,0.7\n", "CSV Error on Line: 3"),
])
def test_a_ragged_csv_is_refused_with_its_line(tmp_path, monkeypatch, text, message):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with pytest.raises(InputError, match=f"ragged.csv: cannot be parsed as csv: {message}"):
        ingest_file(tmp_path / "r.duckdb", "predictions", write(tmp_path, "ragged.csv", text))
    assert not list(scratch.iterdir())  # the Parquet copy of the text is gone


def test_csv_header_problems_name_line_one(tmp_path):
    with pytest.raises(InputError, match=r"dup.csv, line 1: column 'score' appears more than once"):
        ingest_file(tmp_path / "d.duckdb", "predictions", write(tmp_path, "dup.csv", "model,score,score\nm,1,2\n"))
    (tmp_path / "latin.csv").write_bytes("model,sc\xf6re,label\nm,0.5,1\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin.csv, line 1: found bytes .* that are not UTF-8.*--encoding cp1252"):
        ingest_file(tmp_path / "d.duckdb", "predictions", tmp_path / "latin.csv")
    quoted = write(tmp_path, "quoted.csv", 'model,score,label,country\n"m, v2",0.5,1,"Côte d\'Ivoire"\n')
    ingest_file(tmp_path / "d.duckdb", "predictions", quoted)
    con = duckdb.connect(str(tmp_path / "d.duckdb"), read_only=True)
    assert con.execute("SELECT model, country FROM predictions").fetchall() == [("m, v2", "Côte d'Ivoire")]
    con.close()


def test_trec_whitespace_blank_lines_and_line_numbers(tmp_path):
    """TREC fields are split on any run of spaces or tabs; blank lines still count as lines."""
    run = write(tmp_path, "run.trec", "q1 Q0 d1 1 2.5 bm25\n\tq1\tQ0  d2 2 1.5 bm25  \n\n   \nq2 Q0 d3 1 high bm25\n")
    with pytest.raises(InputError, match=r"run.trec, line 5, column 'score': found 'high'"):
        ingest_file(tmp_path / "t.duckdb", "run", run)
    run.write_text(run.read_text().replace("high", "0.5"))
    ingest_file(tmp_path / "t.duckdb", "run", run, model="it's tuned")
    con = duckdb.connect(str(tmp_path / "t.duckdb"), read_only=True)
    assert con.execute("SELECT model, query_id, item_id, score FROM rankings ORDER BY item_id").fetchall() == [
        ("it's tuned", "q1", "d1", 2.5), ("it's tuned", "q1", "d2", 1.5), ("it's tuned", "q2", "d3", 0.5)]
    con.close()


def test_a_large_trec_run_names_the_right_line(tmp_path):
    n = 300_000
    lines = [f"q{i // 100} Q0 d{i} {i % 100 + 1} {i / n:.6f} sys" for i in range(n)]
    lines[250_000] = "q2500 Q0 d250000 1 0.5"  # 5 fields, at line 250,001
    (tmp_path / "big.trec").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"big.trec, line 250001: 5 fields"):
        ingest_file(tmp_path / "b.duckdb", "run", tmp_path / "big.trec")
