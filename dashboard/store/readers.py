"""What an input file is: its format, columns and how its records are numbered.

DuckDB reads every file itself, so a large file is never held in Python: Parquet in place; CSV
through a Parquet copy of its text, written in file order so that a row's position gives its line;
TREC (whitespace separated) into a temporary table numbered in file order.
"""

from __future__ import annotations

import csv
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

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
    row_label: str  # "line" for text files (a CSV header is line 1), "row" for Parquet
    fmt: str
    columns: list[str] = field(default_factory=list)  # the file's columns, without ROW


def _parquet_columns(path: Path) -> list[str]:
    """Header and row count from the footer alone: a 50M-row file is never read into memory here."""
    import pyarrow.parquet as pq  # ~0.2 s of a process's start-up (its S3 support): imported for Parquet only

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
        raise InputError([f"{path.name}: no such file"])
    if not path.is_file():
        raise InputError([f"{path.name}: is a directory, not a file; expected a CSV, Parquet or TREC file"])
    if path.stat().st_size == 0:
        raise InputError([f"{path.name}: the file is empty; expected a header and data rows"])
    fmt = detect_format(path, kind)
    try:
        if fmt == "parquet":
            return Loaded("row", fmt, _parquet_columns(path))
    except pa.ArrowInvalid as exc:
        raise InputError([f"{path.name}: cannot be parsed as {fmt}: {exc}"]) from None
    if fmt == "csv":
        return Loaded("line", fmt, csv_header(path))
    return Loaded("line", fmt, [n for n in trec_names(kind) if not n.startswith("_")])


def _scratch_file(scratch: Path) -> Path:
    return scratch / f"{uuid.uuid4().hex}.parquet"


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
    out = _copy_text(con, path, "csv", scratch, header=True, delimiter=csv_delimiter(path), quotechar='"',
                     escapechar='"', columns={name: "VARCHAR" for name in header})
    import pyarrow.parquet as pq

    require_rows(path, pq.ParquetFile(out).metadata.num_rows)
    return out


def _copy_text(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, scratch: Path, **read_options) -> Path:
    """A text file's fields as DuckDB's CSV reader splits them (nothing detected), written to Parquet
    in file order, so a row's position in the copy gives its record's place in the file."""
    out = _scratch_file(scratch)
    try:
        con.execute("SET preserve_insertion_order = true")  # the default; row numbers depend on it
        con.read_csv(str(path), auto_detect=False, **read_options).write_parquet(str(out))
    except duckdb.Error as exc:
        raise InputError([f"{path.name}: cannot be parsed as {fmt}: {_csv_error(exc)}"]) from None
    return out


