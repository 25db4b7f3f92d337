"""Two models' disagreement from joint bin counts (one join per view) against an oracle on the raw
rows: exact at every bin-edge threshold the page offers, with ties and scores lying on bin edges."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard.metrics import disagreement as dis
from dashboard.metrics.binning import N_BINS, bin_edges
from dashboard.services import thresholds as svc
from dashboard.store.connection import connect
from dashboard.store.ingest import ingest_file


def brute(bin_a, bin_b, n, i, j):
    above_a, above_b = bin_a >= i, bin_b >= j
    return {"only_a": int(n[above_a & ~above_b].sum()), "only_b": int(n[~above_a & above_b].sum()),
            "paired_rows": int(n.sum())}


@pytest.mark.parametrize("n_bins", [300, N_BINS])
def test_joint_counts_match_brute_force_at_every_kind_of_threshold(n_bins):
    rng = np.random.default_rng(7)
    k = 5_000
    bin_a = rng.integers(0, n_bins + 1, k)
    bin_b = np.clip(bin_a + rng.integers(-40, 41, k), 0, n_bins)  # correlated models, like two versions
    bin_a[:50], bin_b[50:100] = n_bins, 0  # the last bin (scores at the top edge) and the first
    n = rng.integers(1, 5, k)
    joint = dis.joint_counts(bin_a, bin_b, n, n_bins)
    block = dis.BLOCK
    picks = [0, 1, block - 1, block, block + 1, 2 * block, n_bins - 1, n_bins, n_bins + 1]
    picks += list(rng.integers(0, n_bins + 2, 25))
    for i in picks:
        for j in picks:
            got = joint.at(int(i), int(j))
            want = brute(bin_a, bin_b, n, i, j)
            assert {k: got[k] for k in want} == want, (i, j)
            assert got["rate"] == pytest.approx((want["only_a"] + want["only_b"]) / n.sum(), abs=0)


def test_repeated_cells_add_up_and_bins_out_of_range_are_refused():
    joint = dis.joint_counts([3, 3, 5], [2, 2, 9], [1, 2, 4], 10)
    assert joint.at(3, 3) == {"paired_rows": 7, "only_a": 3, "only_b": 0, "rate": 3 / 7}
    assert joint.at(0, 11)["only_a"] == 7  # B flags nothing past its last edge
    with pytest.raises(ValueError, match="0..10"):
        dis.joint_counts([11], [0], [1], 10)
    assert dis.joint_counts([], [], [], 10).at(0, 0)["rate"] is None


@pytest.fixture(scope="module")
def paired_db(tmp_path_factory):
    """Model a scores in [0, 1]; model b on its own range [-3, 5]. Both carry ties and scores lying
    exactly on bin edges (the values the edges compute to), a date and a segment column; b misses
    some of a's ids and has ids a lacks."""
    path = tmp_path_factory.mktemp("paired")
    rng = np.random.default_rng(11)
    n = 4_000
    ids = np.arange(n)
    edges_a, edges_b = bin_edges(0.0, 1.0), bin_edges(-3.0, 5.0)
    a = rng.random(n)
    a[:600] = edges_a[rng.integers(0, N_BINS + 1, 600)]  # on an edge, the top one included
    a[600:900] = 0.25  # a tie group
    b = np.clip(8 * a - 3 + rng.normal(0, 1, n), -3, 5)
    b[:700:2] = edges_b[rng.integers(0, N_BINS + 1, 350)]
    b[0], b[1] = -3.0, 5.0  # the range's own ends
    b[900:1200] = 1.5
    label = (rng.random(n) < 0.2).astype(int)
    ts = pd.Timestamp("2026-11-01") + pd.to_timedelta(rng.integers(0, 20 * 24, n), unit="h")
    country = rng.choice(["DE", "FR", "IT"], n)
    frame_a = pd.DataFrame({"model": "a", "id": [f"r{i}" for i in ids], "score": a, "label": label, "ts": ts,
                            "country": country})
    keep_b = np.r_[0:3_500, 3_700:n]
    frame_b = pd.DataFrame({"model": "b", "id": [f"r{i}" for i in ids[keep_b]] + [f"x{i}" for i in range(50)],
                            "score": np.r_[b[keep_b], np.linspace(-3, 5, 50)],
                            "label": np.r_[label[keep_b], np.zeros(50, int)],
                            "ts": np.r_[ts[keep_b], np.full(50, pd.Timestamp("2026-11-05"))],
                            "country": np.r_[country[keep_b], np.full(50, "DE")]})
    db = path / "paired.duckdb"
    for name, frame in (("a", frame_a), ("b", frame_b)):
        frame.to_parquet(path / f"{name}.parquet", index=False)  # floats kept bit for bit
        ingest_file(db, "predictions", path / f"{name}.parquet")
    return db, frame_a, frame_b


