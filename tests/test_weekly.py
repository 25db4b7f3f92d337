"""Weekly review: week selection, changes and their ordering against independent computations,
alerts, and the exported HTML and PDF."""

from __future__ import annotations

import json
import re
from datetime import date
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from dashboard.cli import main
from dashboard.metrics import weekly as wk
from dashboard.services import weekly as svc


@pytest.mark.parametrize("d,label", [(date(2026, 11, 22), "2026-W47"), (date(2026, 11, 16), "2026-W47"),
                                     (date(2021, 1, 3), "2020-W53"), (date(2024, 12, 30), "2025-W01")])
def test_iso_week_labels_match_pandas(d, label):
    assert wk.week_label(d) == label
    iso = pd.Timestamp(d).isocalendar()
    assert label == f"{iso.year}-W{iso.week:02d}"
    assert wk.week_start(label) <= d


@pytest.mark.parametrize("last_day,week", [(date(2026, 11, 22), "2026-W47"), (date(2026, 11, 21), "2026-W46"),
                                           (date(2026, 11, 16), "2026-W46")])
def test_last_complete_week_needs_its_sunday(last_day, week):
    assert wk.last_complete_week(last_day) == week


@pytest.mark.parametrize("bad", ["2026-47", "2026-W60", "W47", "2021-W53"])
def test_bad_week_labels_say_what_is_expected(bad):
    with pytest.raises(ValueError, match="2026-W47|does not exist"):
        wk.week_start(bad)


def test_week_changes_against_a_hand_computation():
    rng = np.random.default_rng(1)
    series = 100 * np.cumprod(1 + rng.normal(0, 0.01, 60))
    series[-1] = series[-2] * 0.95
    c = wk.week_change(series, 59)
    assert c.wow == pytest.approx(-0.05)
    assert c.yoy == pytest.approx(series[59] / series[7] - 1)
    assert wk.week_change(series[:40], 39).yoy is None  # fewer than 52 weeks of history
    assert wk.week_change(series, 0).wow is None


def test_psi_matches_a_hand_computation_and_is_zero_for_identical_distributions():
    ref = np.array([10, 10, 10, 10, 10, 10, 10, 10, 10, 10], dtype=float)
    cur = np.array([5, 5, 10, 10, 10, 10, 10, 10, 15, 15], dtype=float)
    e, a = np.full(10, 0.1), cur / cur.sum()
    assert wk.psi(ref, cur) == pytest.approx(np.sum((a - e) * np.log(a / e)))
    assert wk.psi(ref, ref * 3) == pytest.approx(0.0)
    assert wk.psi(ref, np.zeros(10)) is None
    fine_ref = np.repeat(ref, 7)  # fine bins grouped back into deciles
    assert wk.psi(fine_ref, np.repeat(cur, 7)) == pytest.approx(wk.psi(ref, cur))


def test_demo_week_opens_on_the_last_complete_week_with_retention_on_top(demo_con):
    weeks = svc.available_weeks(demo_con)
    assert weeks[0] == "2026-W47"
    r = svc.week_review(demo_con)
    assert r["week"] == "2026-W47"
    top = r["metrics"][0]
    assert top["metric"] == "retention_7d" and top["status"] == "worse" and top["alert"]
    ps = [m["p_value"] for m in r["metrics"] if m["p_value"] is not None]
    assert ps == sorted(ps)
    judged = r["expected_false"]["model_slices"]
    assert judged > 0  # the demo's fraud models have segments with >= 30 positives and negatives
    assert r["expected_false"] == pytest.approx({"verdicts": 0.05 * len(r["metrics"]),
                                                 "alerts": 0.01 * len(r["metrics"]),
                                                 "model_alerts": 0.01 * judged, "model_slices": judged})


def test_weekly_values_equal_pandas_resample(demo_con):
    r = svc.week_review(demo_con, "2026-W47")
    daily = demo_con.execute("SELECT date, metric, value FROM daily_metrics").df()
    daily["date"] = pd.to_datetime(daily["date"])
    weekly = daily.set_index("date").groupby("metric")["value"].resample("W-SUN").mean()
    for m in r["metrics"]:
        this = weekly[m["metric"]][pd.Timestamp("2026-11-22")]
        prev = weekly[m["metric"]][pd.Timestamp("2026-11-15")]
        year_ago = weekly[m["metric"]][pd.Timestamp("2025-11-23")]  # ISO 2025-W47
        assert m["value"] == pytest.approx(this, rel=1e-12)
        assert m["wow"] == pytest.approx(this / prev - 1, rel=1e-9)
        assert m["yoy"] == pytest.approx(this / year_ago - 1, rel=1e-9)
        assert len(m["sparkline"]) == 12 and m["sparkline"][-1] == pytest.approx(this)


