"""The thresholds report on the demo database agrees with scikit-learn on the raw rows."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, confusion_matrix, roc_auc_score

from dashboard.services import thresholds as svc


def raw(con, model, where="", params=()):
    frame = con.execute(
        f"SELECT score, label, country, device, CAST(ts AS DATE) AS day FROM predictions "
        f"WHERE model = ? AND label IS NOT NULL {where}", [model, *params]).df()
    return frame


@pytest.mark.parametrize("model,threshold", [("fraud-v3", 0.5), ("fraud-v2", 0.0731), ("fraud-v1", 0.0), ("fraud-v3", 1.0)])
def test_report_json_agrees_with_sklearn(demo_db, demo_con, model, threshold):
    out = subprocess.run([sys.executable, "-m", "dashboard", "report", "thresholds", "--db", str(demo_db),
                          "--model", model, "--threshold", str(threshold), "--by", "country", "--json"],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    frame = raw(demo_con, model)
    t = result["threshold"]
    assert t <= threshold
    for row, part in [(result["overall"], frame)] + [
            (seg, frame[frame.country == seg["value"]]) for seg in result["segments"]]:
        tn, fp, fn, tp = confusion_matrix(part.label, part.score >= t, labels=[0, 1]).ravel()
        assert (row["tp"], row["fp"], row["tn"], row["fn"]) == (tp, fp, tn, fn)
        assert row["average_precision"] == pytest.approx(average_precision_score(part.label, part.score), abs=1e-9)
        assert row["roc_auc"] == pytest.approx(roc_auc_score(part.label, part.score), abs=1e-9)
        for key in ("tp", "fp", "tn", "fn", "precision", "recall", "fpr", "f1"):
            assert key in row


def test_date_and_segment_filters_match_raw_rows(demo_con):
    flt = svc.Filter(date(2026, 11, 9), date(2026, 11, 22), "device", "android")
    c = svc.counts(demo_con, "fraud-v3", flt, by="device")
    i = svc.threshold_index(c, 0.3)
    frame = raw(demo_con, "fraud-v3", "AND device = 'android' AND CAST(ts AS DATE) BETWEEN ? AND ?",
                (date(2026, 11, 9), date(2026, 11, 22)))
    tn, fp, fn, tp = confusion_matrix(frame.label, frame.score >= c.edges[i], labels=[0, 1]).ravel()
    point = svc.segment_rows(c, i)[0]
    assert (point["tp"], point["fp"], point["tn"], point["fn"]) == (tp, fp, tn, fn)
    assert c.days == 14
    exact = svc.exact_quality(demo_con, "fraud-v3", flt)
    assert exact[""]["roc_auc"] == pytest.approx(roc_auc_score(frame.label, frame.score), abs=1e-9)


def test_pickers_and_business_reading(demo_con):
    c = svc.counts(demo_con, "fraud-v3", by="country")
    i = svc.pick(c, "precision", precision_floor=0.8)
    j = svc.pick(c, "precision", precision_floor=0.8, every_segment=True)
    assert j is None or j >= i  # requiring the floor in every segment can only raise the threshold
    k = svc.pick(c, "capacity", budget_per_day=20)
    reading = svc.business_reading(c, k)
    assert reading["alerts_per_day"] <= 20
    assert svc.business_reading(c, k - 1)["alerts_per_day"] > 20
    assert svc.pick(c, "cost", cost_fp=1, cost_fn=50) <= svc.pick(c, "cost", cost_fp=1, cost_fn=2)


def test_unknown_model_and_column_are_clear_errors(demo_con):
    with pytest.raises(ValueError, match="unknown model 'nope'; loaded models: fraud-v1"):
        svc.counts(demo_con, "nope")
    with pytest.raises(ValueError, match="unknown segment column 'colour'"):
        svc.counts(demo_con, "fraud-v1", by="colour")


def test_disagreement_matches_raw_rows(demo_con):
    d = svc.disagreement(demo_con, "fraud-v2", 0.3, "fraud-v3", 0.4)
    a = demo_con.execute("SELECT id, score FROM predictions WHERE model = 'fraud-v2' ORDER BY id").fetchnumpy()
    b = demo_con.execute("SELECT id, score FROM predictions WHERE model = 'fraud-v3' ORDER BY id").fetchnumpy()
    assert (a["id"] == b["id"]).all()
    expected = np.mean((a["score"] >= 0.3) != (b["score"] >= 0.4))
    assert d["rate"] == pytest.approx(expected, abs=1e-12)


def test_disagreement_in_a_filtered_view_matches_raw_rows(demo_con):
    flt = svc.Filter(date_from=date(2026, 10, 1), date_to=date(2026, 10, 31),
                     segment_column="country", segment_value="DE")
    d = svc.disagreement(demo_con, "fraud-v2", 0.3, "fraud-v3", 0.4, flt)
    pairs = demo_con.execute(
        "SELECT a.score, b.score FROM predictions a JOIN predictions b ON a.id = b.id "
        "WHERE a.model = 'fraud-v2' AND b.model = 'fraud-v3' AND a.country = 'DE' "
        "AND CAST(a.ts AS DATE) BETWEEN DATE '2026-10-01' AND DATE '2026-10-31'").fetchall()
    assert pairs, "the view must hold rows for the check to mean anything"
    expected = np.mean([(sa >= 0.3) != (sb >= 0.4) for sa, sb in pairs])
    assert d["rate"] == pytest.approx(expected, abs=1e-12)


def test_money_is_unknown_without_a_value_column_not_zero(demo_con):
    """The demo's fraud rows carry `value`: money per day adds up. A view whose rows carry none reads
    None (the page's n/a), not $0.00, which would say nothing was at stake."""
    c = svc.counts(demo_con, "fraud-v3")
    reading = svc.business_reading(c, 5000)
    assert reading["value_caught_per_day"] > 0 and reading["value_missed_per_day"] >= 0
    blank = svc.Counts(c.model, c.lo, c.hi, c.days, {**c.overall, "value_pos": 0 * c.overall["value_pos"],
                                                     "value_neg": 0 * c.overall["value_neg"]})
    reading = svc.business_reading(blank, 5000)
    assert reading["value_caught_per_day"] is None and reading["value_missed_per_day"] is None
    assert reading["legit_value_blocked_per_day"] is None and reading["alerts_per_day"] > 0


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.7731, 1.0])
def test_segment_rows_from_cumulatives_built_once_agree_with_sklearn(demo_con, threshold):
    # the page builds each segment's cumulative counts once per view and reads one edge per move
    c = svc.counts(demo_con, "fraud-v2", svc.Filter(), by="country")
    i = svc.threshold_index(c, threshold)
    rows = svc.segment_rows(c, i, svc.segment_cumulatives(c))
    assert rows == svc.segment_rows(c, i)  # the same rows as summing each segment's bins at edge i
    frame = raw(demo_con, "fraud-v2")
    for row in rows:
        part = frame[frame.country == row["value"]]
        tn, fp, fn, tp = confusion_matrix(part.label, part.score >= c.edges[i], labels=[0, 1]).ravel()
        assert (row["tp"], row["fp"], row["tn"], row["fn"]) == (tp, fp, tn, fn)


