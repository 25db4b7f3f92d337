"""The summary stage: raw logs on an engine -> summaries in the dashboard's DuckDB.

Each flow reads only the partitions not summarised before (unless a rebuild is needed: a model's
scores leave its bin range, a new segment column appears, or `--rebuild`), computes the summary on
the engine, pulls the small result to Arrow, and writes it in one DuckDB transaction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import ibis
import pyarrow as pa

from dashboard.lake import definitions as d
from dashboard.lake import partitions as parts
from dashboard.lake import store
from dashboard.lake.engines import Source
from dashboard.metrics.binning import score_range
from dashboard.store.readers import InputError
from dashboard.store.schema import IDENTIFIER
from dashboard.store.validate import MAX_SEGMENT_COLUMNS, MAX_SEGMENT_NAME, MAX_SEGMENT_VALUE

PREDICTION_COLUMNS = {"model", "score", "label", "ts", "weight", "value", "id"}
DAY_PARTITIONS = ("day", "date", "dt", "ds")


@dataclass
class Outcome:
    summary: str
    source: str
    partitions_new: int = 0
    partitions_total: int = 0
    rows_read: int = 0
    rows_written: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        head = (f"{self.summary}: {self.partitions_new} new of {self.partitions_total} partition(s), "
                f"{self.rows_read:,} raw rows read, {self.rows_written:,} summary rows written "
                f"in {self.seconds:.1f} s")
        return "\n".join([head] + [f"  - {n}" for n in self.notes])


def _require(src: Source, needed: list[str], kind: str) -> None:
    missing = [c for c in needed if c not in src.table.columns]
    if missing:
        raise InputError([f"{src.spec}: missing column(s) {', '.join(missing)}; {kind} need "
                          f"{', '.join(needed)} (found: {', '.join(src.table.columns)})"])


def _segments(src: Source, exclude: set[str]) -> list[str]:
    schema = src.table.schema()
    names = [c for c in src.table.columns
             if c not in exclude and c not in src.partition_columns and schema[c].is_string()]
    bad = [c for c in names if not IDENTIFIER.match(c)]
    if bad:
        raise InputError([f"{src.spec}: segment column name(s) {', '.join(map(repr, bad))} are not "
                          "identifiers (letters, digits, underscore; not starting with a digit)"])
    long = [c for c in names if len(c) > MAX_SEGMENT_NAME]  # ingest's limits (store/validate.check_header)
    if long or len(names) > MAX_SEGMENT_COLUMNS:
        raise InputError([f"{src.spec}: found {len(names)} segment column(s)"
                          + (f", {', '.join(repr(c[:60]) for c in long[:3])} longer than {MAX_SEGMENT_NAME} "
                             "characters" if long else "")
                          + f"; expected at most {MAX_SEGMENT_COLUMNS}, each name at most {MAX_SEGMENT_NAME} characters"])
    return names


# ingest's rule for a segment value (store/validate.check_segment_values), checked on the raw value
CONTROL = r"[\x00-\x1f\x7f]"  # tab, newline and the other control characters
SEGMENT_EXPECTED = (f"expected a segment value on one line (no tab, newline or other control character), "
                    f"at most {MAX_SEGMENT_VALUE} characters, and not {d.MISSING!r} (that is how an empty "
                    "value is shown: leave it empty)")


def check_segment_values(spec: str, table, segments: list[str]) -> None:
    """Refuse what ingest refuses, counted per column with an example value (the engine has no line
    numbers); definitions.clean_segment then trims what is accepted as ingest does."""
    if not segments:
        return
    aggs = {}
    for i, name in enumerate(segments):
        v = table[name].cast("string")
        bad = v.notnull() & ((v.length() > MAX_SEGMENT_VALUE) | v.re_search(CONTROL) | (d.trim_spaces(v) == d.MISSING))
        aggs[f"n{i}"], aggs[f"x{i}"] = d.count_if(table, bad), v.substr(0, 60).min(where=bad)
    row = table.aggregate(**aggs).to_pyarrow().to_pylist()[0]
    problems = [f"{spec}, column {name!r}: {row[f'n{i}']:,} row(s) with a value such as {row[f'x{i}']!r}; "
                + SEGMENT_EXPECTED for i, name in enumerate(segments) if row[f"n{i}"]]
    if problems:
        raise InputError(problems + ["nothing was written"])


# --- predictions -> prediction_bins ------------------------------------------------------------

def predictions(con, src: Source, source_key: str, *, rebuild: bool = False,
                fixed_range: tuple[float, float] | None = None, day_column: str | None = None) -> Outcome:
    start = time.perf_counter()
    _require(src, ["model", "score", "label"], "predictions")
    t, out = src.table, Outcome("predictions", source_key)
    segments = _segments(src, PREDICTION_COLUMNS)
    day = _day(src, day_column)
    store.ensure_tables(con)
    new_segments = [s for s in segments if s not in store.segment_columns(con, "predictions")]
    done = set() if rebuild else store.done_partitions(con, "predictions", source_key)
    if done and new_segments:
        out.notes.append(f"new segment column(s) {', '.join(new_segments)}: every partition re-summarised")
        done = set()
    counts, new, fresh = new_partitions(src, done, out)
    if not new:
        return out
    _check_predictions(src.spec, fresh)
    check_segment_values(src.spec, fresh, segments)
    seen = score_ranges(fresh)
    clash = sorted(set(seen) & store.raw_models(con, "predictions"))
    if clash:
        raise InputError([f"model(s) {', '.join(clash)} are loaded as raw predictions in this database; "
                          "summarise them into another --db, or re-ingest them instead"])
    stored = store.stored_score_ranges(con)
    ranges, refresh = _plan_ranges(seen, stored, fixed_range, bool(done))
    if refresh:
        out.notes.append(f"scores of {', '.join(refresh)} left the bin range: their bins re-summarised "
                         "from every partition (give --score-range to avoid this)")
        ranges.update({m: _range(lo, hi, fixed_range) for m, (lo, hi, _) in
                       score_ranges(t.filter(t.model.isin(refresh))).items()})
    mem = ibis.memtable(pa.table({"model": list(ranges), "lo": [r[0] for r in ranges.values()],
                                  "hi": [r[1] for r in ranges.values()]}))
    bins = [d.prediction_bins(fresh.filter(~fresh.model.isin(refresh)) if refresh else fresh, mem, segments,
                              _day(Source(src.spec, fresh, src.partition_columns), day_column))]
    if refresh:
        bins.append(d.prediction_bins(t.filter(t.model.isin(refresh)), mem, segments, day))
    data = pa.concat_tables([b.to_pyarrow() for b in bins])
    replace = sorted(seen) if not done else refresh
    with store.transaction(con):
        if not done:
            store.forget_partitions(con, "predictions", source_key)
        store.delete_models(con, "prediction_bins", replace)
        store.insert_arrow(con, "prediction_bins", data)
        store.set_score_ranges(con, ranges)
        store.register_segments(con, "predictions", segments)
        store.record_partitions(con, "predictions", source_key, {k: counts[k] for k in new})
        out.rows_read = sum(counts[k] for k in new)
        out.rows_written = data.num_rows
        store.record_load(con, "predictions", "prediction_bins", source_key, out.rows_read, "; ".join(out.notes))
    out.seconds = time.perf_counter() - start
    return out


def new_partitions(src: Source, done: set[str], out: Outcome):
    """(rows per partition, partitions not in `done`, the source restricted to them); notes when none."""
    counts, values = parts.row_counts(src.table, src.partition_columns)
    new = set(counts) - done
    out.partitions_total, out.partitions_new = len(counts), len(new)
    if not new:
        out.notes.append("nothing new to summarise")
        return counts, new, None
    return counts, new, parts.restrict(src.table, src.partition_columns, values, new)


def _day(src: Source, day_column: str | None):
    if day_column:
        if day_column not in src.table.columns:
            raise InputError([f"{src.spec}: --day-column {day_column!r} is not a column"])
        return src.table[day_column]
    if "ts" in src.table.columns:
        return src.table.ts
    for name in DAY_PARTITIONS:
        if name in src.partition_columns:
            return src.table[name]
    return None


def score_ranges(table) -> dict[str, tuple[float, float, int]]:
    rows = d.score_ranges(table).to_pyarrow().to_pylist()
    return {r["model"]: (r["min_score"], r["max_score"], r["rows"]) for r in rows}


def _range(lo: float, hi: float, fixed: tuple[float, float] | None) -> tuple[float, float]:
    if fixed is None:
        return score_range(lo, hi)
    return (fixed[0], fixed[1]) if lo >= fixed[0] and hi <= fixed[1] else score_range(min(lo, fixed[0]),
                                                                                       max(hi, fixed[1]))


def _plan_ranges(seen, stored, fixed, appending: bool) -> tuple[dict, list[str]]:
    """Bin range per model seen; models whose new scores fall outside their stored range."""
    ranges, refresh = {}, []
    for model, (lo, hi, _rows) in seen.items():
        if appending and model in stored:
            slo, shi = stored[model]
            if lo >= slo and hi <= shi:
                ranges[model] = (slo, shi)
                continue
            refresh.append(model)
        ranges[model] = _range(lo, hi, fixed)
    return ranges, sorted(refresh)


def _check_predictions(spec: str, table) -> None:
    row = d.prediction_problems(table).to_pyarrow().to_pylist()[0]
    problems = []
    if row["bad_model"]:
        problems.append(f"{spec}, column model: {row['bad_model']:,} row(s) with an empty model name")
    if row["bad_score"]:
        problems.append(f"{spec}, column score: {row['bad_score']:,} row(s) not a finite number")
    if row["bad_label"]:
        problems.append(f"{spec}, column label: {row['bad_label']:,} row(s) not 0, 1 or empty")
    if problems:
        raise InputError(problems + ["nothing was written; fix the rows (or filter them in the engine) and rerun"])