def _csv_error(exc: Exception) -> str:
    """DuckDB's CSV error, shortened to where and what ('CSV Error on Line: 3 ... Found: 4')."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    keep = [line for line in lines if line.startswith(("CSV Error on Line", "Invalid Input Error: CSV Error",
                                                       "Expected Number of Columns", "Original Line"))]
    text = "; ".join(keep or lines[:1])
    return text.replace("Invalid Input Error: ", "")[:300]


def trec_names(kind: str) -> list[str]:
    return TREC_RUN_COLUMNS if kind == "run" else TREC_QRELS_COLUMNS


TREC_BAD_LINES_SHOWN = 20  # wrong field counts listed one by one; the rest are counted


def trec_select(con: duckdb.DuckDBPyConnection, path: Path, kind: str, scratch: Path) -> str:
    return trec_source(con, path, kind, scratch)[0]


def trec_source(con: duckdb.DuckDBPyConnection, path: Path, kind: str, scratch: Path) -> tuple[str, list[str]]:
    """trec_select's SELECT, and the text columns already known to be non-empty text on one line
    (those of a plain file: its bytes were checked), which the checks then only measure."""
    scan = _plain_scan(path)
    plain = _trec_plain(con, path, kind, scan) if scan else None
    if plain is None:
        return _trec_general(con, path, kind, scratch), []
    # single spaces between exactly the expected fields: each is non-empty; without control
    # characters, each is text on one line
    text = [n for n in trec_names(kind) if not n.startswith("_") and n not in TREC_NUMBERS]
    return plain, [] if scan[1] else text


def _trec_general(con: duckdb.DuckDBPyConnection, path: Path, kind: str, scratch: Path) -> str:
    """A SELECT of a TREC file's named fields and line numbers. The lines are read as text in file
    order (blank lines kept as empty rows, so the row number is the line), split once on any run of
    whitespace into a temporary table that the checks then read (in memory, spilled by DuckDB past
    its limit: no disk copy, which cost 2-4x the parse on a busy disk).

    As trec_eval reads them: a run line has at least 6 fields (fields after the tag are ignored, as
    in trec_eval's results.trunc), a qrels line exactly 4; a line whose first character is `#` is a
    comment (MS MARCO qrels carry them). Every line with a wrong field count is refused at once."""
    names = trec_names(kind)
    # \x01 never separates anything: each line is one field, read as written
    read = _read_text(con, path, "trec", header=False, delimiter="\x01", quotechar="", escapechar="",
                      columns={"line": "VARCHAR"})
    # RE2's \s is [\t\n\f\r ]: trim those, and split on single spaces unless a line holds another
    # separator (string_split is about 1.5x faster than the regular expression on every line)
    space = [32, 9, 10, 12, 13]
    trim_chars = " || ".join(f"chr({c})" for c in space)
    other = " OR ".join(["contains(t, '  ')"] + [f"contains(t, chr({c}))" for c in space[1:]])
    # with insertion order preserved, row_number() over the scan is the line number
    trimmed = f"SELECT trim(line, {trim_chars}) AS t, row_number() OVER () AS {ROW} FROM ({read.sql_query()})"
    split = (f"SELECT CASE WHEN {other} THEN regexp_split_to_array(t, '\\s+') ELSE string_split(t, ' ') END AS f, "
             f"{ROW} FROM ({trimmed}) WHERE t <> '' AND NOT starts_with(t, '#')")
    named = ", ".join(f"f[{i}] AS {n}" for i, n in enumerate(names, start=1) if not n.startswith("_"))
    table = f"_trec_{uuid.uuid4().hex}"
    try:
        con.execute("SET preserve_insertion_order = true")  # the default; row numbers depend on it
        con.execute(f"CREATE TEMP TABLE {table} AS SELECT {named}, {ROW}, len(f) AS n_fields FROM ({split})")
    except duckdb.Error as exc:
        raise InputError([f"{path.name}: cannot be parsed as trec: {_csv_error(exc)}"]) from None
    wrong = f"n_fields < {len(names)}" if kind == "run" else f"n_fields <> {len(names)}"
    problems = _wrong_field_counts(con, f"SELECT * FROM {table}", wrong, path, kind, len(names))
    if problems:
        raise InputError(problems)
    require_rows(path, con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    return f"SELECT * EXCLUDE (n_fields) FROM {table}"


# numeric fields of a plain file parsed as they are read: DuckDB's CSV reader parses a DOUBLE as
# TRY_CAST does (checked on 33 odd spellings), so a value it takes is the value the checks see; it
# reads no integer type, which would round '+1.5' to 2 where the checks refuse it
TREC_NUMBERS = {"score": "DOUBLE", "relevance": "DOUBLE"}


def _trec_plain(con: duckdb.DuckDBPyConnection, path: Path, kind: str,
                scan: tuple[int, bool] | None = None) -> str | None:
    """The common file, read directly (about half the work of splitting every line): fields
    separated by single spaces, no blank, comment or indented line, no tab, form feed or carriage
    return (checked on the bytes first). None for any other file, which the general reader then takes
    whole; so is a file whose lines do not all have exactly the expected fields (DuckDB's error),
    and one with a number that is not a number, or one the checks would refuse (not finite, beyond
    the limits, a grade with a fraction): the general reader keeps every value as written, so the
    refusal quotes it.

    Scores and grades are parsed by the reader (in parallel, not cast again by each check), and the
    line number is the row's place in the table (a plain file holds one record per line): no
    numbering pass over the whole file, which ran on one thread. `scan`: `_plain_scan(path)`, when
    the caller has it."""
    scan = scan or _plain_scan(path)
    if not scan or not scan[0]:
        return None
    lines = scan[0]
    names = trec_names(kind)
    table = f"_trec_{uuid.uuid4().hex}"
    kept = [n for n in names if not n.startswith("_")]
    try:
        read = _plain_read(con, path, names)
        con.execute(f"CREATE TEMP TABLE {table} AS SELECT {', '.join(kept)} FROM ({read.sql_query()})")
    except duckdb.Error:
        return None
    if con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] != lines or _refused_numbers(con, table, kept):
        con.execute(f"DROP TABLE {table}")  # a line DuckDB skipped, or a value to quote as written
        return None
    return f"SELECT *, rowid + 1 AS {ROW} FROM {table}"


def trec_stored(con: duckdb.DuckDBPyConnection, path: Path, kind: str, table: str,
                columns: list[tuple[str, str]], model: str | None = None) -> tuple[str, list[str]] | None:
    """A first load's plain file parsed straight into its stored `table` (not yet in the database),
    inside a transaction begun here and left open: the caller validates the rows through the
    returned SELECT (trec_source's pair) and then commits, or rolls back on a refusal, so nothing
    is written unless the whole load is. One write instead of a staged copy and its insert, and
    the checks read the compressed table (duplicate keys ~30% less CPU): ~0.4 s of CPU less for
    a 2M-line run, ~0.3 s for its qrels. `columns`: the table's (name, SQL type) in order; fields
    the file lacks are NULL, `model` replaces the tag. A grade is stored as its type only when
    the checks would take it (whole, finite, within the limits; else NULL, which sends the file
    back). None, with nothing begun or written, for any file `_trec_plain` would not take."""
    scan = _plain_scan(path)
    if not scan or not scan[0]:
        return None
    names = trec_names(kind)
    kept = [n for n in names if not n.startswith("_")]
    select, params, refused = [], [], []
    for name, sql_type in columns:
        if name == "model" and model is not None:
            select.append(f"CAST(? AS {sql_type}) AS {name}")
            params.append(model)
        elif name not in kept:
            select.append(f"CAST(NULL AS {sql_type}) AS {name}")
        elif name in TREC_NUMBERS and sql_type != "DOUBLE":  # a grade: stored only when the checks take it
            select.append(f"CASE WHEN NOT ({_bad_number(name)}) THEN CAST({name} AS {sql_type}) END AS {name}")
            refused.append(f"{name} IS NULL")
        else:
            select.append(f"CAST({name} AS {sql_type}) AS {name}")
            if name in TREC_NUMBERS:
                refused.append(_bad_number(name))
    try:
        read = _plain_read(con, path, names)
        con.execute("BEGIN TRANSACTION")
    except duckdb.Error:
        return None
    try:
        con.execute(f"CREATE TABLE {table} AS SELECT {', '.join(select)} FROM ({read.sql_query()})", params)
        taken = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == scan[0] and (not refused or con.execute(
            f"SELECT 1 FROM {table} WHERE {' OR '.join(f'({r})' for r in refused)} LIMIT 1").fetchone() is None)
    except duckdb.Error:  # not plain after all (DuckDB's error): nothing kept
        taken = False
    if not taken:
        con.execute("ROLLBACK")
        return None
    # rows not yet committed are numbered from an offset of DuckDB's, in file order
    first = con.execute(f"SELECT min(rowid) FROM {table}").fetchone()[0]
    text = [n for n in kept if n not in TREC_NUMBERS]
    return f"SELECT {', '.join(kept)}, rowid - {int(first) - 1} AS {ROW} FROM {table}", [] if scan[1] else text


def _plain_read(con: duckdb.DuckDBPyConnection, path: Path, names: list[str]) -> duckdb.DuckDBPyRelation:
    """A plain file as DuckDB's CSV reader parses it (raises duckdb.Error for one that is not)."""
    con.execute("SET preserve_insertion_order = true")  # the row's place is its line
    return con.read_csv(str(path), auto_detect=False, header=False, delimiter=" ", quotechar="",
                        escapechar="", columns={n: TREC_NUMBERS.get(n, "VARCHAR") for n in names},
                        strict_mode=True)


def _bad_number(name: str) -> str:
    """SQL, true where a parsed score or grade breaks a rule of dashboard/store/validate.py."""
    from dashboard.store.validate import MAX_ABS_FLOAT, MAX_ABS_INT  # validate imports this module

    if name == "relevance":
        return f"NOT isfinite(relevance) OR relevance <> floor(relevance) OR abs(relevance) > {MAX_ABS_INT}"
    return f"NOT isfinite({name}) OR abs({name}) > {MAX_ABS_FLOAT!r}"


def _refused_numbers(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> bool:
    """Whether a parsed score or grade breaks a rule of dashboard/store/validate.py (one pass)."""
    bad = [_bad_number(c) for c in columns if c in TREC_NUMBERS]
    if not bad:
        return False
    return con.execute(f"SELECT 1 FROM {table} WHERE {' OR '.join(f'({b})' for b in bad)} LIMIT 1").fetchone() is not None


# bytes that make a line something else than single-space separated fields: an empty field, a
# blank, indented or comment line, another whitespace separator
NOT_PLAIN = (b"  ", b"\n\n", b"\n ", b" \n", b"\n#", b"\t", b"\f", b"\r")
# control characters (the newline apart): a plain file without any has fields of text on one line
# by construction, so the checks need not search each of them (~0.2 s per 2M-row column)
CONTROL = bytes(range(32)).replace(b"\n", b"") + b"\x7f"
# one translation per chunk serves every search: a newline reads as a space, so "two spaces" covers
# the first four patterns at once; tab, form feed and carriage return become \x01 (not plain); the
# other control characters \x02 (CONTROL, which only the text checks care about)
_SCAN = bytearray(range(256))
for _b in CONTROL:
    _SCAN[_b] = 2
for _b in b"\t\f\r":
    _SCAN[_b] = 1
_SCAN[ord("\n")] = ord(" ")
_SCAN = bytes(_SCAN)


def _plain_scan(path: Path) -> tuple[int, bool] | None:
    """(line count, whether a CONTROL byte occurs) when the file's bytes hold none of NOT_PLAIN;
    else None. The line count is the newlines, plus a last line without one. One read and one
    translation per chunk, then a few searches: 0.18 s of CPU for a 2M-line run and its qrels, where
    a line count and then a separate control pass took 0.29-0.33 s."""
    count, control, tail = 0, False, b"\n"  # as if preceded by a newline: a first line blank, indented or '#'
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            window = tail + chunk
            mapped = window.translate(_SCAN)
            # '#' first: one byte is a memchr, a line-start '#' a slower two-byte search
            if b"\x01" in mapped or b"  " in mapped or (b"#" in window and b"\n#" in window):
                return None
            control = control or b"\x02" in mapped
            count += chunk.count(b"\n")
            tail = chunk[-1:]
    if tail == b" ":
        return None
    return count + (tail != b"\n"), control


def _plain_line_count(path: Path) -> int | None:
    """The file's line count when its bytes hold none of NOT_PLAIN; else None."""
    scan = _plain_scan(path)
    return scan[0] if scan else None


def _read_text(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, **read_options) -> duckdb.DuckDBPyRelation:
    try:
        return con.read_csv(str(path), auto_detect=False, **read_options)
    except duckdb.Error as exc:
        raise InputError([f"{path.name}: cannot be parsed as {fmt}: {_csv_error(exc)}"]) from None


def _wrong_field_counts(con, table: str, wrong: str, path: Path, kind: str, n_names: int) -> list[str]:
    total = con.execute(f"SELECT count(*) FROM ({table}) WHERE {wrong}").fetchone()[0]
    if not total:
        return []
    bad = con.execute(f"SELECT {ROW}, n_fields FROM ({table}) WHERE {wrong} ORDER BY {ROW} "
                      f"LIMIT {TREC_BAD_LINES_SHOWN}").fetchall()
    if kind == "run":
        expected = f"a TREC run line is 'qid Q0 docno rank score tag' ({n_names} fields; more are ignored)"
    else:
        expected = f"a TREC qrels line is 'qid 0 docno rel' ({n_names} fields)"
    out = [f"{path.name}, line {row}: {n} fields; {expected}" for row, n in bad]
    if total > len(bad):
        out.append(f"{path.name}: {total - len(bad):,} more line(s) with a wrong number of fields "
                   f"({total:,} in all)")
    return out
