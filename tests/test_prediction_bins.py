"""The bin summary: counts at every bin edge equal counts of `score >= edge` on the raw rows."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import confusion_matrix

from dashboard.metrics.binning import N_BINS, assign_bins, bin_edges
from dashboard.store.ingest import ingest_file


def make_frame(rng: np.random.Generator, n: int = 20_000) -> pd.DataFrame:
    # probabilities, a third of them exactly on bin edges (k/10000 and k * 1e-4), heavy ties
    score = rng.random(n)
    on_edge = rng.random(n) < 0.33
    k = rng.integers(0, N_BINS + 1, n)
    score[on_edge] = np.where(rng.random(on_edge.sum()) < 0.5, k[on_edge] / N_BINS, k[on_edge] * 1e-4)
    score[rng.random(n) < 0.1] = 0.5
    score[:3] = [0.0, 1.0, 1.0]
    label = (rng.random(n) < score * 0.3).astype(float)
    label[rng.random(n) < 0.05] = np.nan
    frame = pd.DataFrame({
        "model": "prob", "score": score, "label": label,
        "country": rng.choice(["US", "DE", "BR"], n), "device": rng.choice(["ios", "web", None], n),
        "ts": pd.Timestamp("2026-11-01") + pd.to_timedelta(rng.integers(0, 14 * 86400, n), unit="s"),
    })
    raw = frame.copy()
    raw["model"] = "logit"
    raw["score"] = np.log(score + 1e-3) * 3.7 + rng.normal(0, 0.01, n).round(1)  # not a probability
    return pd.concat([frame, raw], ignore_index=True)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    rng = np.random.default_rng(11)
    frame = make_frame(rng)
    path = tmp_path_factory.mktemp("bins") / "p.parquet"
    frame.to_parquet(path)
    db = path.with_suffix(".duckdb")
    ingest_file(db, "predictions", path)
    con = duckdb.connect(str(db), read_only=True)
    yield con, frame
    con.close()


def cumulative(con, model: str, column: str, value: str):
    rows = con.execute(
        "SELECT bin, sum(n_pos), sum(n_neg) FROM prediction_bins WHERE model = ? AND segment_column = ? "
        "AND segment_value = ? GROUP BY bin", [model, column, value]).fetchall()
    pos = np.zeros(N_BINS + 1)
    neg = np.zeros(N_BINS + 1)
    for b, p, n in rows:
        pos[b], neg[b] = p, n
    return pos[::-1].cumsum()[::-1], neg[::-1].cumsum()[::-1]


@pytest.mark.parametrize("model", ["prob", "logit"])
@pytest.mark.parametrize("segment", [("", ""), ("country", "BR"), ("device", "(missing)")])
def test_counts_at_every_edge_match_sklearn(store, model, segment):
    con, frame = store
    lo, hi = con.execute("SELECT lo, hi FROM model_score_range WHERE model = ?", [model]).fetchone()
    if model == "prob":
        assert (lo, hi) == (0.0, 1.0)
    rows = frame[(frame.model == model) & frame.label.notna()]
    if segment[0]:
        col = rows[segment[0]].fillna("(missing)")
        rows = rows[col == segment[1]]
    tp_at, fp_at = cumulative(con, model, *segment)
    edges = bin_edges(lo, hi)
    y = rows.label.to_numpy().astype(int)
    s = rows.score.to_numpy()
    checked = 0
    for i in np.unique(np.r_[0, 1, N_BINS, N_BINS - 1, np.searchsorted(edges, s[:300]).clip(0, N_BINS)]):
        tn, fp, fn, tp = confusion_matrix(y, (s >= edges[i]).astype(int), labels=[0, 1]).ravel()
        assert (tp_at[i], fp_at[i]) == (tp, fp), f"edge {i} = {edges[i]!r}"
        checked += 1
    assert checked > 50


def test_sql_binning_equals_reference_and_edges_are_exact(store):
    con, frame = store
    s = frame[frame.model == "prob"].score.to_numpy()
    b = assign_bins(s, 0.0, 1.0)
    edges = bin_edges(0.0, 1.0)
    assert np.all(s >= edges[b])
    assert np.all((b == N_BINS) | (s < edges[np.minimum(b + 1, N_BINS)]))
    sql_total = con.execute("SELECT sum(n_pos + n_neg + n_unlabeled) FROM prediction_bins "
                            "WHERE model = 'prob' AND segment_column = ''").fetchone()[0]
    assert sql_total == len(s)


def test_day_split_sums_to_total_and_unlabeled_kept_apart(store):
    con, frame = store
    rows = con.execute("SELECT day, sum(n_pos), sum(n_neg), sum(n_unlabeled) FROM prediction_bins "
                       "WHERE model = 'prob' AND segment_column = '' GROUP BY day ORDER BY day").fetchall()
    assert len(rows) == 14
    f = frame[frame.model == "prob"]
    assert sum(r[1] for r in rows) == (f.label == 1).sum()
    assert sum(r[2] for r in rows) == (f.label == 0).sum()
    assert sum(r[3] for r in rows) == f.label.isna().sum()
