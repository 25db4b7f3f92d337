"""Thresholds: confusion counts, curves and the business reading of one model's operating point.

Slider moves and pickers read `prediction_bins` only (counts per bin, fetched once per model and
filter). Average precision and ROC AUC are exact: computed from counts per distinct score on the
raw rows, once per model and filter; when raw rows are not loaded they fall back to the bins and
say so.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from datetime import date

import duckdb
import numpy as np

from dashboard.metrics import classification as clf
from dashboard.metrics.binning import N_BINS, bin_edges
from dashboard.metrics.disagreement import joint_counts
from dashboard.store import bin_totals, catalog, joint_bins, quality
from dashboard.store.sqlutil import ident

# a segment with fewer positives, or fewer labelled rows flagged at the threshold, is marked small
# and not judged: recall and precision rest on those counts, not on the labelled rows (200 rows at
# 2% fraud are 4 positives, a recall interval 0.65 wide)
MIN_POSITIVES = 30
MIN_FLAGGED = 30


@dataclass(frozen=True)
class Filter:
    """Which rows: a date range (inclusive; None = all) and optionally one segment."""

    date_from: date | None = None
    date_to: date | None = None
    segment_column: str = ""
    segment_value: str = ""


@dataclass
class Counts:
    """Per-bin counts of one model for the overall rows and each value of a breakdown column."""

    model: str
    lo: float
    hi: float
    days: int
    overall: dict[str, np.ndarray]
    segments: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    by: str = ""

    @property
    def edges(self) -> np.ndarray:
        return bin_edges(self.lo, self.hi)


def options(con: duckdb.DuckDBPyConnection) -> dict:
    """Models, their segment columns and values, and the date range of the summaries."""
    models = catalog.prediction_models(con)
    if not models:
        return {"models": [], "segments": {}, "date_range": (None, None)}
    # per model: a model without `ts` has no days (None, None) and is never date-filtered away
    # because another model has timestamps. The overall rows ('') hold every day of a model: a
    # scan of a twenty-first of the bins with 20 segment values
    dates = {m: (a, b) for m, a, b in con.execute(
        "SELECT model, min(day), max(day) FROM prediction_bins WHERE segment_column = '' GROUP BY model").fetchall()}
    days = [d for pair in dates.values() for d in pair if d is not None]
    lo, hi = (min(days), max(days)) if days else (None, None)
    totals = all(bin_totals.usable(con, m) for m in models)
    segments = bin_totals.segment_values(con) if totals else catalog.segment_values(con)
    return {"models": models, "segments": segments, "date_range": (lo, hi),
            "model_dates": {m: dates.get(m, (None, None)) for m in models}}


def default_view(opts: dict) -> tuple[str, Filter, str]:
    """(model, filter, breakdown) the page opens at with nothing chosen: the last model over its whole
    date range, by the first segment column. The server warms this view at start (ui/warm.py)."""
    model = opts["models"][-1]
    first_day, last_day = opts["model_dates"][model]
    return model, Filter(first_day, last_day), next(iter(opts["segments"]), "")


def undated(flt: Filter) -> Filter:
    """The same filter without its dates (for a model whose rows have no `ts`)."""
    return Filter(None, None, flt.segment_column, flt.segment_value)


def _where(model: str, flt: Filter, segment_column: str) -> tuple[str, list]:
    sql = "model = ? AND segment_column = ?"
    params: list = [model, segment_column]
    if flt.date_from is not None:
        sql += " AND day >= ?"
        params.append(flt.date_from)
    if flt.date_to is not None:
        sql += " AND day <= ?"
        params.append(flt.date_to)
    return sql, params


_FIELDS = ("pos", "neg", "unlabeled", "value_pos", "value_neg")


def _fetch(con, model: str, flt: Filter, column: str, value: str | None,
           totals: bool = False) -> dict[str, dict[str, np.ndarray]]:
    """Per-bin arrays per segment value; `totals`: from the day-summed table (a whole-range view)."""
    where, params = _where(model, Filter() if totals else flt, column)
    if value is not None:
        where += " AND segment_value = ?"
        params.append(value)
    if totals:  # one row per (segment value, bin) already: no GROUP BY
        sql = (f"SELECT segment_value, bin, n_pos, n_neg, n_unlabeled, value_pos, value_neg FROM {bin_totals.TABLE} "
               f"WHERE {where} ORDER BY segment_value")
    else:
        sql = ("SELECT segment_value, bin, sum(n_pos), sum(n_neg), sum(n_unlabeled), sum(value_pos), sum(value_neg) "
               f"FROM prediction_bins WHERE {where} GROUP BY segment_value, bin ORDER BY segment_value")
    rows = con.execute(sql, params).fetchnumpy()
    out: dict[str, dict[str, np.ndarray]] = {}
    if not len(rows["bin"]):
        return out
    # rows are grouped by (segment, bin) and sorted by segment: each segment is one contiguous
    # slice and each bin appears once in it, so plain assignment fills the arrays
    segs = rows["segment_value"]
    starts = np.r_[0, np.flatnonzero(segs[1:] != segs[:-1]) + 1]
    ends = np.r_[starts[1:], len(segs)]
    values = segs[starts]
    columns = [np.asarray(rows[col], dtype=np.float64) for col in list(rows)[2:]]
    bins = np.asarray(rows["bin"])
    for seg, lo, hi in zip(values, starts, ends):
        arrays = {}
        for name, col in zip(_FIELDS, columns):
            arr = np.zeros(N_BINS + 1)
            arr[bins[lo:hi]] = col[lo:hi]
            arrays[name] = arr
        out[str(seg)] = arrays
    return out


def counts(con, model: str, flt: Filter = Filter(), by: str = "") -> Counts:
    """Per-bin counts for the filtered rows, and per value of the `by` column."""
    ranges = dict((m, (lo, hi)) for m, lo, hi in con.execute("SELECT model, lo, hi FROM model_score_range").fetchall())
    if model not in ranges:
        raise ValueError(f"unknown model {model!r}; loaded models: {', '.join(sorted(ranges)) or 'none'}")
    _check_column(con, flt.segment_column)
    _check_column(con, by)
    # a view of the whole range reads the bins already summed over days (a cold page's first query)
    totals = _every_day(con, model, flt) and bin_totals.usable(con, model)
    overall = _fetch(con, model, flt, flt.segment_column, flt.segment_value if flt.segment_column else "", totals)
    empty = {k: np.zeros(N_BINS + 1) for k in _FIELDS}
    segments = {}
    if by and not flt.segment_column:
        segments = _fetch(con, model, flt, by, None, totals)
    elif by and by == flt.segment_column:
        segments = _fetch(con, model, flt, by, flt.segment_value, totals)
    where, params = _where(model, flt, "")
    days = con.execute(f"SELECT count(DISTINCT day) FROM prediction_bins WHERE {where}", params).fetchall()[0][0]
    lo, hi = ranges[model]
    return Counts(model, lo, hi, int(days) or 1, next(iter(overall.values()), empty), segments, by)


def _check_column(con, column: str) -> None:
    if column and column not in catalog.segment_columns(con, "predictions"):
        raise ValueError(f"unknown segment column {column!r}; predictions have: "
                         f"{', '.join(catalog.segment_columns(con, 'predictions')) or 'none'}")


def cumulative(arrays: dict[str, np.ndarray]) -> clf.Cumulative:
    return clf.cumulate(arrays["pos"], arrays["neg"], arrays["unlabeled"], arrays["value_pos"], arrays["value_neg"])


def exact_quality(con, model: str, flt: Filter = Filter(), by: str = "", with_overall: bool = True) -> dict[str, dict]:
    """Exact AP and ROC AUC per segment value ('' = the filtered whole, unless `with_overall` is False:
    the page asks for it apart, a sort of its own), from the raw rows: read from `prediction_quality`
    over the whole range, else by one sort of the filtered rows (store.quality). Where only summaries
    are loaded (`summarize` of a lake), the binned values, marked exact=False."""
    if not has_raw_rows(con, model):
        return binned_quality(con, model, flt, by)
    _check_column(con, flt.segment_column)
    _check_column(con, by)
    kept = stored_quality(con, model, flt, by)
    if kept is not None:
        return kept
    where, params = _raw_where(model, flt)
    out = {seg: _shown(q) for (_, seg), q in quality.exact_by_group(con, where, params, by).items()}
    if by and with_overall:
        out[""] = exact_quality(con, model, flt, "").get("", {"average_precision": None, "roc_auc": None})
    return out


BACKGROUND_SORT_MEMORY = "256MB"


def exact_quality_in_background(con, model: str, flt: Filter = Filter(), by: str = "",
                                with_overall: bool = True) -> dict[str, dict]:
    """exact_quality for the page's background thread, DuckDB's memory capped so the sort spills to
    disk rather than grow the server: 37.5M filtered rows of a 50M-score model took 3.9 GB uncapped,
    413 MB at 256MB (14.9 -> 19.0 s, load 3-5). The setting is the database instance's: a page query
    sharing the instance meanwhile runs under the cap too (it is small)."""
    con.execute(f"SET memory_limit = '{BACKGROUND_SORT_MEMORY}'")
    return exact_quality(con, model, flt, by, with_overall)


def _shown(q: dict) -> dict:
    return {"average_precision": q["average_precision"], "roc_auc": q["roc_auc"], "exact": True}


def stored_quality(con, model: str, flt: Filter = Filter(), by: str = "") -> dict[str, dict] | None:
    """exact_quality from the table built at load, when the filter spans the model's whole range and
    the breakdown is the stored one; None otherwise (then it needs a sort of the filtered rows)."""
    if not _whole_range(con, model, flt):
        return None
    if flt.segment_column:
        if by and by != flt.segment_column:
            return None
        one = quality.stored(con, model, flt.segment_column, flt.segment_value)
        if one is None:
            return None
        q = _shown(one[flt.segment_value])
        return {"": q, flt.segment_value: q} if by else {"": q}
    overall = quality.stored(con, model, "")
    segments = quality.stored(con, model, by) if by else {}
    if overall is None or segments is None:
        return None
    return {"": _shown(overall[""]), **{v: _shown(q) for v, q in segments.items()}}


def _whole_range(con, model: str, flt: Filter) -> bool:
    """Does the date filter keep every labelled row of the model? (A date filter drops rows
    without a timestamp.)"""
    return _covers(con, model, flt, "n_pos + n_neg")


def _every_day(con, model: str, flt: Filter) -> bool:
    """Does the date filter keep every row of the model, labelled or not?"""
    return _covers(con, model, flt, "n_pos + n_neg + n_unlabeled")


def _covers(con, model: str, flt: Filter, counted: str) -> bool:
    """Does the date filter keep every day of the model's bins, none of the `counted` rows undated?"""
    if flt.date_from is None and flt.date_to is None:
        return True
    if not catalog.table_exists(con, "prediction_bins"):
        return False
    first, last, undated = con.execute(
        f"SELECT min(day), max(day), coalesce(sum({counted}) FILTER (WHERE day IS NULL), 0) "
        "FROM prediction_bins WHERE model = ? AND segment_column = ''", [model]).fetchone()
    if undated or first is None:
        return False
    return (flt.date_from is None or flt.date_from <= first) and (flt.date_to is None or flt.date_to >= last)


