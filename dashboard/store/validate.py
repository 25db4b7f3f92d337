"""Validate a staged file against its kind before anything is written.

Each check is one SQL query over the staged rows; every problem names the file, the line or row,
the column, what was found and what was expected. All problems are collected, not just the first.
"""

from __future__ import annotations

import difflib

import duckdb

from dashboard.store.catalog import RUN_FORMS, run_forms
from dashboard.store.readers import ROW
from dashboard.store.schema import IDENTIFIER, Column, Kind
from dashboard.store.sqlutil import ident

MAX_EXAMPLES = 3
STAGE = "_stage"

# SQL predicate that is TRUE for a bad non-null value, and what we expected instead.
_TYPE_RULES: dict[str, tuple[str, str]] = {
    "float": (
        "TRY_CAST({c} AS DOUBLE) IS NULL OR isnan(TRY_CAST({c} AS DOUBLE)) "
        "OR isinf(TRY_CAST({c} AS DOUBLE))",
        "a finite number",
    ),
    "label": ("TRY_CAST({c} AS DOUBLE) IS NULL OR TRY_CAST({c} AS DOUBLE) NOT IN (0, 1)", "0 or 1"),
    "count": (
        "TRY_CAST({c} AS DOUBLE) IS NULL OR TRY_CAST({c} AS DOUBLE) < 0 "
        "OR TRY_CAST({c} AS DOUBLE) <> floor(TRY_CAST({c} AS DOUBLE))",
        "a whole number >= 0",
    ),
    "int": (
        "TRY_CAST({c} AS DOUBLE) IS NULL OR TRY_CAST({c} AS DOUBLE) <> floor(TRY_CAST({c} AS DOUBLE))",
        "a whole number",
    ),
    "position": (
        "TRY_CAST({c} AS DOUBLE) IS NULL OR TRY_CAST({c} AS DOUBLE) < 1 "
        "OR TRY_CAST({c} AS DOUBLE) <> floor(TRY_CAST({c} AS DOUBLE))",
        "a whole number >= 1 (1 = top)",
    ),
    "date": ("TRY_CAST({c} AS DATE) IS NULL", "a date (YYYY-MM-DD)"),
    "timestamp": ("TRY_CAST({c} AS TIMESTAMP) IS NULL", "a date-time (YYYY-MM-DD HH:MM:SS)"),
    "string": ("trim(CAST({c} AS VARCHAR)) = ''", "non-empty text"),
}


def check_columns(file_name: str, kind: Kind, columns: list[str]) -> tuple[list[str], list[str]]:
    """Return (problems, segment columns) from the header alone."""
    problems: list[str] = []
    present = set(columns)
    known = set(kind.column_names)
    # pandas writes its index into Parquet as __index_level_N__: not data, never a segment
    extra = [c for c in columns if c not in known and c != ROW and not c.startswith("__index_level_")]
    for col in kind.columns:
        if col.needs and col.name in present and col.needs not in present:
            problems.append(f"{file_name}: column {col.name!r} needs column {col.needs!r} beside it "
                            f"({col.doc})")
        if col.required and col.name not in present and not (col.unless and col.unless in present):
            guess = difflib.get_close_matches(col.name, extra, n=1, cutoff=0.6)
            hint = f" (found {guess[0]!r}: misspelled?)" if guess else ""
            problems.append(
                f"{file_name}: missing column {col.name!r}{hint}; a {kind.name} file needs "
                f"{', '.join(c.name for c in kind.columns if c.required)}"
                + (f" ({col.name} may be left out when {col.unless} is given)" if col.unless else "")
            )
    segments: list[str] = []
    for name in extra:
        close = difflib.get_close_matches(name, kind.column_names, n=1, cutoff=0.75)
        if not kind.segments or close:
            why = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                f"{file_name}: unexpected column {name!r}{why}; a {kind.name} file has "
                f"{', '.join(kind.column_names)}"
                + (" and string segment columns" if kind.segments else "")
            )
        elif not IDENTIFIER.match(name):
            problems.append(
                f"{file_name}: segment column name {name!r} must be letters, digits and "
                "underscores, starting with a letter"
            )
        else:
            segments.append(name)
    return problems, segments


def check_values(
    con: duckdb.DuckDBPyConnection, file_name: str, row_label: str, kind: Kind, columns: list[str]
) -> list[str]:
    problems: list[str] = []
    for col in kind.columns:
        if col.name in columns:
            problems += _check_column(con, file_name, row_label, col)
    return problems


