"""Summarise raw logs where they live (Parquet, Spark, a warehouse) into the dashboard's database.

    python -m dashboard summarize predictions --source logs/predictions/ --db data/lake.duckdb
    python -m dashboard summarize rankings --source runs/ --qrels qrels.parquet --queries queries.parquet
    python -m dashboard summarize results --source table:analytics.experiment_units --engine spark
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dashboard.lake import engines, settings
from dashboard.lake.settings import SettingsError
from dashboard.store.readers import InputError

KINDS = ("predictions", "rankings", "results")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("kind", choices=KINDS, help="which raw logs --source holds")
    parser.add_argument("--source", required=True,
                        help="Parquet file, glob or hive-partitioned directory (local, s3://, gs://, hdfs://), "
                             "or table:SCHEMA.NAME on the engine")
    parser.add_argument("--qrels", help="rankings: relevance judgements (same forms as --source); "
                        "not for logged rankings, which carry position and relevance")
    parser.add_argument("--queries", help="rankings: per-query segments (query_id + segment columns)")
    parser.add_argument("--engine", help="duckdb (default), spark, or an Ibis URL (postgres://..., "
                                         "bigquery://..., snowflake://..., trino://..., clickhouse://...); "
                                         f"default ${settings.ENGINE_ENV} or the config file")
    parser.add_argument("--config", type=Path, help=f"TOML/YAML engine settings (default ${settings.CONFIG_ENV})")
    parser.add_argument("--partition-by", nargs="+", default=(),
                        help="partition columns (default: the hive keys of a directory, e.g. day=...)")
    parser.add_argument("--rebuild", action="store_true", help="re-summarise every partition, not only new ones")
    parser.add_argument("--score-range", nargs=2, type=float, metavar=("LO", "HI"),
                        help="predictions: fixed bin range, so appended days never force a re-summary")
    parser.add_argument("--day-column", help="predictions: the date column (default ts, else a day/date partition)")
    parser.add_argument("--pre-column",
                        help="results: the column with each unit's pre-period value of the row's metric, "
                             "for CUPED (default: a column named pre_value, if any)")
    parser.add_argument("--no-coverage", action="store_true",
                        help="rankings: skip catalogue coverage (a full scan each run)")


def run(args) -> int:
    from dashboard.store.connection import connect

    try:
        conf = settings.load(args.config, args.engine)
        backend = engines.connect(conf)
        source = engines.open_source(backend, args.source, tuple(args.partition_by))
        key = source_key(args.source)
        print(f"summarising {args.kind} from {key} on {conf.describe()}", flush=True)
        if args.kind == "results":
            from dashboard.lake.results import results
            outcome = results(args.db, source, key, pre_column=args.pre_column)
        else:
            con = connect(args.db)
            try:
                outcome = _run_on(con, backend, source, key, args)
            finally:
                con.close()
    except (InputError, SettingsError) as exc:
        print(f"refused: nothing was written to {args.db}.", file=sys.stderr)
        for problem in getattr(exc, "problems", [str(exc)]):
            print(f"  - {problem}", file=sys.stderr)
        return 2
    print(outcome.line())
    return 0


def _run_on(con, backend, source, key: str, args):
    if args.kind == "predictions":
        from dashboard.lake.summarize import predictions
        return predictions(con, source, key, rebuild=args.rebuild,
                           fixed_range=tuple(args.score_range) if args.score_range else None,
                           day_column=args.day_column)
    from dashboard.lake.rankings import rankings
    qrels = engines.open_source(backend, args.qrels) if args.qrels else None  # logged rankings need none
    queries = engines.open_source(backend, args.queries) if args.queries else None
    return rankings(con, source, qrels, queries, key, rebuild=args.rebuild, coverage=not args.no_coverage)


def source_key(spec: str) -> str:
    """How a source is remembered between runs: an absolute local path, or the URL without secrets."""
    local = spec.removeprefix("file://")
    if not spec.startswith("table:") and "://" not in local and Path(local).exists():
        return str(Path(local).resolve())
    return settings.redact(spec)
