"""Load one file of a known kind: read, validate everything, then write in one transaction.

A refused file changes nothing in the database; its problems are kept beside the database in
`<db>.last_refused.json` for the Data page. An interrupted load is rolled back by DuckDB's WAL.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from dashboard.store import covariances, summaries
from dashboard.store import prediction_overlap as overlap
from dashboard.store.catalog import segment_columns, table_exists
from dashboard.store.connection import connect_for_write
from dashboard.store.encoding import as_utf8, not_utf8
from dashboard.store.readers import ROW, InputError, csv_as_parquet, read_input, trec_source, trec_stored
from dashboard.store.schema import KINDS, SQL_TYPES, Kind
from dashboard.store.sqlutil import finish_pending, ident
from dashboard.store.validate import (STAGE, check_columns, check_duplicates, check_header, check_rows,
                                      check_run_form, check_run_lists, check_segment_types,
                                      check_segment_values, check_values)

# Test hook: seconds to sleep inside the open transaction, so a test can kill the process there.
PAUSE_ENV = "DASHBOARD_INGEST_PAUSE_FOR_TEST"
# A load's scratch directory carries its process id, so the next load removes those of dead loads.
SCRATCH_PREFIX = "dashboard-ingest-"
# Kinds whose segment columns describe the key rather than extend it: a query has one set of segments.
SEGMENTS_DESCRIBE_KEY = {"queries"}
# Kinds without a key: a file is recognised by its content (a copy under another path is the same file).
HASHED_KINDS = {"predictions"}


@dataclass
class LoadResult:
    kind: str
    table: str
    source: str
    rows: int
    segment_columns: list[str] = field(default_factory=list)
    seconds: float = 0.0


def refused_path(db_path: Path | str) -> Path:
    return Path(str(db_path) + ".last_refused.json")


def ingest_file(
    db_path: Path | str, kind_name: str, path: Path | str, *, model: str | None = None,
    replace: bool = False, encoding: str | None = None, wait_seconds: float | None = None, on_wait=None,
    append: bool = False,
) -> LoadResult:
    """Validate and load `path` as `kind_name`; raises InputError listing every problem."""
    return ingest_files(db_path, [(kind_name, Path(path))], model=model, replace=replace, encoding=encoding,
                        wait_seconds=wait_seconds, on_wait=on_wait, append=append)[0]


def ingest_files(
    db_path: Path | str, items: list[tuple[str, Path]], *, model: str | None = None,
    replace: bool = False, encoding: str | None = None, wait_seconds: float | None = None, on_wait=None,
    append: bool = False,
) -> list[LoadResult]:
    """Load several files in one transaction: all of them or none. Summaries are built once.

    `append`: load predictions whose times overlap stored ones of the same model (they are different
    predictions, e.g. one file per country); refused otherwise, as they would count twice.
    `encoding` names a text file's encoding when it is not UTF-8 (UTF-16 is found by its BOM);
    `wait_seconds` bounds the wait for readers (the open dashboard) to release the database."""
    start = time.perf_counter()
    kind_name, path = items[0]
    clean_stale_scratch()
    try:
        con = connect_for_write(db_path, wait_seconds=wait_seconds, on_wait=on_wait)
        scratch = tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
        try:
            con.execute("SET TimeZone = 'UTC'")  # date-times with an offset are stored in UTC
            staged, began = [], False  # began: a first load's file went straight into its table
            try:
                for i, (kind_name, path) in enumerate(items):
                    kind = _kind(kind_name, Path(path))
                    text = as_utf8(Path(path), encoding, Path(scratch.name))
                    try:
                        loaded = read_input(text, kind.name)
                        problems = check_header(Path(path).name, kind, loaded.columns)
                        if problems:
                            raise InputError(problems)
                        source = _source(con, kind, text, loaded, model, Path(scratch.name),
                                         into=_first_load_table(con, kind, items))
                    except InputError:
                        wrong = not_utf8(text) if text == Path(path) and not encoding else None
                        if wrong:
                            raise InputError([wrong]) from None
                        raise
                    began |= source.stored
                    staged.append(_stage(con, i, kind, Path(path), source, loaded.row_label, replace, staged,
                                         append=append))
            except BaseException:
                if began:  # refused (or interrupted) before the write: the parsed rows go too
                    con.execute("ROLLBACK")
                raise
            results = _write_all(con, staged, replace, began=began)
        finally:
            con.close()
            scratch.cleanup()
    except InputError as exc:
        _record_refusal(db_path, kind_name, Path(path), exc.problems)
        raise
    for r in results:
        r.seconds = time.perf_counter() - start
    return results


def clean_stale_scratch() -> list[Path]:
    """Remove scratch directories left by loads that were killed (their process is gone)."""
    removed = []
    for d in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
        pid = d.name[len(SCRATCH_PREFIX):].split("-", 1)[0]
        if d.is_dir() and not _alive(int(pid) if pid.isdigit() else None, d):
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    return removed


def _alive(pid: int | None, d: Path) -> bool:
    if pid is None:  # a directory from before ids were recorded: stale after a day
        try:
            return time.time() - d.stat().st_mtime < 86_400
        except OSError:
            return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# Kinds whose plain TREC file a first load parses straight into the stored table (readers.trec_stored)
STORED_FIRST = {"run", "qrels"}


def _first_load_table(con, kind: Kind, items: list) -> str | None:
    """The table a one-file load of a run or qrels may parse straight into: only when it does not
    exist yet, so every row of it is this file's and nothing stored meets the checks."""
    if len(items) != 1 or kind.name not in STORED_FIRST or table_exists(con, kind.table):
        return None
    return kind.table


