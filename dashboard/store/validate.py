"""Validate a staged file against its kind before anything is written.

Each check is one SQL query over the staged rows; every problem names the file, the line or row,
the column, what was found and what was expected. All problems are collected, not just the first.
"""

from __future__ import annotations

import math

import difflib
import re

import duckdb

from dashboard.store.catalog import RUN_FORMS, run_forms
from dashboard.store.readers import ROW
from dashboard.store.schema import IDENTIFIER, Column, Kind
from dashboard.store.sqlutil import ident

MAX_EXAMPLES = 3
STAGE = "_stage"

# The limits of the data contract (docs/data.md, "What is refused, and the limits").
MAX_SEGMENT_COLUMNS = 64  # checked on the header, before any row is read
MAX_SEGMENT_NAME = 48  # the ranking summary prefixes query segments with "segment_" (63-character identifiers)
MAX_SEGMENT_VALUE = 200  # characters
MAX_TEXT = 1000  # characters of a name or id (a description may be longer and span lines)
MAX_ABS_FLOAT = 1e15  # scores, weights, values, sums: bins and sums stay exact enough in DOUBLE
MAX_ABS_SUM_SQ = 1e30  # a sum of squares of values up to 1e15
MAX_ABS_INT = 10**15  # counts, grades, positions: well inside BIGINT and exact in DOUBLE
YEARS = (1900, 2200)
MISSING = "(missing)"  # how an empty segment is shown: a literal value would merge with it
RESERVED = {"_row", "file_row_number"}  # used by the loader for line numbers
MULTILINE = {"description"}  # free text that may span lines
FLOAT_LIMITS = {"sum_sq": MAX_ABS_SUM_SQ, "pre_sum_sq": MAX_ABS_SUM_SQ, "sum_cross": MAX_ABS_SUM_SQ}

# SQL predicate that is TRUE for a bad non-null value, and what we expected instead.
_TYPE_RULES: dict[str, tuple[str, str]] = {
    "float": (
        "TRY_CAST({c} AS DOUBLE) IS NULL OR isnan(TRY_CAST({c} AS DOUBLE)) "
        "OR isinf(TRY_CAST({c} AS DOUBLE)) OR abs(TRY_CAST({c} AS DOUBLE)) > {limit}",
        "a finite number within ±{limit_text}",
    ),
    "label": ("TRY_CAST({c} AS DOUBLE) IS NULL OR TRY_CAST({c} AS DOUBLE) NOT IN (0, 1)", "0 or 1"),
    "count": (
        "TRY_CAST({c} AS DOUBLE) IS NULL OR TRY_CAST({c} AS DOUBLE) < 0 "
        "OR TRY_CAST({c} AS DOUBLE) <> floor(TRY_CAST({c} AS DOUBLE)) OR TRY_CAST({c} AS DOUBLE) > {int_limit}",
        "a whole number >= 0 (at most {int_text})",
    ),
    "int": (
        "TRY_CAST({c} AS DOUBLE) IS NULL OR TRY_CAST({c} AS DOUBLE) <> floor(TRY_CAST({c} AS DOUBLE)) "
        "OR abs(TRY_CAST({c} AS DOUBLE)) > {int_limit}",
        "a whole number (within ±{int_text})",
    ),
    "position": (
        "TRY_CAST({c} AS DOUBLE) IS NULL OR TRY_CAST({c} AS DOUBLE) < 1 "
        "OR TRY_CAST({c} AS DOUBLE) <> floor(TRY_CAST({c} AS DOUBLE)) OR TRY_CAST({c} AS DOUBLE) > {int_limit}",
        "a whole number >= 1 (1 = top; at most {int_text})",
    ),
    # a date with a time of day other than midnight is refused, not silently truncated
    "date": ("TRY_CAST({c} AS DATE) IS NULL OR NOT (year(TRY_CAST({c} AS DATE)) BETWEEN {years}) "
             "OR TRY_CAST({c} AS TIMESTAMP) IS DISTINCT FROM CAST(TRY_CAST({c} AS DATE) AS TIMESTAMP)",
             "a date (YYYY-MM-DD) in the years {years_text}, without a time of day"),
    "timestamp": ("TRY_CAST({c} AS TIMESTAMP) IS NULL OR NOT (year(TRY_CAST({c} AS TIMESTAMP)) BETWEEN {years})",
                  "a date-time (YYYY-MM-DD HH:MM:SS) in the years {years_text} (an offset such as +05:00 is converted to UTC)"),
    # one line, bounded: a name with a newline breaks every table and chart it appears in
    "string": ("trim(CAST({c} AS VARCHAR)) = '' OR regexp_matches(CAST({c} AS VARCHAR), '[\\x00-\\x1f\\x7f]') "
               "OR length(CAST({c} AS VARCHAR)) > {text_limit}",
               "non-empty text on one line (no newline or control character), at most {text_limit} characters"),
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
    con: duckdb.DuckDBPyConnection, file_name: str, row_label: str, kind: Kind, columns: list[str],
    checked_text: tuple[str, ...] = (),
) -> list[str]:
    """`checked_text`: text columns the reader already found non-empty and on one line (a plain
    TREC file's fields): only their length is left to check."""
    problems: list[str] = []
    for col in kind.columns:
        if col.name in columns:
            problems += _check_column(con, file_name, row_label, col, col.name in checked_text)
    return problems


