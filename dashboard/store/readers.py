"""What an input file is: its format, columns and how its records are numbered.

Parquet and CSV are read by DuckDB itself at load time (CSV through a Parquet copy of its text, see
ingest.py), so a large file is never held in Python. TREC run and qrels files are whitespace
separated and read here into an Arrow table with the line number of every record.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
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
    table: pa.Table | None  # includes the ROW column; None for Parquet and CSV, which DuckDB reads
    row_label: str  # "line" for text files (header is line 1), "row" for Parquet
    fmt: str
    columns: list[str] = field(default_factory=list)  # the file's columns, without ROW (Parquet, TREC)


def _parquet_columns(path: Path) -> list[str]:
    """Header and row count from the footer alone: a 50M-row file is never read into memory here."""
    meta = pq.ParquetFile(path)
    require_rows(path, meta.metadata.num_rows)
    return list(meta.schema_arrow.names)


def require_rows(path: Path, rows: int) -> None:
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
            return Loaded(None, "line", fmt, csv_header(path))
        table, first, label = _read_trec(path, kind), 1, "line"
    except pa.ArrowInvalid as exc:
        raise InputError([f"{path.name}: cannot be parsed as {fmt}: {exc}"]) from None
    require_rows(path, table.num_rows)
    rows = pa.array(range(first, first + table.num_rows), type=pa.int64())
    return Loaded(table.append_column(ROW, rows), label, fmt, list(table.column_names))


def csv_delimiter(path: Path) -> str:
    return "\t" if path.suffix.lower() == ".tsv" else ","


def csv_header(path: Path) -> list[str]:
    """The header line's names, as written (DuckDB then reads the rows with exactly these columns,
    so a row with a field too many or too few is an error naming its line, never re-guessed)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle, delimiter=csv_delimiter(path)), [])
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError([f"{path.name}, line 1: cannot read the header: {exc}"]) from None
    if not header or not any(h.strip() for h in header):
        raise InputError([f"{path.name}, line 1: no header; expected column names"])
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputError([f"{path.name}, line 1: column {', '.join(map(repr, dupes))} appears more than once"])
    return header


def csv_as_parquet(con: duckdb.DuckDBPyConnection, path: Path, header: list[str], scratch: Path) -> Path:
    """Copy a CSV file's text, every field as written, into Parquet, in file order: DuckDB streams it
    (memory stays flat at any size) and the copy's row number + 2 is the CSV line (header = line 1).
    Nothing is guessed: the header's columns, the delimiter and RFC 4180 quoting are given."""
    out = scratch / f"{len(list(scratch.iterdir()))}.parquet"
    try:
        con.execute("SET preserve_insertion_order = true")  # the default; row numbers depend on it
        con.read_csv(str(path), header=True, auto_detect=False, delimiter=csv_delimiter(path), quotechar='"',
                     escapechar='"', columns={name: "VARCHAR" for name in header}).write_parquet(str(out))
    except duckdb.Error as exc:
        raise InputError([f"{path.name}: cannot be parsed as csv: {_csv_error(exc)}"]) from None
    require_rows(path, pq.ParquetFile(out).metadata.num_rows)
    return out


def _csv_error(exc: Exception) -> str:
    """DuckDB's CSV error, shortened to where and what ('CSV Error on Line: 3 ... Found: 4')."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    keep = [line for line in lines if line.startswith(("CSV Error on Line", "Invalid Input Error: CSV Error",
                                                       "Expected Number of Columns", "Original Line"))]
    text = "; ".join(keep or lines[:1])
    return text.replace("Invalid Input Error: ", "")[:300]


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