def _kind(kind_name: str, path: Path) -> Kind:
    if kind_name not in KINDS:
        raise InputError([f"{path.name}: unknown kind {kind_name!r}; expected one of {', '.join(KINDS)}"])
    return KINDS[kind_name]


@dataclass
class _Source:
    """What a stage is made from: a SELECT that DuckDB runs over the file (Parquet, read in place) or
    over a Parquet copy of its text (CSV, TREC), with the record's line or row number."""

    columns: list[str]  # including ROW
    sql: str  # rendered by DuckDB (paths and the model override quoted by it)
    fingerprint: tuple = ()  # a Parquet file's size and mtime when validated (read in place)
    checked_text: tuple[str, ...] = ()  # text columns the reader found non-empty and on one line
    stored: bool = False  # the rows are already in the kind's table, in the load's open transaction


def _source(con, kind: Kind, path: Path, loaded, model: str | None, scratch: Path,
            into: str | None = None) -> _Source:
    """`into`: the kind's table when this load may parse a plain TREC file straight into it."""
    columns, fingerprint, checked, stored = list(loaded.columns), (), [], False
    if loaded.fmt == "trec":
        typed = [(c.name, SQL_TYPES[c.type]) for c in kind.columns]
        first = trec_stored(con, path, kind.name, into, typed, model) if into else None
        stored = first is not None
        sql, checked = first or trec_source(con, path, kind.name, scratch)
        rel = con.sql(sql)
    else:
        if loaded.fmt == "csv":  # a snapshot of the text: nothing to re-check at commit
            parquet, first = csv_as_parquet(con, path, columns, scratch), 2
        else:
            parquet, first, fingerprint = path, 1, _fingerprint(path)
        try:
            rel = con.read_parquet(str(parquet), file_row_number=True)
        except duckdb.Error as exc:
            raise InputError([f"{path.name}: cannot be parsed as parquet: {str(exc).splitlines()[0]}"]) from None
        rel = rel.select(duckdb.StarExpression(exclude=["file_row_number"]),
                         (duckdb.ColumnExpression("file_row_number") + first).alias(ROW))
    columns.append(ROW)
    if kind.name == "run" and model is not None:  # --model names the run, replacing any model column
        keep = [c for c in columns if c != "model"]
        rel = rel.select(*[duckdb.ColumnExpression(c) for c in keep], duckdb.ConstantExpression(model).alias("model"))
        columns = keep + ["model"]
        checked = [c for c in checked if c != "model"]  # the name given is checked like any value
    return _Source(columns, rel.sql_query(), fingerprint, tuple(checked), stored)


def _fingerprint(path: Path) -> tuple:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


@dataclass
class _Staged:
    kind: Kind
    path: Path
    stage: str
    columns: list[str]
    segments: list[str]
    fingerprint: tuple = ()  # Parquet read in place: (size, mtime) at validation
    stored: bool = False  # rows already in the table (a first load's plain TREC file)


