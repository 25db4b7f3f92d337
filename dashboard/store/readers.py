"""Read an input file into an Arrow table plus the line/row number of every record.

CSV keeps whatever types pyarrow infers (validation casts with TRY_CAST, so a stray "abc" in a
number column is found, not silently coerced). TREC run and qrels files are whitespace separated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROW = "_row"

TREC_RUN_COLUMNS = ["query_id", "_q0", "item_id", "_rank", "score", "model"]
TREC_QRELS_COLUMNS = ["query_id", "_iter", "item_id", "relevance"]


class InputError(ValueError):
    """A file that cannot be loaded; the message names the file, row and column."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class Loaded:
    table: pa.Table | None  # includes the ROW column; None for Parquet, which DuckDB reads itself
    row_label: str  # "line" for text files (header is line 1), "row" for Parquet
    fmt: str
    columns: list[str] = field(default_factory=list)  # the file's columns, without ROW


def _parquet_columns(path: Path) -> list[str]:
    """Header and row count from the footer alone: a 50M-row file is never read into memory here."""
    meta = pq.ParquetFile(path)
    _require_rows(path, meta.metadata.num_rows)
    return list(meta.schema_arrow.names)


def _require_rows(path: Path, rows: int) -> None:
    if rows == 0:
        raise InputError([f"{path.name}: has a header but no data rows"])


def detect_format(path: Path, kind: str) -> str:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".csv", ".tsv"):
        return "csv"
    if kind in ("run", "qrels"):
        return "trec"
    raise InputError([f"{path.name}: unknown file type {suffix!r}; expected .csv or .parquet"])


def read_input(path: Path, kind: str) -> Loaded:
    if not path.exists():
        raise InputError([f"{path}: no such file"])
    if path.stat().st_size == 0:
        raise InputError([f"{path.name}: the file is empty; expected a header and data rows"])
    fmt = detect_format(path, kind)
    try:
        if fmt == "parquet":
            return Loaded(None, "row", fmt, _parquet_columns(path))
        if fmt == "csv":
            delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
            table = pacsv.read_csv(
                path,
                parse_options=pacsv.ParseOptions(delimiter=delimiter),
                convert_options=pacsv.ConvertOptions(strings_can_be_null=True, null_values=[""]),
            )
            first, label = 2, "line"
        else:
            table, first, label = _read_trec(path, kind), 1, "line"
    except pa.ArrowInvalid as exc:
        raise InputError([f"{path.name}: cannot be parsed as {fmt}: {exc}"]) from None
    _require_rows(path, table.num_rows)
    rows = pa.array(range(first, first + table.num_rows), type=pa.int64())
    return Loaded(table.append_column(ROW, rows), label, fmt, list(table.column_names))


def _read_trec(path: Path, kind: str) -> pa.Table:
    names = TREC_RUN_COLUMNS if kind == "run" else TREC_QRELS_COLUMNS
    columns: list[list[str]] = [[] for _ in names]
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != len(names):
                expected = "qid Q0 docno rank score tag" if kind == "run" else "qid 0 docno rel"
                raise InputError(
                    [f"{path.name}, line {line_no}: {len(fields)} fields; a TREC {kind} line is "
                     f"'{expected}' ({len(names)} fields)"]
                )
            for column, value in zip(columns, fields):
                column.append(value)
    table = pa.table({n: pa.array(c, type=pa.string()) for n, c in zip(names, columns)})
    return table.drop_columns([n for n in names if n.startswith("_")])