def quick_quality(con, model: str, flt: Filter = Filter(), by: str = "") -> dict[str, dict]:
    """What the page shows at once: the stored exact values when they answer the view, else the
    binned values with the interval the exact value lies in (`bounds`), marked exact=False."""
    if has_raw_rows(con, model):
        kept = stored_quality(con, model, flt, by)
        if kept is not None:
            return kept
    return binned_quality(con, model, flt, by)


def has_raw_rows(con, model: str) -> bool:
    if not catalog.table_exists(con, "predictions"):
        return False
    return bool(con.execute("SELECT count(*) FROM (SELECT 1 FROM predictions WHERE model = ? LIMIT 1)",
                            [model]).fetchall()[0][0])


def binned_quality(con, model: str, flt: Filter = Filter(), by: str = "") -> dict[str, dict]:
    """AP and ROC AUC from the 10,000 score bins (each bin one tied score; ~1e-4 from exact)."""
    c = counts(con, model, flt, by)

    def one(arrays):
        return {"average_precision": clf.binned_average_precision(arrays["pos"], arrays["neg"]),
                "roc_auc": clf.binned_roc_auc(arrays["pos"], arrays["neg"]), "exact": False,
                "bounds": clf.binned_quality_bounds(arrays["pos"], arrays["neg"])}
    out = {value: one(arrays) for value, arrays in c.segments.items()}
    out[""] = one(c.overall)
    return out


