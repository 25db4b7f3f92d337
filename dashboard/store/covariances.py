"""Checks of a staged `covariances` file against the `results` it completes (stored, or staged in
the same load), and the noise covariance of two metrics' means read back from both tables.

A covariances row holds sum_ab = sum over units of a*b for one experiment x variant (x segment). With
n and each metric's sum and sum_sq from `results`, the unit-level covariance is
    s_ab = (sum_ab - sum_a * sum_b / n) / (n - 1)
and it must fit the two variances: |s_ab| <= sqrt(s_aa * s_bb) (the 2x2 matrix positive
semi-definite), and the whole matrix of a variant's metrics positive semi-definite, within rounding.
"""

from __future__ import annotations

import duckdb
import numpy as np

from dashboard.store.readers import ROW
from dashboard.store.schema import RESULTS
from dashboard.store.sqlutil import ident

MAX_EXAMPLES = 3
RESULTS_VIEW = "_cov_results"
_TOLERANCE = 1e-6  # relative: sums typed with 7+ significant digits pass


def prepare_results(con: duckdb.DuckDBPyConnection, staged_results_sql: list[str], stored: bool) -> None:
    """A temp view of the results the covariances are checked against: rows staged in this load,
    then stored rows whose key they do not replace."""
    parts = [f"({sql})" for sql in staged_results_sql]
    staged_keys = " UNION ALL BY NAME ".join(parts)
    if stored:
        stored_sql = "SELECT * FROM experiment_results"
        if parts:
            stored_sql += (f" s WHERE NOT EXISTS (SELECT 1 FROM ({staged_keys}) n WHERE n.experiment_id = "
                           "s.experiment_id AND n.variant = s.variant AND n.metric = s.metric)")
        parts.append(f"({stored_sql})")
    if not parts:
        parts = ["(SELECT NULL::VARCHAR AS experiment_id, NULL::VARCHAR AS variant, NULL::VARCHAR AS metric, "
                 "NULL::BIGINT AS n, NULL::DOUBLE AS \"sum\", NULL::DOUBLE AS sum_sq WHERE FALSE)"]
    con.execute(f"CREATE OR REPLACE TEMP VIEW {RESULTS_VIEW} AS {' UNION ALL BY NAME '.join(parts)}")


def check(con: duckdb.DuckDBPyConnection, stage: str, file_name: str, row_label: str,
          segments: list[str]) -> list[str]:
    """Every problem of the staged covariances (values already type-checked); [] when none."""
    result_cols = {r[0] for r in con.execute(f"DESCRIBE {RESULTS_VIEW}").fetchall()}
    base_cols = set(RESULTS.column_names)  # the rest are segment columns (pre-period columns are not)
    seg_all = sorted((result_cols - base_cols) | set(segments))

    def seg(alias_col: str, table: str, col: str) -> str:
        if table == "c":
            return f"nullif(trim(CAST(c.{ident(col)} AS VARCHAR)), '')" if col in segments else "NULL"
        return f"r.{ident(col)}" if col in result_cols - base_cols else "NULL"

    def match(metric_col: str) -> str:
        conds = [f"r.experiment_id = CAST(c.experiment_id AS VARCHAR)", f"lower(r.variant) = lower(CAST(c.variant AS VARCHAR))",
                 f"r.metric = CAST(c.{metric_col} AS VARCHAR)"]
        conds += [f"{seg('', 'r', s)} IS NOT DISTINCT FROM {seg('', 'c', s)}" for s in seg_all]
        return " AND ".join(conds)

    where_seg = ", ".join(f"{seg('', 'c', s)} AS {ident(s)}" for s in segments)
    joined = f"""
        SELECT c.{ROW} AS row_no, CAST(c.experiment_id AS VARCHAR) AS e, CAST(c.variant AS VARCHAR) AS v,
               CAST(c.metric_a AS VARCHAR) AS ma, CAST(c.metric_b AS VARCHAR) AS mb,
               CAST(c.sum_ab AS DOUBLE) AS sab, a.n AS na, a."sum" AS sa, a.sum_sq AS qa,
               b.n AS nb, b."sum" AS sb, b.sum_sq AS qb, a.cnt AS ca, b.cnt AS cb
               {(', ' + where_seg) if where_seg else ''}
        FROM {stage} c
        LEFT JOIN LATERAL (SELECT sum(r.n) AS n, sum(r."sum") AS "sum", sum(r.sum_sq) AS sum_sq, count(*) AS cnt
                           FROM {RESULTS_VIEW} r WHERE {match('metric_a')}) a ON TRUE
        LEFT JOIN LATERAL (SELECT sum(r.n) AS n, sum(r."sum") AS "sum", sum(r.sum_sq) AS sum_sq, count(*) AS cnt
                           FROM {RESULTS_VIEW} r WHERE {match('metric_b')}) b ON TRUE
        ORDER BY c.{ROW}"""
    rows = con.execute(joined).fetchall()
    problems: list[str] = []
    problems += _same_metric(file_name, row_label, rows)
    problems += _pairs_once(con, stage, file_name, row_label, segments)
    problems += _missing(file_name, row_label, rows, segments)
    if problems:
        return problems
    return _psd(file_name, row_label, rows, segments)


