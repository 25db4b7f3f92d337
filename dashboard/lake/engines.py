"""Connecting to the engine that holds the raw logs, and opening a source on it.

A source is Parquet (a file, a glob, or a hive-partitioned directory such as `logs/day=2026-11-02/`;
local or any URL the engine reads: s3://, gs://, hdfs://) or a table the engine already has
(`table:db.schema.name`). Hive partition keys become columns on every engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import ibis

from dashboard.lake.settings import EngineSettings, SettingsError, scrub
from dashboard.store.connection import configure

PARQUET_SCHEMES = ("s3://", "s3a://", "gs://", "gcs://", "hdfs://", "abfs://", "abfss://", "az://", "file://")
HIVE_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=")


@dataclass(frozen=True)
class Source:
    spec: str
    table: object  # ibis Table
    partition_columns: tuple[str, ...]


def connect(settings: EngineSettings):
    """An Ibis backend for the settings; Spark and warehouse drivers are imported only when asked for."""
    if settings.name == "duckdb":
        backend = ibis.duckdb.connect()
        configure(backend.con)  # the same DuckDB memory cap as the store
        return backend
    if settings.name == "spark":
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise SettingsError("engine 'spark' needs pyspark: pip install -e '.[spark]' (and Java 17)") from None
        builder = SparkSession.builder.appName("dashboard-summarize")
        for key, value in settings.spark_conf().items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        return ibis.pyspark.connect(session)
    try:
        return ibis.connect(settings.url)
    except (ImportError, ModuleNotFoundError) as exc:
        raise SettingsError(f"engine {settings.describe()}: its Ibis backend is not installed "
                            f"(pip install 'ibis-framework[{settings.name}]'): {exc}") from None
    except Exception as exc:  # each driver raises its own: refused, bad password, no such database
        raise SettingsError(f"engine {settings.describe()}: cannot connect "
                            f"({type(exc).__name__}: {scrub(str(exc), settings.url)})") from None


def is_parquet(spec: str) -> bool:
    return not spec.startswith("table:") and (
        spec.startswith(PARQUET_SCHEMES) or spec.endswith(".parquet") or "*" in spec or Path(spec).exists())


def hive_keys(spec: str) -> tuple[str, ...]:
    """Partition keys of a local hive-style directory (`day=.../model=...`), outermost first."""
    root = Path(spec)
    if not root.is_dir():
        return ()
    keys: list[str] = []
    level = root
    while True:
        subdirs = sorted(p for p in level.iterdir() if p.is_dir() and HIVE_KEY.match(p.name))
        if not subdirs:
            return tuple(keys)
        keys.append(HIVE_KEY.match(subdirs[0].name).group(1))
        level = subdirs[0]


def _glob_matches(pattern: str) -> bool:
    """Whether a local glob (with ** for any depth) matches a file, without listing them all."""
    import glob

    return next(glob.iglob(pattern, recursive=True), None) is not None


def open_source(backend, spec: str, partition_by: tuple[str, ...] = ()) -> Source:
    """The source as an Ibis table; `partition_by` overrides the discovered hive keys."""
    if is_parquet(spec):
        path = spec.removeprefix("file://")
        if Path(path).is_dir():
            files = [p for p in Path(path).rglob("*.parquet")]
            if not files:
                raise SettingsError(f"{spec}: a directory with no .parquet files under it")
            path = str(Path(path) / "**" / "*.parquet") if backend.name == "duckdb" else path
        elif not path.startswith(PARQUET_SCHEMES) and "*" not in path and not Path(path).exists():
            raise SettingsError(f"{spec}: no such file")
        elif not path.startswith(PARQUET_SCHEMES) and "*" in path and not _glob_matches(path):
            raise SettingsError(f"{spec}: no file matches this pattern")
        kwargs = {"hive_partitioning": True} if backend.name == "duckdb" else {}
        table = backend.read_parquet(path, **kwargs)
        keys = partition_by or hive_keys(spec.removeprefix("file://"))
    elif spec.startswith("table:"):
        *database, name = spec.removeprefix("table:").split(".")
        try:
            table = backend.table(name, database=tuple(database) if len(database) > 1 else (database[0] if database else None))
        except Exception as exc:  # each backend raises its own "not found"
            raise SettingsError(f"{spec}: the engine has no such table ({type(exc).__name__}: {exc})") from None
        keys = partition_by
    else:
        raise SettingsError(f"{spec}: not a Parquet file or directory, and not `table:NAME`")
    missing = [k for k in keys if k not in table.columns]
    if missing:
        raise SettingsError(f"{spec}: partition column(s) {', '.join(missing)} not in the data "
                            f"(columns: {', '.join(table.columns)})")
    return Source(spec, table, tuple(keys))