def cumulative_at(arrays: dict[str, np.ndarray], i: int) -> clf.Cumulative:
    """cumulative(arrays).at(i), without the whole curve (a slider move over many segments)."""
    return clf.cumulate_at(i, *(arrays[k] for k in _FIELDS))


def threshold_index(c: Counts, threshold: float) -> int:
    """The bin edge at or below `threshold` (the slider snaps to edges); a threshold on an edge
    within floating error uses that edge. Clipped to the edges (the page's slider range)."""
    return min(snap_index(c.edges, threshold), N_BINS)


def snap_index(edges: np.ndarray, threshold: float) -> int:
    """Index of the edge a typed threshold means: the edge it lies on within floating error (edge
    7000 of [0, 1] computes as 0.7000000000000001 and is 0.7), else the edge at or below it.
    Below the first edge: 0 (every score is >= lo). Above the last edge: len(edges), no edge at all
    (nothing is flagged), never clamped to the top edge."""
    tol = _edge_tolerance(edges)
    i = int(np.searchsorted(edges, threshold, side="right")) - 1
    if i + 1 < len(edges) and edges[i + 1] - threshold <= tol:
        i += 1
    if i == len(edges) - 1 and threshold - edges[-1] > tol:
        return len(edges)
    return max(i, 0)


def _edge_tolerance(edges: np.ndarray) -> float:
    # a millionth of a bin: far above floating error of lo + k * width, far below any typed digit
    return float(edges[1] - edges[0]) * 1e-6 if len(edges) > 1 else 0.0