@pytest.mark.parametrize("by", ["country", "device"])
def test_segment_columns_are_segment_rows_for_every_segment_at_once(demo_con, by):
    """The page's table at a slider move (all segments in one array operation) reads the same numbers
    as segment_rows, undefined ratios (nothing flagged, at the top edge) included."""
    c = svc.counts(demo_con, "fraud-v3", by=by)
    stack = svc.segment_stack(c)
    for i in (0, 1, 3000, 7000, 9999, 10_000):
        cols = svc.segment_columns(stack, i)
        rows = svc.segment_rows(c, i)
        assert list(cols["value"]) == [r["value"] for r in rows]
        for k, r in enumerate(rows):
            for key in ("tp", "fp", "fn", "tn", "flagged", "positives", "negatives", "small"):
                assert cols[key][k] == r[key], (i, key)
            for key, got in (("precision", cols["precision"][k]), ("recall", cols["recall"][k]),
                             ("fpr", cols["fpr"][k]), ("precision_ci", (cols["precision_lo"][k], cols["precision_hi"][k])),
                             ("recall_ci", (cols["recall_lo"][k], cols["recall_hi"][k]))):
                want = r[key] if isinstance(r[key], tuple) else (r[key],)
                got = got if isinstance(got, tuple) else (got,)
                for g, w in zip(got, want):
                    assert (w is None and np.isnan(g)) or g == pytest.approx(w, rel=1e-12), (i, key)
    assert np.isnan(svc.segment_columns(stack, 10_000)["precision"]).any()  # the undefined case was met