VIEWS = [svc.Filter(), svc.Filter(pd.Timestamp("2026-11-04").date(), pd.Timestamp("2026-11-12").date(), "country", "DE")]


@pytest.mark.parametrize("flt", VIEWS)
def test_disagreement_from_joint_counts_equals_the_raw_rows(paired_db, flt):
    db, frame_a, frame_b = paired_db
    pairs = frame_a.merge(frame_b, on="id", suffixes=("_a", "_b"))
    if flt.date_from is not None:
        day = pairs.ts_a.dt.date
        pairs = pairs[(day >= flt.date_from) & (day <= flt.date_to) & (pairs.country_a == flt.segment_value)]
    assert len(pairs) > 100
    con = connect(db, read_only=True)
    try:
        paired = svc.paired_counts(con, "a", "b", flt)
        ca, cb = svc.counts(con, "a", flt), svc.counts(con, "b", flt)
        rng = np.random.default_rng(3)
        on_scores = [svc.threshold_index(ca, s) for s in pairs.score_a.iloc[:40]]
        picks_a = [0, 1, 2500, N_BINS - 1, N_BINS, *on_scores, *rng.integers(0, N_BINS + 1, 10)]
        picks_b = [0, 1, 5000, N_BINS - 1, N_BINS, *(svc.threshold_index(cb, s) for s in pairs.score_b.iloc[:40]),
                   *rng.integers(0, N_BINS + 1, 10)]
        for i in picks_a:
            for j in picks_b:
                ta, tb = ca.edges[i], cb.edges[j]
                flagged_a, flagged_b = pairs.score_a >= ta, pairs.score_b >= tb
                got = svc.disagreement_at(paired, int(i), int(j))
                assert (got["paired_rows"], got["only_a"], got["only_b"]) == (
                    len(pairs), int((flagged_a & ~flagged_b).sum()), int((~flagged_a & flagged_b).sum())), (i, j)
        raw = svc.disagreement(con, "a", float(ca.edges[2500]), "b", float(cb.edges[5000]), flt)
        assert raw == svc.disagreement_at(paired, 2500, 5000)
    finally:
        con.close()


def test_no_shared_ids_and_summaries_only_say_why(paired_db):
    db, _, _ = paired_db
    con = connect(db, read_only=True)
    try:
        none = svc.paired_counts(con, "a", "b", svc.Filter(segment_column="country", segment_value="nowhere"))
    finally:
        con.close()
    assert none == {"available": False, "reason": "a and b share no ids in this view"}
    assert svc.disagreement_at(none, 0, 0) is none


def test_the_page_reads_the_joint_counts_not_a_raw_join_per_move(app_env, demo_con, monkeypatch):
    """Compare mode: the sentence's counts are the raw rows' at the two thresholds, and no move (nor
    the opening) runs the raw-row join of `disagreement`."""
    import re

    from tests.apptest import run_page

    def refuse(*args, **kwargs):
        raise AssertionError("a raw-row join of the two models' predictions on the page")
    monkeypatch.setattr(svc, "disagreement", refuse)
    at = run_page("thresholds.py", {"thr.model": "fraud-v2", "thr.compare": "fraud-v3", "thr.t": "0.3",
                                    "thr.t_compare": "0.4"})
    for t in (0.3, 0.55):
        at.slider[0].set_value(t).run()
        assert not at.exception, [e.value for e in at.exception]
        sentence = next(i.value for i in at.info if "decide differently" in i.value)
        only_a, only_b, total = (int(x.replace(",", "")) for x in re.findall(r"\(([\d,]+) rows flagged only by|"
                                                                            r"([\d,]+) only by|of ([\d,]+) paired",
                                                                            sentence) for x in x if x)
        ca, cb = svc.counts(demo_con, "fraud-v2"), svc.counts(demo_con, "fraud-v3")
        ta, tb = ca.edges[svc.threshold_index(ca, t)], cb.edges[svc.threshold_index(cb, 0.4)]
        want = demo_con.execute(
            "SELECT count(*) FILTER (WHERE a.score >= ? AND b.score < ?), count(*) FILTER (WHERE a.score < ? "
            "AND b.score >= ?), count(*) FROM predictions a JOIN predictions b ON a.id = b.id "
            "AND a.model = 'fraud-v2' AND b.model = 'fraud-v3'", [ta, tb, ta, tb]).fetchone()
        assert (only_a, only_b, total) == want