def _where(row, segments: list[str]) -> str:
    seg = "".join(f", {s}={v!r}" for s, v in zip(segments, row[14:]) if v is not None)
    return f"experiment {row[1]!r}, variant {row[2]!r}{seg}"


def _limit(problems: list[str], what: str, file_name: str) -> list[str]:
    if len(problems) > MAX_EXAMPLES:
        return problems[:MAX_EXAMPLES] + [f"{file_name}: {len(problems)} rows in all {what}"]
    return problems


def _same_metric(file_name, row_label, rows) -> list[str]:
    out = [f"{file_name}, {row_label} {r[0]}, column 'metric_b': found {r[4]!r}, the same as metric_a; "
           "expected another metric (a metric's own sum of squares is sum_sq in results)"
           for r in rows if r[3] == r[4]]
    return _limit(out, "with metric_a = metric_b", file_name)


def _pairs_once(con, stage, file_name, row_label, segments) -> list[str]:
    """(a, b) and (b, a) are one pair: the file may hold it once."""
    segs = "".join(f", nullif(trim(CAST({ident(s)} AS VARCHAR)), '')" for s in segments)
    found = con.execute(
        f"""SELECT list({ROW} ORDER BY {ROW}), any_value(CAST(experiment_id AS VARCHAR)), any_value(CAST(variant AS VARCHAR)),
                   least(CAST(metric_a AS VARCHAR), CAST(metric_b AS VARCHAR)) p, greatest(CAST(metric_a AS VARCHAR), CAST(metric_b AS VARCHAR)) q
            FROM {stage} GROUP BY CAST(experiment_id AS VARCHAR), lower(CAST(variant AS VARCHAR)), p, q{segs}
            HAVING count(*) > 1 ORDER BY min({ROW}) LIMIT {MAX_EXAMPLES}""").fetchall()
    return [f"{file_name}, {row_label}s {', '.join(map(str, r[0][:5]))}: the pair ({r[3]}, {r[4]}) of experiment "
            f"{r[1]!r}, variant {r[2]!r} appears more than once (in either order); each pair may appear once"
            for r in found]


def _missing(file_name, row_label, rows, segments) -> list[str]:
    out = []
    for r in rows:
        for col, metric, n, cnt in (("metric_a", r[3], r[6], r[12]), ("metric_b", r[4], r[9], r[13])):
            if not cnt:
                out.append(f"{file_name}, {row_label} {r[0]}, column {col!r}: found {metric!r}; expected a metric "
                           f"loaded in results for {_where(r, segments)} (load results first, or in the same command)")
        if r[12] and r[13] and r[6] != r[9]:
            out.append(f"{file_name}, {row_label} {r[0]}, column 'sum_ab': {r[3]!r} has n={r[6]:,} and {r[4]!r} "
                       f"n={r[9]:,} in results for {_where(r, segments)}; expected both measured on the same units "
                       "(equal n)")
    return _limit(out, "that do not match results", file_name)


def unit_covariance(sab, na, sa, qa, sb, qb) -> tuple[float, float, float]:
    """(s_aa, s_bb, s_ab): unit-level variances and covariance (denominator n - 1)."""
    n = float(na)
    return (qa - sa * sa / n) / (n - 1), (qb - sb * sb / n) / (n - 1), (sab - sa * sb / n) / (n - 1)


def _psd(file_name, row_label, rows, segments) -> list[str]:
    out, groups = [], {}
    for r in rows:
        if r[6] is None or r[6] < 2:
            continue
        vaa, vbb, vab = unit_covariance(r[5], r[6], r[7], r[8], r[10], r[11])
        bound = np.sqrt(max(vaa, 0.0) * max(vbb, 0.0))
        scale = max(abs(r[5]), abs(r[7] * r[10] / r[6]), 1e-300) / (r[6] - 1)
        if abs(vab) > bound * (1 + _TOLERANCE) + _TOLERANCE * scale:
            corr = "undefined (a metric has no variance)" if bound == 0 else f"{vab / bound:+.4f}"
            out.append(f"{file_name}, {row_label} {r[0]}, column 'sum_ab': found {r[5]!r}, which gives {r[3]} and "
                       f"{r[4]} a unit-level correlation {corr} for {_where(r, segments)}; expected a value "
                       f"that keeps the correlation within [-1, 1] (the covariance matrix positive semi-definite)")
            continue
        key = (r[1], r[2].lower(), *r[14:])
        g = groups.setdefault(key, {"row": r, "var": {}, "cov": {}})
        g["var"][r[3]], g["var"][r[4]] = vaa, vbb
        g["cov"][(r[3], r[4])] = vab
    out = _limit(out, "with a correlation outside [-1, 1]", file_name)
    for g in groups.values():
        names = sorted(g["var"])
        if len(names) < 3 or len(g["cov"]) < len(names) * (len(names) - 1) / 2:
            continue  # only complete matrices of 3+ metrics add anything to the pairwise check
        sd = np.sqrt(np.maximum([g["var"][m] for m in names], 1e-300))
        corr = np.eye(len(names))
        for (a, b), v in g["cov"].items():
            i, j = names.index(a), names.index(b)
            corr[i, j] = corr[j, i] = v / (sd[i] * sd[j])
        low = float(np.linalg.eigvalsh(corr).min())
        if low < -1e-6:
            out.append(f"{file_name}: the covariances of {', '.join(names)} for {_where(g['row'], segments)} "
                       f"give a correlation matrix with eigenvalue {low:.4g}; expected a positive semi-definite "
                       "matrix (each pair is possible alone, not all together: check sum_ab)")
    return out