def _check_column(con, file_name: str, row_label: str, col: Column) -> list[str]:
    c = ident(col.name)
    problems: list[str] = []
    if not col.nullable:
        empty = con.execute(
            f"SELECT {ROW} FROM {STAGE} WHERE {c} IS NULL ORDER BY {ROW} LIMIT {MAX_EXAMPLES + 1}"
        ).fetchall()
        problems += _describe(file_name, row_label, col.name, [(r[0], None) for r in empty],
                              f"is empty; expected {_TYPE_RULES[col.type][1]}", con, f"{c} IS NULL")
    predicate, expected = _TYPE_RULES[col.type]
    where = f"{c} IS NOT NULL AND ({predicate.format(c=c)})"
    bad = con.execute(
        f"SELECT {ROW}, CAST({c} AS VARCHAR) FROM {STAGE} WHERE {where} ORDER BY {ROW} "
        f"LIMIT {MAX_EXAMPLES + 1}"
    ).fetchall()
    problems += _describe(file_name, row_label, col.name, bad, f"expected {expected}", con, where)
    return problems


def _describe(file_name, row_label, column, rows, what, con, where) -> list[str]:
    if not rows:
        return []
    out = []
    for row, value in rows[:MAX_EXAMPLES]:
        found = "" if value is None else f"found {value!r}; "
        out.append(f"{file_name}, {row_label} {row}, column {column!r}: {found}{what}")
    if len(rows) > MAX_EXAMPLES:
        total = con.execute(f"SELECT count(*) FROM {STAGE} WHERE {where}").fetchone()[0]
        out.append(f"{file_name}, column {column!r}: {total} rows in all with this problem")
    return out


def check_duplicates(
    con: duckdb.DuckDBPyConnection, file_name: str, row_label: str, key: list[str],
    what: str = "key", rule: str = "each key may appear once",
) -> list[str]:
    if not key:
        return []
    cols = ", ".join(ident(k) for k in key)
    rows = con.execute(
        f"SELECT list({ROW} ORDER BY {ROW}), {', '.join(f'CAST({ident(k)} AS VARCHAR)' for k in key)} "
        f"FROM {STAGE} GROUP BY {cols} HAVING count(*) > 1 ORDER BY min({ROW}) LIMIT {MAX_EXAMPLES}"
    ).fetchall()
    out = []
    for row in rows:
        where = ", ".join(f"{k}={v!r}" for k, v in zip(key, row[1:]))
        lines = ", ".join(str(x) for x in row[0][:5])
        out.append(f"{file_name}, {row_label}s {lines}: duplicate {what} ({where}); {rule}")
    return out


def check_run_lists(con: duckdb.DuckDBPyConnection, file_name: str, row_label: str,
                    columns: list[str]) -> list[str]:
    """A logged list holds each position once per model and query."""
    if "position" not in columns:
        return []
    return check_duplicates(con, file_name, row_label, ["model", "query_id", "position"],
                            what="position", rule="a list holds each position once")


def run_form(columns: list[str]) -> str:
    """How a run file orders and judges its lists (a key of catalog.RUN_FORMS)."""
    if "relevance" in columns:
        return "logged"
    return "positioned" if "position" in columns else "scored"


def check_run_form(con: duckdb.DuckDBPyConnection, file_name: str, row_label: str, columns: list[str],
                   replace: bool) -> list[str]:
    """A model's lists are all ordered and judged the same way: a stored model keeps its form,
    and a logged list arrives whole (its positions are not merged with stored ones)."""
    stored = run_forms(con)
    if not stored:
        return []
    form = run_form(columns)
    staged = {r[0] for r in con.execute(f"SELECT DISTINCT CAST(model AS VARCHAR) FROM {STAGE}").fetchall()}
    problems = [f"{file_name}: model {model!r} is stored as a {RUN_FORMS[had]}; this file is a "
                f"{RUN_FORMS[form]}. Load it under another model name (--model) so each model is ranked "
                "and judged one way"
                for model, had in sorted(stored.items()) if model in staged and had != form]
    if "position" in columns and not replace:
        row = con.execute(
            f"""SELECT s.{ROW}, s.model, s.query_id FROM {STAGE} s
                JOIN rankings t ON t.model = CAST(s.model AS VARCHAR) AND t.query_id = CAST(s.query_id AS VARCHAR)
                ORDER BY s.{ROW} LIMIT 1""").fetchone()
        if row:
            problems.append(f"{file_name}, {row_label} {row[0]}: model {row[1]!r}, query {row[2]!r} already "
                            "has a list loaded; a list comes in one file (pass --replace to swap it)")
    return problems