def _check_column(con, file_name: str, row_label: str, col: Column, checked_text: bool = False) -> list[str]:
    c = ident(col.name)
    problems: list[str] = []
    if not col.nullable:
        empty = con.execute(
            f"SELECT {ROW} FROM {STAGE} WHERE {c} IS NULL ORDER BY {ROW} LIMIT {MAX_EXAMPLES + 1}"
        ).fetchall()
        problems += _describe(file_name, row_label, col.name, [(r[0], None) for r in empty],
                              f"is empty; expected {_rule(col)[1]}", con, f"{c} IS NULL")
    predicate, expected = _rule(col)
    if checked_text and col.type == "string" and col.name not in MULTILINE:
        predicate = f"length(CAST({c} AS VARCHAR)) > {MAX_TEXT}"  # the rest of the rule holds already
    where = f"{c} IS NOT NULL AND ({predicate})"
    bad = con.execute(
        f"SELECT {ROW}, CAST({c} AS VARCHAR) FROM {STAGE} WHERE {where} ORDER BY {ROW} "
        f"LIMIT {MAX_EXAMPLES + 1}"
    ).fetchall()
    problems += _describe(file_name, row_label, col.name, bad, f"expected {expected}", con, where)
    return problems


def _rule(col: Column) -> tuple[str, str]:
    """The SQL predicate TRUE for a bad non-null value of `col`, and what was expected."""
    predicate, expected = _TYPE_RULES[col.type]
    if col.type == "string" and col.name in MULTILINE:
        predicate, expected = "trim(CAST({c} AS VARCHAR)) = ''", "non-empty text"
    limit = FLOAT_LIMITS.get(col.name, MAX_ABS_FLOAT)
    values = {"c": ident(col.name), "limit": repr(limit), "limit_text": f"10^{round(math.log10(limit))}",  # no scientific notation on a page
              "int_limit": str(MAX_ABS_INT), "int_text": "10^15", "years": f"{YEARS[0]} AND {YEARS[1]}",
              "years_text": f"{YEARS[0]}-{YEARS[1]}", "text_limit": str(MAX_TEXT)}
    return predicate.format(**values), expected.format(**values)


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
    # whether any key repeats, first: without each key's first line to carry, ~15% less work on a
    # 2M-line file, the common case
    if con.execute(f"SELECT 1 FROM {STAGE} GROUP BY {cols} HAVING count(*) > 1 LIMIT 1").fetchone() is None:
        return []
    same = " AND ".join(f"s.{ident(k)} IS NOT DISTINCT FROM d.{ident(k)}" for k in key)
    # the duplicated keys first (a count per key), then the lines of those few only: an ordered
    # list per key over every row cost about twice as much on a 2M-line run
    rows = con.execute(
        f"WITH d AS (SELECT {cols}, min({ROW}) AS first FROM {STAGE} GROUP BY {cols} HAVING count(*) > 1 "
        f"ORDER BY first LIMIT {MAX_EXAMPLES}) "
        f"SELECT list(s.{ROW} ORDER BY s.{ROW}), {', '.join(f'CAST(d.{ident(k)} AS VARCHAR)' for k in key)} "
        f"FROM d JOIN {STAGE} s ON {same} GROUP BY d.first, {', '.join(f'd.{ident(k)}' for k in key)} ORDER BY d.first"
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


def check_header(file_name: str, kind: Kind, columns: list[str]) -> list[str]:
    """Limits checked on the header alone, before any row is read (a 20 KB file with 5,000 segment
    columns would otherwise take gigabytes)."""
    problems = [f"{file_name}, line 1, column {name!r}: found a reserved name; expected another column "
                "name (the loader numbers lines with it)" for name in columns if name in RESERVED]
    extra = [c for c in columns if c not in kind.column_names and c not in RESERVED
             and not c.startswith("__index_level_")]
    if kind.segments and len(extra) > MAX_SEGMENT_COLUMNS:
        problems.append(f"{file_name}, line 1: found {len(extra)} segment columns ({', '.join(extra[:3])}, ...); "
                        f"expected at most {MAX_SEGMENT_COLUMNS}")
    elif kind.segments:
        problems += [f"{file_name}, line 1, column {name[:60]!r}: found a segment column name of {len(name)} "
                     f"characters; expected at most {MAX_SEGMENT_NAME}" for name in extra if len(name) > MAX_SEGMENT_NAME]
    return problems


def check_segment_types(con: duckdb.DuckDBPyConnection, file_name: str, segments: list[str]) -> list[str]:
    """Segment columns hold text: a numeric or list Parquet column is refused, not silently turned into
    segments (cast it to string first, or leave it out)."""
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE {STAGE}").fetchall()}
    return [f"{file_name}, column {name!r}: found a {types[name]} column; expected text (a segment column "
            "holds strings: cast it to string, or leave it out)"
            for name in segments if types.get(name) not in ("VARCHAR", None)]


# Kinds whose empty segment is shown as MISSING (in the others an empty segment is the overall row).
SHOWN_MISSING = {"predictions", "queries"}


def check_segment_values(con: duckdb.DuckDBPyConnection, file_name: str, row_label: str, kind: Kind,
                         segments: list[str]) -> list[str]:
    problems: list[str] = []
    literal = kind.name in SHOWN_MISSING
    for name in segments:
        c = f"CAST({ident(name)} AS VARCHAR)"
        where = (f"{c} IS NOT NULL AND (length({c}) > {MAX_SEGMENT_VALUE} "
                 + (f"OR trim({c}) = '{MISSING}' " if literal else "")
                 + "OR regexp_matches({c}, '[\\x00-\\x1f\\x7f]'))".replace("{c}", c))
        bad = con.execute(f"SELECT {ROW}, left({c}, 60) FROM {STAGE} WHERE {where} ORDER BY {ROW} "
                          f"LIMIT {MAX_EXAMPLES + 1}").fetchall()
        expected = f"expected a segment value on one line, at most {MAX_SEGMENT_VALUE} characters"
        if literal:
            expected += f", and not {MISSING!r} (that is how an empty segment is shown: leave it empty)"
        problems += _describe(file_name, row_label, name, bad, expected, con, where)
    return problems


# Rules between columns of one row: (column named, SQL predicate TRUE when bad, SQL of what was found,
# what was expected). Values that fail their type are NULL here (TRY_CAST), so they are reported once.
_N, _S, _Q = ("TRY_CAST(n AS DOUBLE)", "TRY_CAST(sum AS DOUBLE)", "TRY_CAST(sum_sq AS DOUBLE)")
_PS, _PQ, _C = ("TRY_CAST(pre_sum AS DOUBLE)", "TRY_CAST(pre_sum_sq AS DOUBLE)", "TRY_CAST(sum_cross AS DOUBLE)")
ROW_RULES: dict[str, list[tuple[str, str, str, str]]] = {
    "predictions": [
        ("weight", "TRY_CAST(weight AS DOUBLE) <= 0", "CAST(weight AS VARCHAR)",
         "a weight > 0 (leave it empty for 1)"),
    ],
    "results": [
        ("n", f"{_N} = 0", "CAST(n AS VARCHAR)", "n >= 1 (a variant with no units has no mean)"),
        ("variant", "CAST(variant AS VARCHAR) NOT IN ('control', 'treatment')", "CAST(variant AS VARCHAR)",
         "'control' or 'treatment' (an experiment's two variants, as written; a test with several "
         "treatment arms loads as one experiment_id per arm, each with the control's rows)"),
        # a negative variance beyond rounding: sum_sq < sum^2 / n
        ("sum_sq", f"{_N} > 0 AND {_Q} - {_S} * {_S} / {_N} < -1e-9 * greatest(abs({_Q}), {_S} * {_S} / {_N}, 1)",
         "format('sum_sq={} with sum={}, n={}', sum_sq, sum, n)",
         "sum_sq >= sum^2 / n (a variance is never negative)"),
        ("pre_sum", "(pre_sum IS NULL) <> (pre_sum_sq IS NULL) OR (pre_sum IS NULL) <> (sum_cross IS NULL)",
         "format('pre_sum={}, pre_sum_sq={}, sum_cross={}', pre_sum, pre_sum_sq, sum_cross)",
         "pre_sum, pre_sum_sq and sum_cross all given or all empty (CUPED needs the three)"),
        ("pre_sum_sq", f"{_N} > 0 AND {_PQ} - {_PS} * {_PS} / {_N} < -1e-9 * greatest(abs({_PQ}), {_PS} * {_PS} / {_N}, 1)",
         "format('pre_sum_sq={} with pre_sum={}, n={}', pre_sum_sq, pre_sum, n)",
         "pre_sum_sq >= pre_sum^2 / n (a variance is never negative)"),
        # the 2x2 covariance matrix of (metric, pre-period metric) is PSD: |cov|^2 <= var_y var_x
        ("sum_cross", f"{_N} > 0 AND ({_Q} - {_S} * {_S} / {_N}) * ({_PQ} - {_PS} * {_PS} / {_N}) "
         f"- ({_C} - {_S} * {_PS} / {_N}) ^ 2 < -1e-9 * greatest(abs({_Q}) * abs({_PQ}), 1)",
         "format('sum_cross={} with sum={}, sum_sq={}, pre_sum={}, pre_sum_sq={}, n={}', sum_cross, sum, "
         "sum_sq, pre_sum, pre_sum_sq, n)",
         "a covariance no larger than the two variances allow: (sum_cross - sum*pre_sum/n)^2 <= "
         "(sum_sq - sum^2/n)(pre_sum_sq - pre_sum^2/n), the same units measured in both periods"),
    ],
    "experiments": [
        ("end_date", "TRY_CAST(end_date AS DATE) < TRY_CAST(start_date AS DATE)",
         "format('{} (start_date {})', end_date, start_date)", "an end_date on or after start_date"),
        ("treatment_model", "trim(CAST(control_model AS VARCHAR)) = trim(CAST(treatment_model AS VARCHAR))",
         "CAST(treatment_model AS VARCHAR)", "a treatment_model other than the control_model"),
    ],
}


def check_rows(con: duckdb.DuckDBPyConnection, file_name: str, row_label: str, kind: Kind,
               columns: list[str]) -> list[str]:
    """The kind's rules between columns (ROW_RULES), for the columns the file has."""
    problems: list[str] = []
    for column, predicate, found, expected in ROW_RULES.get(kind.name, []):
        needed = {c for c in kind.column_names if re.search(rf"\b{c}\b", predicate + found)}
        if not needed <= set(columns):
            continue
        where = f"coalesce(({predicate}), false)"
        bad = con.execute(f"SELECT {ROW}, {found} FROM {STAGE} WHERE {where} ORDER BY {ROW} "
                          f"LIMIT {MAX_EXAMPLES + 1}").fetchall()
        problems += _describe(file_name, row_label, column, bad, f"expected {expected}", con, where)
    return problems