def split_at(arrays: dict[str, np.ndarray], i: int) -> dict[str, np.ndarray]:
    """Per-bin arrays -> two bins, [below edge i, at or above edge i] (i may be len: none above)."""
    return {k: np.array([float(np.sum(v[:i])), float(np.sum(v[i:]))]) for k, v in arrays.items()}


def segment_cumulatives(c: Counts) -> dict[str, clf.Cumulative]:
    """Each segment's counts at or above every edge: built once per view, so that segment_rows at
    a slider move reads one index instead of summing every segment's bins again."""
    return {value: cumulative(arrays) for value, arrays in c.segments.items()}


def segment_rows(c: Counts, i: int, cums: dict[str, clf.Cumulative] | None = None) -> list[dict]:
    """The operating point at edge i in each segment; `cums` from segment_cumulatives (optional)."""
    rows = []
    for value, arrays in sorted(c.segments.items()):
        point = clf.operating_point(cums[value], i) if cums is not None else \
            clf.operating_point(cumulative_at(arrays, i), 0)
        point["precision_ci"] = clf.wilson_interval(point["tp"], point["tp"] + point["fp"])
        point["recall_ci"] = clf.wilson_interval(point["tp"], point["positives"])
        point["small"] = is_small(point["positives"], point["tp"] + point["fp"])
        rows.append({"column": c.by, "value": value, **point})
    return rows


@dataclass(frozen=True)
class SegmentStack:
    """Every segment's counts at or above every edge, one row per segment (sorted by value): built
    once per view, so that a slider move reads one column of each array instead of 20 curves."""

    by: str
    values: list[str]
    tp: np.ndarray  # segments x edges
    fp: np.ndarray
    flagged: np.ndarray  # labelled and unlabelled rows at or above the edge
    positives: np.ndarray  # per segment
    negatives: np.ndarray


def segment_stack(c: Counts) -> SegmentStack:
    values = sorted(c.segments)
    cums = [cumulative(c.segments[v]) for v in values]
    width = N_BINS + 1

    def rows(get) -> np.ndarray:
        return np.array([get(k) for k in cums]).reshape(len(values), width) if values else np.zeros((0, width))
    return SegmentStack(c.by, values, rows(lambda k: k.tp), rows(lambda k: k.fp), rows(lambda k: k.flagged),
                        np.array([k.positives for k in cums]), np.array([k.negatives for k in cums]))


def segment_columns(stack: SegmentStack, i: int) -> dict[str, np.ndarray]:
    """segment_rows at edge i as columns (one array per field, NaN where a ratio is undefined): the
    same numbers, computed for every segment at once."""
    tp, fp, flagged = stack.tp[:, i], stack.fp[:, i], stack.flagged[:, i]
    pos, neg = stack.positives, stack.negatives
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
        recall = np.where(pos > 0, tp / pos, np.nan)
        fpr = np.where(neg > 0, fp / neg, np.nan)
    p_lo, p_hi = clf.wilson_bounds(tp, tp + fp)
    r_lo, r_hi = clf.wilson_bounds(tp, pos)
    return {"value": np.array(stack.values, dtype=object), "positives": pos, "negatives": neg,
            "tp": tp, "fp": fp, "fn": pos - tp, "tn": neg - fp, "flagged": flagged,
            "precision": precision, "precision_lo": p_lo, "precision_hi": p_hi,
            "recall": recall, "recall_lo": r_lo, "recall_hi": r_hi, "fpr": fpr,
            "small": (pos < MIN_POSITIVES) | (tp + fp < MIN_FLAGGED)}