def noise_covariance(con: duckdb.DuckDBPyConnection, metric_a: str, metric_b: str) -> dict[str, dict[str, float]]:
    """experiment -> variant -> unit-level covariance s_ab of the two metrics (overall rows: every
    segment column empty), from covariances and results; experiments without rows are absent."""
    from dashboard.store import catalog

    if not catalog.table_exists(con, "experiment_covariances") or not catalog.table_exists(con, "experiment_results"):
        return {}
    cov_seg = " AND ".join(f"c.{ident(s)} IS NULL" for s in catalog.segment_columns(con, "experiment_covariances"))
    res_seg = " AND ".join(f"{ident(s)} IS NULL" for s in catalog.segment_columns(con, "experiment_results"))
    rows = con.execute(
        f"""WITH r AS (SELECT experiment_id, lower(variant) AS v, metric, sum(n) AS n, sum("sum") AS s,
                             sum(sum_sq) AS q FROM experiment_results WHERE metric IN (?, ?) AND {res_seg or 'TRUE'}
                       GROUP BY ALL)
            SELECT c.experiment_id, lower(c.variant), c.sum_ab, ra.n, ra.s, rb.s, ra.metric
            FROM experiment_covariances c
            JOIN r ra ON ra.experiment_id = c.experiment_id AND ra.v = lower(c.variant) AND ra.metric = c.metric_a
            JOIN r rb ON rb.experiment_id = c.experiment_id AND rb.v = lower(c.variant) AND rb.metric = c.metric_b
            WHERE ((c.metric_a = ? AND c.metric_b = ?) OR (c.metric_a = ? AND c.metric_b = ?)) AND {cov_seg or 'TRUE'}""",
        [metric_a, metric_b, metric_a, metric_b, metric_b, metric_a]).fetchall()
    out: dict[str, dict[str, float]] = {}
    for eid, variant, sab, n, sa, sb, _ in rows:
        if n and n > 1:
            out.setdefault(eid, {})[variant] = (sab - sa * sb / n) / (n - 1)
    return out


def noise_covariances(con: duckdb.DuckDBPyConnection, metrics: list[str]) -> dict[tuple[str, str], dict[str, dict[str, float]]]:
    """noise_covariance for every pair of `metrics` in one query: (metric_a, metric_b) sorted ->
    experiment -> variant -> s_ab (the learned composite needs all pairs of 5-10 metrics)."""
    from dashboard.store import catalog

    if len(metrics) < 2 or not catalog.table_exists(con, "experiment_covariances") \
            or not catalog.table_exists(con, "experiment_results"):
        return {}
    cov_seg = " AND ".join(f"c.{ident(s)} IS NULL" for s in catalog.segment_columns(con, "experiment_covariances"))
    res_seg = " AND ".join(f"{ident(s)} IS NULL" for s in catalog.segment_columns(con, "experiment_results"))
    marks = ", ".join("?" for _ in metrics)
    rows = con.execute(
        f"""WITH r AS (SELECT experiment_id, lower(variant) AS v, metric, sum(n) AS n, sum("sum") AS s
                       FROM experiment_results WHERE metric IN ({marks}) AND {res_seg or 'TRUE'} GROUP BY ALL)
            SELECT c.metric_a, c.metric_b, c.experiment_id, lower(c.variant), c.sum_ab, ra.n, ra.s, rb.s
            FROM experiment_covariances c
            JOIN r ra ON ra.experiment_id = c.experiment_id AND ra.v = lower(c.variant) AND ra.metric = c.metric_a
            JOIN r rb ON rb.experiment_id = c.experiment_id AND rb.v = lower(c.variant) AND rb.metric = c.metric_b
            WHERE c.metric_a IN ({marks}) AND c.metric_b IN ({marks}) AND {cov_seg or 'TRUE'}""",
        [*metrics, *metrics, *metrics]).fetchall()
    out: dict[tuple[str, str], dict[str, dict[str, float]]] = {}
    for a, b, eid, variant, sab, n, sa, sb in rows:
        if n and n > 1:
            out.setdefault(tuple(sorted((a, b))), {}).setdefault(eid, {})[variant] = (sab - sa * sb / n) / (n - 1)
    return out
