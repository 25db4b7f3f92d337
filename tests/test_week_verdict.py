"""A week's verdict: against an independent pandas/scipy computation from the raw daily values,
its edge cases, and the same verdict on the Weekly review, the Metric tree and `report weekly`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dashboard.cli import main
from dashboard.metrics import week_verdict as wv
from dashboard.services import tree as tree_svc
from dashboard.services import week_verdicts
from dashboard.services import weekly as svc


def _oracle(daily: pd.Series, week_end: str, weeks: int = 1) -> dict:
    """The verdict recomputed with pandas: weekly means of complete ISO weeks, m-week means,
    log changes, the change a year before, the t prediction statistic over past surprises."""
    days = daily.resample("W-SUN").count()
    weekly = daily.resample("W-SUN").mean().where(days == 7)
    block = weekly.rolling(weeks).mean()
    d = np.log(block).diff(weeks)
    e = d - d.shift(52)
    t = weekly.index.get_loc(pd.Timestamp(week_end))
    past = [t - k * weeks for k in range(1, 52 // weeks + 1) if t - k * weeks >= 0]
    seasonal_ref = e.iloc[past].dropna()
    seasonal = len(seasonal_ref) >= 6 and np.isfinite(e.iloc[t])
    ref = seasonal_ref if seasonal else d.iloc[past].dropna()
    now = e.iloc[t] if seasonal else d.iloc[t]
    k = len(ref)
    score = (now - ref.mean()) / (ref.std(ddof=1) * np.sqrt(1 + 1 / k))
    return {"change": np.expm1(d.iloc[t]), "score": score, "p": 2 * stats.t.sf(abs(score), k - 1), "k": k,
            "seasonal": seasonal,
            "expected": np.expm1(ref.mean() + (d.iloc[t - 52] if seasonal else 0.0))}


@pytest.fixture(scope="module")
def daily(demo_db):
    from dashboard.store.connection import connect

    con = connect(demo_db, read_only=True)
    frame = con.execute("SELECT date, metric, value FROM daily_metrics").df()
    con.close()
    frame["date"] = pd.to_datetime(frame["date"])
    return {m: g.set_index("date")["value"].sort_index() for m, g in frame.groupby("metric")}


@pytest.mark.parametrize("week,end", [("2026-W47", "2026-11-22"), ("2026-W40", "2026-10-04"),
                                      ("2026-W01", "2026-01-04")])
def test_weekly_review_verdicts_match_pandas_and_scipy(demo_con, daily, week, end):
    r = svc.week_review(demo_con, week)
    for m in r["metrics"]:
        ref = _oracle(daily[m["metric"]], end)
        assert m["wow"] == pytest.approx(ref["change"], rel=1e-9)
        assert m["score"] == pytest.approx(ref["score"], rel=1e-7)
        assert m["p_value"] == pytest.approx(ref["p"], rel=1e-6, abs=1e-15)
        assert m["expected"] == pytest.approx(ref["expected"], rel=1e-7, abs=1e-12)
        assert m["history_weeks"] == ref["k"]
        assert (m["baseline"] == "same period last year") == ref["seasonal"]


@pytest.mark.parametrize("days", [14, 28])
def test_tree_periods_of_several_weeks_match_pandas(demo_con, daily, days):
    view = tree_svc.tree_view(demo_con, None, None, days)
    assert view["window"]["end"] == "2026-11-22" and view["window"]["weeks"] == days // 7
    for n in view["nodes"]:
        if n["source"] != "daily":
            continue
        ref = _oracle(daily[n["id"]], "2026-11-22", days // 7)
        assert n["relative_change"] == pytest.approx(ref["change"], rel=1e-9)
        assert n["p_value"] == pytest.approx(ref["p"], rel=1e-6, abs=1e-15)


@pytest.mark.parametrize("week", ["2026-W47", "2026-W46", "2026-W40", "2025-W52"])
def test_weekly_review_tree_and_report_agree_on_the_same_week(demo_con, demo_db, capsys, week):
    weekly = {m["metric"]: m for m in svc.week_review(demo_con, week)["metrics"]}
    tree = {n["id"]: n for n in tree_svc.tree_view(demo_con, None, None, 7, week=week)["nodes"]
            if n["source"] == "daily"}
    assert main(["report", "weekly", "--db", str(demo_db), "--week", week]) == 0
    report = {m["metric"]: m for m in json.loads(capsys.readouterr().out)["metrics"]}
    assert set(tree) <= set(weekly)
    for metric, node in tree.items():
        assert node["status"] == weekly[metric]["status"] == report[metric]["status"], metric
        assert node["p_value"] == pytest.approx(weekly[metric]["p_value"])
        assert node["relative_change"] == pytest.approx(weekly[metric]["wow"])


def test_the_november_disagreement_is_gone(demo_con):
    """16-22 Nov: revenue per user and DAU rose as they do every November (the same week last year
    rose too), so neither page calls them better; the planted retention drop stays worse."""
    weekly = {m["metric"]: m for m in svc.week_review(demo_con, "2026-W47")["metrics"]}
    tree = {n["id"]: n for n in tree_svc.tree_view(demo_con, None, None, 7)["nodes"]}
    for metric in ("revenue_per_user", "dau"):
        assert weekly[metric]["wow"] > 0.01
        assert weekly[metric]["status"] == tree[metric]["status"] == "within normal"
    assert weekly["retention_7d"]["status"] == tree["retention_7d"]["status"] == "worse"


def _seasonal_series(rng, weeks=104, dip_week=None):
    w = 100 * (1 + rng.normal(0, 0.004, weeks))
    if dip_week is not None:
        w[[dip_week, dip_week - 52]] *= 0.9
    return w


def test_a_holiday_that_comes_every_year_is_within_normal():
    rng = np.random.default_rng(3)
    w = _seasonal_series(rng, dip_week=103)
    v = wv.period_verdict(w, 103, 1, sign=1)
    assert v.change == pytest.approx(w[103] / w[102] - 1)
    assert v.verdict == "within normal" and not v.alert and v.baseline == "same period last year"
    assert v.usual_low < v.expected < v.usual_high and v.expected < -0.05
    # without last year the same dip is a worse week and an alert
    first_year = wv.period_verdict(w[52:], 51, 1, sign=1)
    assert first_year.verdict == "worse" and first_year.alert and first_year.baseline == "past weeks"


def test_directions_and_edge_cases():
    rng = np.random.default_rng(4)
    w = _seasonal_series(rng, weeks=40)
    w[-1] *= 1.08
    assert wv.period_verdict(w, 39, 1, sign=1).verdict == "better"
    lower = wv.period_verdict(w, 39, 1, sign=-1)
    assert lower.verdict == "worse" and lower.alert
    none = wv.period_verdict(w, 39, 1, sign=0)
    assert none.verdict == "unusual" and none.alert  # no direction: either way
    assert not wv.period_verdict(w, 39, 1, sign=1).alert  # a good move is no alert
    assert wv.period_verdict(w[:6], 5, 1).verdict == "not enough history"
    gap = w.copy()
    gap[39] = np.nan
    assert wv.period_verdict(gap, 39, 1).verdict == "no data"
    flat = np.full(20, 5.0)
    assert wv.period_verdict(flat, 19, 1).verdict == "not enough history"  # no variation to judge by
    profit = w - 100.0  # values around zero: differences scaled by the mean level, not logs
    v = wv.period_verdict(profit, 39, 1, sign=1)
    assert v.change == pytest.approx((profit[39] - profit[38]) / abs(profit[38]))


def test_incomplete_weeks_are_not_judged(tmp_path):
    from dashboard.store.connection import connect
    from dashboard.store.ingest import ingest_file

    days = pd.date_range("2026-01-05", "2026-06-28", freq="D")
    frame = pd.DataFrame({"date": days.date, "metric": "dau", "value": 1000.0})
    frame = frame[frame.date != pd.Timestamp("2026-06-27").date()]  # a Saturday missing
    frame.to_csv(tmp_path / "daily.csv", index=False)
    db = tmp_path / "d.duckdb"
    ingest_file(db, "daily", tmp_path / "daily.csv")
    con = connect(db, read_only=True)
    try:
        found = week_verdicts.metric_verdicts(con, "2026-W26", 1, {"dau": 1})
        assert found["dau"]["verdict"].verdict == "no data" and found["dau"]["value"] is None
        with pytest.raises(ValueError, match="1, 2, 4 weeks"):
            week_verdicts.metric_verdicts(con, "2026-W26", 3)
        with pytest.raises(ValueError, match="7, 14 or 28 days"):
            tree_svc.period_windows(con, 10)
    finally:
        con.close()