def is_small(positives: float, flagged_labelled: float) -> bool:
    return positives < MIN_POSITIVES or flagged_labelled < MIN_FLAGGED


def business_reading(c: Counts, i: int) -> dict:
    """The operating point per day at the logged volume, in the units a PM uses. Money is None when no
    labelled row of the view carries a `value` (not $0.00: nothing says no money was at stake)."""
    cum = cumulative(c.overall)
    days = c.days
    money = bool(cum.value_tp[0] or cum.value_fp[0])
    return {
        "days": days,
        "alerts_per_day": float(cum.flagged[i]) / days,
        "legit_blocked_per_day": float(cum.fp[i]) / days,
        "bad_missed_per_day": float(cum.fn[i]) / days,
        "bad_caught_per_day": float(cum.tp[i]) / days,
        "value_caught_per_day": float(cum.value_tp[i]) / days if money else None,
        "value_missed_per_day": float(cum.value_tp[0] - cum.value_tp[i]) / days if money else None,
        "legit_value_blocked_per_day": float(cum.value_fp[i]) / days if money else None,
    }


def pick(c: Counts, mode: str, *, precision_floor: float = 0.9, every_segment: bool = False,
         guaranteed: bool = False, cost_fp: float = 1.0, cost_fn: float = 10.0, use_value: bool = False,
         budget_per_day: float = 100.0) -> int | None:
    """Threshold index chosen by a rule; None when no threshold satisfies it.

    precision: best recall with precision >= floor; `guaranteed` judges the 95% Wilson lower bound of
    precision instead of its observed value. `every_segment`: each segment with at least
    MIN_POSITIVES positives must reach the floor too, wherever it flags at least MIN_FLAGGED rows."""
    cum = cumulative(c.overall)
    if mode == "precision":
        also = []
        if every_segment:
            also = [cumulative(a) for a in c.segments.values() if a["pos"].sum() >= MIN_POSITIVES]
        return clf.best_recall_at_precision(cum, precision_floor, also, guaranteed=guaranteed,
                                            min_flagged=MIN_FLAGGED)
    if mode == "cost":
        return clf.max_value_index(cum, cost_fp) if use_value else clf.min_cost_index(cum, cost_fp, cost_fn)
    if mode == "capacity":
        return clf.capacity_index(cum, budget_per_day, c.days)
    raise ValueError(f"unknown picking mode {mode!r}; expected precision, cost or capacity")


def curves(c: Counts) -> dict[str, np.ndarray]:
    """PR and ROC points at every non-empty bin edge (for drawing)."""
    cum = cumulative(c.overall)
    keep = np.r_[True, np.diff(cum.tp + cum.fp) != 0] & ((cum.tp + cum.fp) > 0)
    return {
        "threshold": c.edges[keep], "precision": clf.precision(cum)[keep], "recall": clf.recall(cum)[keep],
        "fpr": clf.fpr(cum)[keep], "tpr": clf.recall(cum)[keep],
    }


def disagreement(con, model_a: str, threshold_a: float, model_b: str, threshold_b: float,
                 flt: Filter = Filter()) -> dict:
    """Share of rows (joined on `id`) where two models decide differently at their thresholds, from
    the raw rows: exact at any threshold (the CLI and the Online vs offline page; the Thresholds page
    reads paired_counts once per view instead)."""
    unavailable = _pairing_unavailable(con, model_a, model_b, flt)
    if unavailable:
        return unavailable
    where, view_params = _view_filter(flt, alias="a.")
    params = [threshold_a, threshold_b, threshold_a, threshold_b, model_a, model_b, *view_params]
    total, only_a, only_b = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE a.score >= ? AND b.score < ?), "
        "count(*) FILTER (WHERE a.score < ? AND b.score >= ?) "
        f"FROM predictions a JOIN predictions b ON a.id = b.id AND a.model = ? AND b.model = ? WHERE true{where}",
        params,
    ).fetchall()[0]
    if not total:
        return _no_shared_ids(model_a, model_b)
    return {"available": True, "paired_rows": int(total), "only_a": int(only_a), "only_b": int(only_b),
            "rate": clf.disagreement_rate(only_a, only_b, total)}