def test_demo_alerts_unusual_moves_proxy_and_drift(demo_con):
    r = svc.week_review(demo_con, "2026-W47")
    kinds = {(a["kind"], a["title"]) for a in r["alerts"]}
    assert any(k == "unusual move" and "Latency" in t for k, t in kinds)
    assert not any(k == "guardrail" for k, _ in kinds)  # experiment guardrails are not weekly rules
    assert any(k == "proxy broke" and t.startswith("E045") for k, t in kinds)
    assert any(k == "unusual move" and "retention" in t for k, t in kinds)
    assert any(k == "score drift" and "fraud-v3" in t and "device=android" in t for k, t in kinds)
    assert not any(k == "score drift" and "fraud-v2" in t for k, t in kinds)  # v2 did not drift
    assert all(a["link"]["page"] in ("metric_tree.py", "launch_review.py", "thresholds.py") for a in r["alerts"])
    decisions = {d["experiment_id"]: d for d in r["decisions"]}
    assert decisions["E045"]["status"] == "awaiting a decision"
    assert decisions["E045"]["recommendation"] == "roll back"
    assert any(a["title"].startswith("Search ranker v3 ramped") for a in r["annotations"])


def test_alerts_grouped_by_subject_with_duplicates_merged(demo_con):
    r = svc.week_review(demo_con, "2026-W47")
    subjects = [g["subject"] for g in r["alert_groups"]]
    assert len(subjects) == len(set(subjects))
    assert sum(len(g["alerts"]) for g in r["alert_groups"]) == len(r["alerts"])
    latency = [g for g in r["alert_groups"] if g["subject"] == "Latency"]
    assert len(latency) == 1 and [a["kind"] for a in latency[0]["alerts"]] == ["unusual move"]
    e045 = next(g for g in r["alert_groups"] if g["subject"].startswith("E045"))
    assert e045["decision"]["experiment_id"] == "E045" and e045["decision"]["recommendation"] == "roll back"
    assert "E045" not in {d["experiment_id"] for d in r["pending_decisions"]}  # one item, not two
    ranks = [{"high": 0, "medium": 1}[g["severity"]] for g in r["alert_groups"]]
    assert ranks == sorted(ranks)


def test_an_earlier_week_is_quiet(demo_con):
    r = svc.week_review(demo_con, "2026-W40")
    assert not [a for a in r["alerts"] if a["kind"] == "unusual move" and "retention" in a["title"]]


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        self.refs += [v for k, v in attrs if k in ("src", "href") and v]


def test_report_writes_self_contained_html_and_a_readable_pdf(demo_db, tmp_path, capsys):
    from pypdf import PdfReader

    assert main(["report", "weekly", "--db", str(demo_db), "--week", "2026-W47", "--out", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    html_path, pdf_path = tmp_path / "weekly-review-2026-W47.html", tmp_path / "weekly-review-2026-W47.pdf"
    assert out["files"] == {"html": str(html_path), "pdf": str(pdf_path)}
    text = html_path.read_text()
    for section in ("Movements", "Charts", "Alerts", "Decisions", "Launches and events"):
        assert f"<h2>{section}</h2>" in text
    assert "Weekly metric review 2026-W47" in text and "7-day retention" in text
    parser = _Refs()
    parser.feed(text)
    assert not [r for r in parser.refs if re.match(r"(https?:)?//", r)]
    assert not re.search(r"<link[^>]+stylesheet|@import|url\(\s*['\"]?https?:", text)
    assert text.count("Plotly.newPlot") >= 3  # three interactive charts
    pdf = PdfReader(pdf_path)
    assert len(pdf.pages) >= 2
    body = "\n".join(p.extract_text() for p in pdf.pages)
    for needle in ("Weekly metric review 2026-W47", "Movements", "Alerts", "Decisions", "7-day retention",
                   "E045", "Generated"):
        assert needle in body
    assert sum(len(p.images) for p in pdf.pages) >= 3  # the charts


def test_unknown_week_is_a_clear_error(demo_db, capsys):
    assert main(["report", "weekly", "--db", str(demo_db), "--week", "2019-W01"]) == 2
    assert "not a complete week" in capsys.readouterr().err
    assert main(["report", "weekly", "--db", str(demo_db), "--week", "47"]) == 2
    assert "2026-W47" in capsys.readouterr().err