def _stage(con, i: int, kind: Kind, path: Path, source: _Source, row_label: str, replace: bool,
           earlier: list[_Staged] = (), append: bool = False) -> _Staged:
    """Stage the file and validate it; raises InputError with every problem.

    CSV and TREC rows are copied into a temp table. Parquet is staged as a temp view over the file:
    DuckDB streams it for each check and for the insert, so memory stays flat at any size; the file
    must not change meanwhile (checked before commit)."""
    name = path.name
    problems, segments = check_columns(name, kind, source.columns)
    if problems:
        raise InputError(problems)
    stage = f"{STAGE}{i}"
    finish_pending(con)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {stage} AS {source.sql}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {STAGE} AS SELECT * FROM {stage}")
    columns = _without_empty_optional(con, kind, source.columns)
    if columns != source.columns:  # the rules between columns apply to those left
        problems, _ = check_columns(name, kind, columns)
        if problems:
            raise InputError(problems)
    problems = check_segment_types(con, name, segments)
    if problems:
        raise InputError(problems)
    problems = check_values(con, name, row_label, kind, columns, checked_text=source.checked_text)
    problems += check_segment_values(con, name, row_label, kind, segments)
    problems += check_rows(con, name, row_label, kind, columns)
    if kind.key:
        problems += check_duplicates(con, name, row_label, _key(kind, segments))
    if kind.name == "run":
        problems += check_run_lists(con, name, row_label, columns)
    # a file parsed straight into a new table: nothing was stored before it to differ from
    if not problems and kind.name == "run" and not source.stored:
        problems = check_run_form(con, name, row_label, columns, replace)
    if not problems and not source.stored:
        problems = _check_conflicts(con, kind, path, columns, segments, replace)
    if not problems and kind.name == "predictions" and not replace:
        problems = overlap.check(con, name, row_label, f"SELECT {ROW}, {_typed_select(kind, columns, [])} FROM {STAGE}",
                                 columns, append)
    if not problems and kind.name == "covariances":
        problems = _check_covariances(con, stage, name, row_label, segments, earlier)
    if problems:
        raise InputError(problems)
    return _Staged(kind, path, stage, columns, segments, source.fingerprint, source.stored)


def _check_covariances(con, stage: str, name: str, row_label: str, segments: list[str],
                       earlier: list[_Staged]) -> list[str]:
    """Against the results stored or staged before it in this load."""
    staged_results = [f"SELECT {_typed_select(e.kind, e.columns, e.segments)} FROM {e.stage}"
                      for e in earlier if e.kind.name == "results"]
    covariances.prepare_results(con, staged_results, table_exists(con, "experiment_results"))
    return covariances.check(con, stage, name, row_label, segments)


def _without_empty_optional(con, kind: Kind, columns: list[str]) -> list[str]:
    """An optional column left empty in every row is as if absent (a table exported with an unused
    `position` column loads as the scored run it is)."""
    empty = [c.name for c in kind.columns if not c.required and not c.nullable and c.name in columns
             and con.execute(f"SELECT count({ident(c.name)}) FROM {STAGE}").fetchone()[0] == 0]
    return [c for c in columns if c not in empty]


def _write_all(con, staged: list[_Staged], replace: bool, began: bool = False) -> list[LoadResult]:
    """`began`: the transaction is open already (a file was parsed straight into its table)."""
    if not began:
        con.execute("BEGIN TRANSACTION")
    try:
        results, models = [], []
        new_prediction_segments = False
        for item in staged:
            con.execute(f"CREATE OR REPLACE TEMP VIEW {STAGE} AS SELECT * FROM {item.stage}")
            rows, item_models, new_segments = _write(con, item, replace)
            models += item_models
            new_prediction_segments |= bool(new_segments) and item.kind.name == "predictions"
            results.append(LoadResult(item.kind.name, item.kind.table, str(item.path), rows, item.segments))
        if models:
            if new_prediction_segments:  # a new segment column changes every model's bins
                models = [r[0] for r in con.execute("SELECT DISTINCT model FROM predictions").fetchall()]
            summaries.build_prediction_bins(con, sorted(set(models)))
        for kind_name in dict.fromkeys(item.kind.name for item in staged):
            summaries.run_builders(con, kind_name)
        if os.environ.get(PAUSE_ENV):
            print("ingest: paused inside the open transaction", file=sys.stderr, flush=True)
            time.sleep(float(os.environ[PAUSE_ENV]))
        changed = [item.path.name for item in staged if item.fingerprint and _fingerprint(item.path) != item.fingerprint]
        if changed:
            raise InputError([f"{name}: changed while it was loading; nothing was stored, load it again"
                              for name in changed])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return results