def paired_counts(con, model_a: str, model_b: str, flt: Filter = Filter()) -> dict:
    """The two models' paired rows of the view counted per (bin of A, bin of B): one join, once per
    view. {"available": True, "joint": JointCounts} (read by disagreement_at for any pair of bin
    edges), or {"available": False, "reason": ...} as disagreement() says it."""
    unavailable = _pairing_unavailable(con, model_a, model_b, flt)
    if unavailable:
        return unavailable
    where, params = _view_filter(flt, alias="a.")
    cells = joint_bins.paired_bin_counts(con, model_a, model_b, where, params)
    joint = joint_counts(cells["bin_a"], cells["bin_b"], cells["n"], N_BINS)
    if not joint.total:
        return _no_shared_ids(model_a, model_b)
    return {"available": True, "joint": joint, "models": (model_a, model_b)}


def paired_counts_in_background(con, model_a: str, model_b: str, flt: Filter = Filter()) -> dict:
    """paired_counts for the page's background thread, DuckDB's memory capped (the join spills)."""
    con.execute(f"SET memory_limit = '{BACKGROUND_SORT_MEMORY}'")
    return paired_counts(con, model_a, model_b, flt)


def disagreement_at(paired: dict, i: int, j: int) -> dict:
    """disagreement() with model A at edge i and model B at edge j (indices of their bin edges;
    N_BINS + 1: nothing flagged), from paired_counts: exact, no raw rows read."""
    if not paired["available"]:
        return paired
    return {"available": True, **paired["joint"].at(i, j)}


def _pairing_unavailable(con, model_a: str, model_b: str, flt: Filter) -> dict | None:
    cols = catalog.table_columns(con, "predictions")
    if not (has_raw_rows(con, model_a) and has_raw_rows(con, model_b)):
        return {"available": False, "reason": "it pairs the two models' raw rows, and only their summaries are "
                                              "loaded (`summarize`); ingest both models' predictions to see it"}
    if "id" not in cols:
        return {"available": False, "reason": "predictions have no id column to pair the models' rows"}
    if flt.segment_column:
        _check_column(con, flt.segment_column)
    return None


def _no_shared_ids(model_a: str, model_b: str) -> dict:
    return {"available": False, "reason": f"{model_a} and {model_b} share no ids in this view"}


# --- command line --------------------------------------------------------------------------

def finite_float(text: str) -> float:
    """argparse type: a finite number (nan and inf are no threshold; JSON cannot carry them)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True)
    at = parser.add_mutually_exclusive_group(required=True)
    at.add_argument("--threshold", type=finite_float,
                    help="operating threshold: predict positive when score >= threshold. Counts are "
                         "exact on the raw rows; with only summaries loaded, the bin edge it lies on "
                         "(within floating error) or the one below it")
    at.add_argument("--precision-floor", type=finite_float, default=None,
                    help="pick the threshold: the best recall whose precision reaches this floor")
    parser.add_argument("--guaranteed", action="store_true",
                        help="with --precision-floor: judge the 95%% Wilson lower bound of precision, not "
                             "its observed value (the true precision is below the floor in <= 5%% of picks)")
    parser.add_argument("--by", default="", help="segment column to break down by")
    parser.add_argument("--from", dest="date_from", type=date.fromisoformat, default=None)
    parser.add_argument("--to", dest="date_to", type=date.fromisoformat, default=None)


def raw_split(con, model: str, flt: Filter, by: str, threshold: float) -> dict[str, dict[str, np.ndarray]]:
    """Two-bin arrays ([score < threshold, score >= threshold]) per segment value ('' = the filtered
    whole) from the raw rows: exact counts at any threshold, not only at bin edges."""
    where, params = _raw_where(model, flt)
    group = f"coalesce({ident(by)}, '(missing)')" if by else "''"
    rows = con.execute(
        f"SELECT {group} AS seg, CAST(score >= ? AS INTEGER) AS above, "
        "count(*) FILTER (WHERE label = 1), count(*) FILTER (WHERE label = 0), "
        "count(*) FILTER (WHERE label IS NULL), coalesce(sum(value) FILTER (WHERE label = 1), 0), "
        f"coalesce(sum(value) FILTER (WHERE label = 0), 0) FROM predictions WHERE {where} GROUP BY ALL",
        [threshold, *params]).fetchall()
    out: dict[str, dict[str, np.ndarray]] = {}
    for seg, above, *values in rows:
        arrays = out.setdefault(str(seg), {k: np.zeros(2) for k in _FIELDS})
        for name, v in zip(_FIELDS, values):
            arrays[name][above] = float(v)
    return out


def _raw_where(model: str, flt: Filter) -> tuple[str, list]:
    where, params = _view_filter(flt)
    return "model = ?" + where, [model, *params]


def _view_filter(flt: Filter, alias: str = "") -> tuple[str, list]:
    """The view's dates and segment as ' AND ...' clauses on the predictions columns (`alias` e.g. 'a.')."""
    where, params = "", []
    if flt.date_from is not None:
        where += f" AND CAST({alias}ts AS DATE) >= ?"
        params.append(flt.date_from)
    if flt.date_to is not None:
        where += f" AND CAST({alias}ts AS DATE) <= ?"
        params.append(flt.date_to)
    if flt.segment_column:
        where += f" AND coalesce({alias}{ident(flt.segment_column)}, '(missing)') = ?"
        params.append(flt.segment_value)
    return where, params


