"""DuckDB memory cap: applied to every connection, refused clearly when malformed, and a capped
build that has to spill gives the same summaries as an uncapped one."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from dashboard.cli import main
from dashboard.store.connection import MEMORY_LIMIT_ENV, connect
from dashboard.store.ingest import ingest_file


def predictions_file(tmp_path, n=400_000):
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({
        "model": rng.choice(["a", "b"], n),
        "score": rng.random(n).round(5),
        "label": rng.choice([0, 1, None], n, p=[0.7, 0.2, 0.1]),
        "ts": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D"),
        "country": rng.choice([f"c{i}" for i in range(40)], n),
        "device": rng.choice(["ios", "android", "web"], n),
    })
    path = tmp_path / "predictions.parquet"
    frame.to_parquet(path)
    return path


def bins(db) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT * FROM prediction_bins ORDER BY ALL").fetchall()
    finally:
        con.close()


def rows(db) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM predictions").fetchone()[0]
    finally:
        con.close()


def test_capped_build_spills_and_equals_the_uncapped_one(tmp_path, monkeypatch):
    path = predictions_file(tmp_path)
    ingest_file(tmp_path / "free.duckdb", "predictions", path)
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "120MB")
    ingest_file(tmp_path / "capped.duckdb", "predictions", path)
    con = connect(tmp_path / "capped.duckdb", read_only=True)
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "114.4 MiB"
    con.close()
    expected = bins(tmp_path / "free.duckdb")
    assert len(expected) > 100_000  # 2 models x 60 days x 44 segment values x many bins
    assert bins(tmp_path / "capped.duckdb") == expected


@pytest.mark.parametrize("value", ["lots", "5", "1 GB extra", "-1GB"])
def test_malformed_cap_is_refused_before_any_work(tmp_path, monkeypatch, capsys, value):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, value)
    code = main(["demo", "--db", str(tmp_path / "x.duckdb")])
    assert code == 2
    assert f"{MEMORY_LIMIT_ENV}={value!r}: expected a size such as 512MB or 2GB" in capsys.readouterr().err
    assert not (tmp_path / "x.duckdb").exists()


def test_out_of_memory_is_explained_and_stores_nothing(tmp_path, monkeypatch, capsys):
    path = predictions_file(tmp_path)
    db = tmp_path / "store.duckdb"
    ingest_file(db, "predictions", path)
    before = bins(db), rows(db)
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "20MB")
    code = main(["ingest", "predictions", str(path), "--db", str(db), "--replace"])
    assert code == 3
    err = capsys.readouterr().err
    assert "DuckDB ran out of memory" in err and f"raise {MEMORY_LIMIT_ENV} (now 20MB)" in err
    assert "nothing of it was stored" in err
    monkeypatch.delenv(MEMORY_LIMIT_ENV)
    assert (bins(db), rows(db)) == before