def _key(kind: Kind, segments: list[str]) -> list[str]:
    """The columns that identify a row: the kind's key and, unless they describe it, its segments."""
    return list(kind.key) + ([] if kind.name in SEGMENTS_DESCRIBE_KEY else segments)


def _key_match(kind: Kind, segments: list[str], left: str, right: str, stored: list[str] | None = None) -> str:
    """Rows of `left` (this file) and `right` (the table) with the same key. A segment column on one
    side only is empty on the other: a file adding an empty segment column still meets the stored
    overall rows (no second "overall" row)."""
    if kind.name in SEGMENTS_DESCRIBE_KEY:
        segments, stored = [], []
    parts = [f"{left}.{ident(c)} IS NOT DISTINCT FROM {right}.{ident(c)}" for c in kind.key]
    stored = segments if stored is None else stored
    for c in dict.fromkeys(segments + stored):
        lhs = f"{left}.{ident(c)}" if c in segments else "NULL"
        rhs = f"{right}.{ident(c)}" if c in stored else "NULL"
        parts.append(f"{lhs} IS NOT DISTINCT FROM {rhs}")
    return " AND ".join(parts)


def _check_conflicts(con, kind: Kind, path: Path, columns: list[str], segments: list[str],
                     replace: bool) -> list[str]:
    if replace or not table_exists(con, kind.table):
        return []
    if not kind.key:
        prior = _same_content(con, kind, path)
        if prior:
            return [f"{path.name}: already loaded on {prior[1]:%Y-%m-%d %H:%M} (same content as "
                    f"{Path(prior[0]).name}); pass --replace to load it again (rows of its models are replaced)"]
        return []
    stored = segment_columns(con, kind.table)
    staged = _typed_select(kind, columns, segments, alias="s")
    match = _key_match(kind, segments, "s", "t", stored)
    row = con.execute(
        f"SELECT s.{ROW} FROM (SELECT {ROW}, {staged} FROM {STAGE}) s "
        f"JOIN {kind.table} t ON {match} ORDER BY s.{ROW} LIMIT 1"
    ).fetchone()
    if row:
        key = _key(kind, segments)
        return [f"{path.name}, row {row[0]}, column {key[0]!r}: its key ({', '.join(key)}) is "
                "already loaded; pass --replace to overwrite the stored rows with this file's"]
    return []


_HASHES: dict[tuple, str] = {}


def content_hash(path: Path) -> str:
    """sha256 of the file, computed once per (path, size, mtime) in this process."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASHES:
        _HASHES.clear()
        _HASHES[key] = _sha256(path)
    return _HASHES[key]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _same_content(con, kind: Kind, path: Path):
    """(source, loaded_at) of a stored load with this file's content, or None."""
    return con.execute(
        "SELECT l.source, l.loaded_at FROM load_hashes h JOIN load_log l USING (load_id) "
        "WHERE h.sha256 = ? AND l.kind = ? AND l.status = 'loaded' ORDER BY l.loaded_at DESC LIMIT 1",
        [content_hash(path), kind.name],
    ).fetchone()


def _typed_select(kind: Kind, present: list[str], segments: list[str], alias: str = "") -> str:
    parts = []
    for col in kind.columns:
        target = SQL_TYPES[col.type]
        if col.name not in present:
            parts.append(f"CAST(NULL AS {target}) AS {ident(col.name)}")
        elif col.type == "timestamp":
            parts.append(f"{_utc(ident(col.name))} AS {ident(col.name)}")
        elif col.type in ("label", "count", "int", "position"):  # text "2.0" is a valid whole number
            c = ident(col.name)
            parts.append(f"coalesce(TRY_CAST({c} AS {target}), CAST(CAST({c} AS DOUBLE) AS {target})) AS {c}")
        else:
            parts.append(f"CAST({ident(col.name)} AS {target}) AS {ident(col.name)}")
    for seg in segments:
        parts.append(f"nullif(trim(CAST({ident(seg)} AS VARCHAR)), '') AS {ident(seg)}")
    return ", ".join(parts)


