"""Joint bin counts of two models' paired predictions: rows joined on `id`, counted per (bin of A,
bin of B). One join per view; every threshold pair is then arithmetic on these counts
(metrics/disagreement.py), never another pass over the raw rows."""

from __future__ import annotations

import duckdb
import numpy as np

from dashboard.metrics.binning import N_BINS
from dashboard.store.summaries import bin_sql


def paired_bin_counts(con: duckdb.DuckDBPyConnection, model_a: str, model_b: str, where: str,
                      params: list) -> dict[str, np.ndarray]:
    """{bin_a, bin_b, n}: counts of rows of model_a and model_b sharing an `id`, per pair of bins.
    `where` is ' AND ...' clauses on alias `a` (the view's dates and segment, on model A's rows)
    with its bound `params`; each model's bins use its own score range (model_score_range)."""
    sql = f"""
        WITH ra AS (SELECT lo, (hi - lo) / {N_BINS}.0 AS width FROM model_score_range WHERE model = ?),
             rb AS (SELECT lo, (hi - lo) / {N_BINS}.0 AS width FROM model_score_range WHERE model = ?)
        SELECT {bin_sql('a.score', 'ra.lo', 'ra.width')} AS bin_a, {bin_sql('b.score', 'rb.lo', 'rb.width')} AS bin_b,
               count(*) AS n
        FROM predictions a JOIN predictions b ON a.id = b.id AND a.model = ? AND b.model = ?, ra, rb
        WHERE true{where}
        GROUP BY ALL"""
    rows = con.execute(sql, [model_a, model_b, model_a, model_b, *params]).fetchnumpy()
    return {k: np.asarray(rows[k], dtype=np.int64) for k in ("bin_a", "bin_b", "n")}
