"""`summarize results` with a pre-period column (CUPED statistics) and `summarize`'s segment values
held to ingest's rules, on DuckDB (tests/test_lake_parity.py runs the pre-period parity on Spark and
PostgreSQL too)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dashboard.cli import main
from dashboard.services import experiments as exp_service
from dashboard.store.connection import connect
from dashboard.store.ingest import ingest_file
from dashboard.store.readers import InputError
from tests.test_cuped import _args, ols_oracle, units


def unit_rows(by_tier: dict) -> pd.DataFrame:
    """One row per unit and metric, the pre-period value in a column of another name."""
    rows = []
    for tier, u in by_tier.items():
        for variant, (y, x) in u.items():
            rows.append(pd.DataFrame({"experiment_id": "E1", "variant": variant, "metric": "m", "value": y,
                                      "revenue_before": x, "tier": tier}))
    frame = pd.concat(rows, ignore_index=True)
    frame["unit_id"] = [f"u{i}" for i in range(len(frame))]
    return frame


def summarize_results(db, source, *extra) -> int:
    return main(["summarize", "results", "--source", str(source), "--db", str(db), *extra])


def test_summarized_pre_period_gives_the_regression_adjustment(tmp_path, capsys):
    by_tier = {"free": units(41, 300, 280, rho=0.8), "pro": units(42, 90, 70, rho=0.6, ties=True)}
    unit_rows(by_tier).to_parquet(tmp_path / "units.parquet", index=False)
    db = tmp_path / "lake.duckdb"
    assert summarize_results(db, tmp_path / "units.parquet", "--pre-column", "revenue_before") == 0
    assert "pre-period values from column revenue_before" in capsys.readouterr().out
    con = connect(db, read_only=True)
    try:
        report = exp_service.report(con, _args("E1"))
    finally:
        con.close()
    pooled = {v: tuple(np.concatenate([u[v][i] for u in by_tier.values()]) for i in (0, 1))
              for v in ("control", "treatment")}
    overall = report["metrics"][0]["cuped"]
    lift, _theta, se, _c = ols_oracle(pooled)
    assert overall["lift"] == pytest.approx(lift, rel=1e-9)
    for seg in report["segments"]:
        lift, _theta, se, adj_c = ols_oracle(by_tier[seg["value"]])
        cup = seg["metrics"][0]["cuped"]
        assert cup["lift"] == pytest.approx(lift, rel=1e-9)
        assert cup["relative_lift"] == pytest.approx(lift / abs(adj_c), rel=1e-9)
        assert (cup["ci_high"] - cup["ci_low"]) / 2 == pytest.approx(se * 1.96, rel=0.01)


def test_without_the_column_there_is_no_pre_period(tmp_path):
    unit_rows({"free": units(43)}).to_parquet(tmp_path / "units.parquet", index=False)
    db = tmp_path / "lake.duckdb"
    assert summarize_results(db, tmp_path / "units.parquet") == 0  # revenue_before is not pre_value
    con = connect(db, read_only=True)
    try:
        assert con.execute("SELECT count(pre_sum) FROM experiment_results").fetchone()[0] == 0
    finally:
        con.close()


def stored(db) -> list:
    con = connect(db, read_only=True)
    try:
        return con.execute("SELECT * FROM experiment_results ORDER BY ALL").fetchall()
    finally:
        con.close()


def test_bad_pre_period_columns_are_refused_and_change_nothing(tmp_path, capsys):
    good = unit_rows({"free": units(44, 20, 20)})
    good.to_parquet(tmp_path / "good.parquet", index=False)
    db = tmp_path / "lake.duckdb"
    assert summarize_results(db, tmp_path / "good.parquet", "--pre-column", "revenue_before") == 0
    before = stored(db)
    holes = good.copy()
    holes.loc[[3, 7], "revenue_before"] = np.nan
    holes.to_parquet(tmp_path / "holes.parquet", index=False)
    capsys.readouterr()
    assert summarize_results(db, tmp_path / "holes.parquet", "--pre-column", "revenue_before") == 2
    err = capsys.readouterr().err
    assert "holes.parquet, column revenue_before: 2 row(s) with a value but no finite pre-period value" in err
    assert "expected a number for every unit" in err
    good.assign(revenue_before="high").to_parquet(tmp_path / "text.parquet", index=False)
    assert summarize_results(db, tmp_path / "text.parquet", "--pre-column", "revenue_before") == 2
    assert "column revenue_before: found string; expected numbers" in capsys.readouterr().err
    assert summarize_results(db, tmp_path / "good.parquet", "--pre-column", "nope") == 2
    assert "--pre-column 'nope' is not a column" in capsys.readouterr().err
    assert stored(db) == before


# ---------------------------------------------------------------- segment values as ingest has them

BAD_VALUES = {"tab": "US\tEU", "newline": "US\n", "long": "x" * 201, "missing": " (missing)"}


def preds(country: list) -> pd.DataFrame:
    n = len(country)
    return pd.DataFrame({"model": "m", "score": np.linspace(0, 1, n), "label": np.arange(n) % 2 * 1.0,
                         "country": country})


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_summarize_refuses_the_segment_values_ingest_refuses(tmp_path, capsys, case):
    value = BAD_VALUES[case]
    frame = preds(["US", value, "DE", value])
    frame.to_parquet(tmp_path / "p.parquet", index=False)
    with pytest.raises(InputError):  # ingest's verdict on the same rows
        ingest_file(tmp_path / "ingest.duckdb", "predictions", tmp_path / "p.parquet")
    db = tmp_path / "lake.duckdb"
    assert main(["summarize", "predictions", "--source", str(tmp_path / "p.parquet"), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert f"p.parquet, column 'country': 2 row(s) with a value such as {value[:60]!r}" in err
    assert "expected a segment value on one line (no tab, newline or other control character), at most 200" in err
    assert "nothing was written" in err


def test_results_and_query_segments_are_held_to_the_same_rules(tmp_path, capsys):
    frame = unit_rows({"free": units(45, 10, 10)})
    frame.loc[4, "tier"] = "pro\r\n"
    frame.to_parquet(tmp_path / "units.parquet", index=False)
    assert summarize_results(tmp_path / "lake.duckdb", tmp_path / "units.parquet") == 2
    assert "units.parquet, column 'tier': 1 row(s) with a value such as 'pro\\r\\n'" in capsys.readouterr().err
    run = pd.DataFrame({"model": "a", "query_id": ["q1", "q2"], "item_id": "d1", "score": 1.0})
    qrels = pd.DataFrame({"query_id": ["q1", "q2"], "item_id": "d1", "relevance": 1})
    queries = pd.DataFrame({"query_id": ["q1", "q2"], "tier": ["free", "free\tpro"]})
    for name, f in (("run", run), ("qrels", qrels), ("queries", queries)):
        f.to_parquet(tmp_path / f"{name}.parquet", index=False)
    assert main(["summarize", "rankings", "--source", str(tmp_path / "run.parquet"), "--qrels",
                 str(tmp_path / "qrels.parquet"), "--queries", str(tmp_path / "queries.parquet"),
                 "--db", str(tmp_path / "rank.duckdb")]) == 2
    assert "queries.parquet, column 'tier': 1 row(s) with a value such as 'free\\tpro'" in capsys.readouterr().err


def test_spaces_are_trimmed_as_ingest_trims_them(tmp_path):
    """Spaces and the other Unicode space separators, as DuckDB's trim() on the ingest path; a line
    separator is kept on both paths."""
    frame = preds([" US", "US\u3000", "\u00a0DE", "  ", None, "DE\u2028"])
    frame.to_parquet(tmp_path / "p.parquet", index=False)
    ingest_file(tmp_path / "ingest.duckdb", "predictions", tmp_path / "p.parquet")
    db = tmp_path / "lake.duckdb"
    assert main(["summarize", "predictions", "--source", str(tmp_path / "p.parquet"), "--db", str(db)]) == 0
    sql = ("SELECT segment_value, sum(n_pos + n_neg) FROM prediction_bins WHERE segment_column = 'country' "
           "GROUP BY ALL ORDER BY ALL")
    got = []
    for path in (tmp_path / "ingest.duckdb", db):
        con = connect(path, read_only=True)
        try:
            got.append(con.execute(sql).fetchall())
        finally:
            con.close()
    assert got[0] == got[1] == [("(missing)", 2), ("DE", 1), ("DE\u2028", 1), ("US", 2)]
    assert not math.isnan(got[1][0][1])
