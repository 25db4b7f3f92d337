"""Raw logs for the lake tests, written as the lake holds them (hive-partitioned Parquet), and the
same rows loaded through the ordinary ingest path for comparison."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dashboard.cli import main
from dashboard.store.ingest import ingest_file
from tests.test_prediction_bins import make_frame
from tests.test_ranking_summary import random_collection


def predictions_frame(seed: int = 11, n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = make_frame(rng, n)  # scores on bin edges, ties, NaN labels, a segment with None
    frame["weight"] = np.where(rng.random(len(frame)) < 0.1, np.nan, rng.integers(1, 4, len(frame)).astype(float))
    frame["value"] = rng.gamma(2.0, 40.0, len(frame)).round(2)
    frame["day"] = frame["ts"].dt.date.astype(str)
    return frame


def write_partitioned(frame: pd.DataFrame, root: Path, column: str) -> Path:
    """One directory per value of `column` (`column=value/part.parquet`), as Spark and Hive write."""
    for value, part in frame.groupby(column):
        d = root / f"{column}={value}"
        d.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pandas(part.drop(columns=[column]), preserve_index=False), d / "part.parquet")
    return root


def ranking_frames(seed: int = 5, n_queries: int = 120) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    run, qrels = random_collection(seed, n_queries)
    run["shard"] = run["query_id"].str[1:].astype(int) % 3  # a query's list sits in one partition
    ids = sorted(set(run.query_id) | set(qrels.query_id))
    rng = np.random.default_rng(seed)
    queries = pd.DataFrame({"query_id": ids, "tier": rng.choice(["free", "pro", " ", None], len(ids)),
                            "locale": rng.choice(["en", "de"], len(ids))})
    return run, qrels, queries


def unit_frame(seed: int = 3, n: int = 4000) -> pd.DataFrame:
    """Values and pre-period values are multiples of 1/8 below 200, so every sum, sum of squares and
    cross-product sum is exact in float64 whatever order an engine adds them in."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "experiment_id": rng.choice(["E1", "E2"], n), "variant": rng.choice(["control", "treatment"], n),
        "metric": rng.choice(["revenue", "retained"], n), "unit_id": [f"u{i}" for i in range(n)],
        "value": np.minimum(np.round(rng.exponential(3.0, n) * 8) / 8, 199), "country": rng.choice(["US", "DE", None], n),
    })
    # the same unit's metric before the experiment: correlated, many ties and zeros
    frame["pre_value"] = np.minimum(np.round((0.6 * frame.value + rng.exponential(1.0, n) - 0.5).clip(0) * 8) / 8, 199)
    return frame


def unit_results(units: pd.DataFrame) -> pd.DataFrame:
    """What `results` holds for `units`, computed here with pandas (the reference `summarize` must
    equal): overall rows (country NULL) and one row per country, an unknown one as "(missing)"."""
    u = units.assign(sq=units.value ** 2, pre_sq=units.pre_value ** 2, cross=units.value * units.pre_value,
                     country=units.country.fillna("(missing)"))
    sums = {"n": ("value", "size"), "sum": ("value", "sum"), "sum_sq": ("sq", "sum"), "pre_sum": ("pre_value", "sum"),
            "pre_sum_sq": ("pre_sq", "sum"), "sum_cross": ("cross", "sum")}
    keys = ["experiment_id", "variant", "metric"]
    overall = u.groupby(keys).agg(**sums).reset_index().assign(country=None)
    by_country = u.groupby(keys + ["country"]).agg(**sums).reset_index()
    return pd.concat([overall, by_country], ignore_index=True)


def write_lake(root: Path) -> dict[str, Path]:
    preds = predictions_frame()
    run, qrels, queries = ranking_frames()
    paths = {"preds": write_partitioned(preds, root / "preds", "day"),
             "runs": write_partitioned(run, root / "runs", "shard"),
             "qrels": root / "qrels.parquet", "queries": root / "queries.parquet", "units": root / "units.parquet"}
    qrels.to_parquet(paths["qrels"], index=False)
    queries.to_parquet(paths["queries"], index=False)
    unit_frame().to_parquet(paths["units"], index=False)
    return paths


def ingest_raw(root: Path, db: Path) -> Path:
    """The same rows through `ingest`: the reference the summaries must equal."""
    preds = predictions_frame().drop(columns=["day"])
    run, qrels, queries = ranking_frames()
    preds.to_parquet(root / "flat_preds.parquet", index=False)
    run.drop(columns=["shard"]).to_parquet(root / "flat_run.parquet", index=False)
    ingest_file(db, "predictions", root / "flat_preds.parquet")
    ingest_file(db, "queries", root / "queries.parquet")
    ingest_file(db, "qrels", root / "qrels.parquet")
    ingest_file(db, "run", root / "flat_run.parquet")
    unit_results(unit_frame()).to_parquet(root / "unit_results.parquet", index=False)
    ingest_file(db, "results", root / "unit_results.parquet")
    return db


def load_postgres(url: str, prefix: str = "lake_") -> dict[str, str]:
    """The rows write_lake writes, as tables of a PostgreSQL database (NaN as NULL, as in Parquet),
    with their partition columns (day, shard) as columns; returns summarize's --source for each."""
    from tests.postgres_server import load_frames

    run, qrels, queries = ranking_frames()
    frames = {"preds": predictions_frame(), "runs": run, "qrels": qrels, "queries": queries, "units": unit_frame()}
    load_frames(url, {prefix + k: v for k, v in frames.items()})
    return {k: f"table:{prefix}{k}" for k in frames}


def summarize(db: Path, paths: dict[str, Path] | None, engine: str = "duckdb") -> None:
    """`summarize` of the lake's Parquet on DuckDB or Spark; `paths` None: `engine` is a PostgreSQL
    URL, and the same rows are loaded into it as tables first."""
    common = ["--db", str(db), "--engine", engine]
    if paths is None:
        tables = load_postgres(engine)
        assert main(["summarize", "predictions", "--source", tables["preds"], "--partition-by", "day", *common]) == 0
        assert main(["summarize", "rankings", "--source", tables["runs"], "--partition-by", "shard",
                     "--qrels", tables["qrels"], "--queries", tables["queries"], *common]) == 0
        assert main(["summarize", "results", "--source", tables["units"], *common]) == 0
        return
    assert main(["summarize", "predictions", "--source", str(paths["preds"]), *common]) == 0
    assert main(["summarize", "rankings", "--source", str(paths["runs"]), "--qrels", str(paths["qrels"]),
                 "--queries", str(paths["queries"]), *common]) == 0
    assert main(["summarize", "results", "--source", str(paths["units"]), *common]) == 0