def _utc(c: str) -> str:
    """A date-time as UTC: one with an offset (+05:00, -0300; a zoned Parquet column prints one) is
    converted; one without is UTC as written ('Z' too). The offset test runs only on text long enough
    to hold one, so plain date-times take the fast cast."""
    text = f"CAST({c} AS VARCHAR)"
    return (f"CASE WHEN length({text}) > 19 AND regexp_matches({text}, '[+-]\\d\\d(:?\\d\\d)?$') "
            f"THEN timezone('UTC', CAST({text} AS TIMESTAMPTZ)) ELSE CAST({c} AS TIMESTAMP) END")


def _write(con, item: _Staged, replace: bool) -> tuple[int, list[str], list[str]]:
    """Append one staged file; returns (rows, models touched, segment columns new to the table)."""
    kind, segments = item.kind, item.segments
    cols = ", ".join(f"{ident(c.name)} {SQL_TYPES[c.type]}" for c in kind.columns)
    con.execute(f"CREATE TABLE IF NOT EXISTS {kind.table} ({cols})")
    for c in kind.columns:  # a table from an older version gains columns added to the contract since
        con.execute(f"ALTER TABLE {kind.table} ADD COLUMN IF NOT EXISTS {ident(c.name)} {SQL_TYPES[c.type]}")
    known = set(segment_columns(con, kind.table))
    new_segments = [s for s in segments if s not in known]
    for seg in new_segments:
        con.execute(f"ALTER TABLE {kind.table} ADD COLUMN {ident(seg)} VARCHAR")
        con.execute("INSERT INTO segment_columns VALUES (?, ?)", [kind.table, seg])
    staged = f"SELECT {_typed_select(kind, item.columns, segments)} FROM {STAGE}"
    models: list[str] = []
    if item.stored:
        pass  # a first load's rows, parsed straight into the new table: nothing to replace or copy
    elif replace and kind.name == "run":
        # a query's list is replaced whole, so no stale item keeps a position in it
        con.execute(f"DELETE FROM rankings t WHERE EXISTS (SELECT 1 FROM ({staged}) s "
                    "WHERE s.model = t.model AND s.query_id = t.query_id)")
    elif replace and kind.key:
        match = _key_match(kind, segments, "s", "t", segment_columns(con, kind.table))
        con.execute(f"DELETE FROM {kind.table} t WHERE EXISTS (SELECT 1 FROM ({staged}) s WHERE {match})")
    if kind.name == "predictions":
        models = [r[0] for r in con.execute(f"SELECT DISTINCT model FROM ({staged})").fetchall()]
        if replace:
            con.execute(f"DELETE FROM predictions WHERE model IN (SELECT DISTINCT model FROM ({staged}))")
    target_cols = [c.name for c in kind.columns] + segments
    if not item.stored:
        con.execute(f"INSERT INTO {kind.table} ({', '.join(ident(c) for c in target_cols)}) {staged}")
    rows = con.execute(f"SELECT count(*) FROM {STAGE}").fetchone()[0]
    load_id = con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM load_log").fetchone()[0]
    con.execute(
        "INSERT INTO load_log VALUES (?, ?, ?, ?, ?, 'loaded', '', ?)",
        [load_id, kind.name, kind.table, str(item.path.resolve()), rows, datetime.now()],
    )
    if kind.name in HASHED_KINDS:
        con.execute("INSERT INTO load_hashes VALUES (?, ?)", [load_id, content_hash(item.path)])
    return rows, models, new_segments


def _record_refusal(db_path, kind_name: str, path: Path, problems: list[str]) -> None:
    record = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "kind": kind_name,
        "source": str(path),
        "problems": problems,
    }
    try:
        refused_path(db_path).write_text(json.dumps(record, indent=2))
    except OSError:
        pass  # reporting the refusal must not mask it


def last_refusal(db_path: Path | str) -> dict | None:
    p = refused_path(db_path)
    if not p.exists():
        return None
    try:
        return json.loads(p.read_text())
    except (OSError, json.JSONDecodeError):
        return None