def report(con, args) -> dict:
    flt = Filter(args.date_from, args.date_to)
    c = counts(con, args.model, flt, args.by)
    picked = None
    if getattr(args, "precision_floor", None) is not None:
        picked = _pick_for_report(c, args.precision_floor, args.guaranteed)
        if picked.get("threshold") is None:
            return {"model": args.model, "picked_by": picked, "note": picked["statement"]}
        typed = picked["threshold"]
    else:
        if getattr(args, "guaranteed", False):
            raise ValueError("--guaranteed applies to --precision-floor, not to a typed --threshold")
        typed = float(args.threshold)
    empty = {k: np.zeros(2) for k in _FIELDS}
    if has_raw_rows(con, args.model):
        split = raw_split(con, args.model, flt, "", typed)
        overall_arrays = split.get("", empty)
        segments = raw_split(con, args.model, flt, args.by, typed) if args.by else {}
        used, basis = typed, "raw rows: score >= threshold"
    else:
        i = snap_index(c.edges, typed)
        overall_arrays = split_at(c.overall, i)
        segments = {v: split_at(a, i) for v, a in c.segments.items()}
        on_edge = i < len(c.edges) and abs(c.edges[i] - typed) <= _edge_tolerance(c.edges)
        used = typed if on_edge or i == len(c.edges) else float(c.edges[i])
        basis = ("score bins: only summaries are loaded; the bin edge the threshold lies on, or the one "
                 "below it")
    two = Counts(c.model, c.lo, c.hi, c.days, overall_arrays, segments, args.by)
    exact = exact_quality(con, args.model, flt, args.by)
    overall = {**clf.operating_point(cumulative(two.overall), 1), **exact.get("", {})}
    rows = []
    for row in segment_rows(two, 1):
        row.update(exact.get(row["value"], {}))
        rows.append(row)
    out = {"model": args.model, "threshold": used, "requested_threshold": typed, "counts_from": basis,
           "overall": overall, "segments": rows, "per_day": business_reading(two, 1)}
    if picked is not None:
        out["picked_by"] = picked
    if overall["flagged"] == 0:
        out["note"] = "no row has a score at or above this threshold: nothing is flagged"
    return out


def _pick_for_report(c: Counts, floor: float, guaranteed: bool) -> dict:
    if not 0.0 <= floor <= 1.0:
        raise ValueError(f"--precision-floor must be between 0 and 1, got {floor}")
    i = pick(c, "precision", precision_floor=floor, guaranteed=guaranteed)
    how = ("the 95% Wilson lower bound of precision" if guaranteed else "the observed precision (best estimate)")
    if i is None:
        return {"rule": "precision floor", "floor": floor, "guaranteed": guaranteed, "threshold": None,
                "statement": f"no threshold has {how} at or above {floor}"}
    promise = ("the true precision is below the floor in at most 5% of picks" if guaranteed else
               "picked on the rows it reports on, the true precision is often below the floor: use "
               "--guaranteed for a floor that holds")
    return {"rule": "precision floor", "floor": floor, "guaranteed": guaranteed, "threshold": float(c.edges[i]),
            "statement": f"best recall where {how} >= {floor}; {promise}"}
