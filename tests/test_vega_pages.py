"""Launch review, Online vs offline and Weekly review draw Vega-Lite, not Plotly (so a new tab never
loads Plotly's script), and each chart's data are the service's numbers: the AppTest run's chart
datasets against the service called directly on the same database."""

from __future__ import annotations

import math

import pytest

from dashboard.services import alignment as align_svc
from dashboard.services import experiments as exp_svc
from dashboard.services import weekly as weekly_svc
from dashboard.services.tree import default_tree_path
from dashboard.ui.charts_launch import lift_chart
from dashboard.ui.charts_tree import STATUS_COLOURS
from dashboard.ui.charts_weekly import value_axis
from dashboard.ui.launch_tables import decided
from tests.apptest import run_page
from tests.vega import charts

RULES = {"alpha": 0.05, "guardrail_rule": "interval", "protected_levels": ("business",)}


def _same(a, b) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return b is not None and not (isinstance(b, float) and math.isnan(b)) and abs(a - b) <= 1e-12 * max(1, abs(b))


def _described(at, start: str) -> tuple[dict, dict]:
    return next(c for c in charts(at) if c[0].get("description", "").startswith(start))


def test_launch_review_lift_chart_is_vega_lite_with_the_reports_numbers(app_env, demo_con):
    at = run_page("launch_review.py", {"exp": "E045"})
    assert not [c for c in at.get("plotly_chart") if "launch_lift" in (c.proto.id or "")]
    spec, data = _described(at, "Relative lift of each metric")
    report = exp_svc.experiment_report(demo_con, "E045", str(default_tree_path()), RULES)
    expected = [m for m in decided(report["metrics"]) if not m.get("noisy_control") and m["relative_lift"] is not None]
    lifts = data["lifts"]
    assert list(lifts.label) == [f"{m['name']} ({m['level']})" for m in expected]  # scorecard order, top down
    for m, (_, row) in zip(expected, lifts.iterrows()):
        assert _same(row.lift, m["relative_lift"])
        assert _same(row.lo, m["relative_ci_low"]) and _same(row.hi, m["relative_ci_high"])
    latency = lifts[lifts.label.str.startswith("Latency")].iloc[0]
    assert latency.status == "worsening" and latency.colour == STATUS_COLOURS["worse"][1]
    assert latency.bound == pytest.approx(0.10)  # a lower-is-better guardrail: its limit on the + side
    point = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "point")
    assert point["encoding"]["x"]["axis"]["format"] == "+.0%"
    assert {"field": "lift", "title": "relative lift", "format": "+.2%"} in point["encoding"]["tooltip"]
    assert point["encoding"]["color"]["scale"]["range"][point["encoding"]["color"]["scale"]["domain"].index(
        "worsening")] == STATUS_COLOURS["worse"][1]


def test_lift_chart_keeps_names_as_text_and_draws_an_empty_scorecard():
    row = {"name": "<b>Latency</b> & co", "level": "guardrail", "status": "worse", "direction": "lower",
           "relative_lift": 0.12, "relative_ci_low": 0.05, "relative_ci_high": 0.2, "max_relative_change": 0.1}
    spec = lift_chart([row])
    assert list(spec["datasets"]["lifts"].label) == ["<b>Latency</b> & co (guardrail)"]  # not escaped, not parsed
    assert len(lift_chart([])["datasets"]["lifts"]) == 0


def test_online_vs_offline_charts_are_vega_lite_with_the_services_numbers(app_env, demo_con):
    proxy, target = "offline:ndcg@10", "online:retention_7d"
    at = run_page("alignment.py", {"align.proxy": proxy, "align.target": target})
    assert not at.get("plotly_chart")
    assert len(at.get("vega_lite_chart")) == 3
    spec, data = _described(at, "Scatter of")
    assert spec["title"] == "Each point is one experiment: NDCG@10 (offline) lift vs 7-day retention lift"
    result = align_svc.view(demo_con, proxy, target)
    points = data["experiments"].set_index("experiment_id")
    assert sorted(points.index) == sorted(r["experiment_id"] for r in result["experiments"])
    for r in result["experiments"]:
        p = points.loc[r["experiment_id"]]
        assert _same(p.offline_lift, r["offline_lift"]) and _same(p.online_lift, r["online_lift"])
        assert _same(p.online_ci_low, r["online_ci_low"]) and _same(p.online_ci_high, r["online_ci_high"])
        assert (p.kind == "proxy won, target lost") == bool(r["broken"])
    assert "E045" in set(points[points.kind == "proxy won, target lost"].index)
    band = data["band"]
    for key in ("x", "low", "high", "fit"):
        assert all(_same(a, b) for a, b in zip(band[key], result["band"][key])) and len(band) == len(result["band"]["x"])
    enc = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "point")["encoding"]
    assert enc["x"]["axis"]["format"] == enc["y"]["axis"]["format"] == "+.1%"
    assert enc["color"]["scale"] == {"domain": ["experiment", "proxy won, target lost"], "range": ["#6b7280", "#dc2626"]}

    board, board_data = _described(at, "Correlation of each proxy's lift")
    history = align_svc.history_view(demo_con, target)
    offline = [r for r in history["leaderboard"] if not r["problem"] and r["kind"] == "offline"]
    rows = board_data["proxies"]
    assert len(rows) == len(offline)
    for r, (_, got) in zip(offline, rows.iterrows()):
        assert _same(got.r, r["aligned_pearson"]) and got.n == r["n_experiments"]
        assert _same(got.lo, r["aligned_pearson_ci"][0]) and _same(got.hi, r["aligned_pearson_ci"][1])
        assert got.colour == ("#16a34a" if got.lo > 0 else "#dc2626" if got.hi < 0 else "#6b7280")


def test_weekly_chart_is_vega_lite_with_the_reviews_days_and_events(app_env, demo_con):
    at = run_page("weekly.py", {"week": "2026-W47"})
    assert not at.get("plotly_chart")
    spec, data = _described(at, "Daily values of 7-day retention")
    review = weekly_svc.week_review(demo_con, "2026-W47")
    daily = review["daily"]["retention_7d"]
    assert list(data["daily"].date) == [f"{d.isoformat()}T00:00:00" for d in daily["date"]]
    assert all(_same(a, b) for a, b in zip(data["daily"].value, daily["value"]))
    assert len(data["events"]) == len(review["annotations"]) > 0
    assert list(data["events"].title) == [a["title"] for a in review["annotations"]]
    week = data["week"].iloc[0]
    assert week.start == f"{review['start'].isoformat()}T00:00:00" and week.week == "2026-W47"
    line = spec["layer"][-1]
    assert line["mark"]["color"] == "#dc2626"  # retention's week was worse: red, as in the export
    assert line["encoding"]["y"]["axis"]["format"] == ".1%"
    assert {"field": "value", "title": "7-day retention", "format": ".2%"} in line["encoding"]["tooltip"]


def test_a_units_prefix_or_suffix_is_a_string_literal_in_the_label_expression(monkeypatch):
    from dashboard import format as fmt

    assert value_axis("ms")["labelExpr"] == '"" + format(datum.value, ",~r") + " ms"'
    assert value_axis("$")["labelExpr"] == '"$" + format(datum.value, ",.2f") + ""'
    assert "labelExpr" not in value_axis("share of users") and value_axis("share of users")["format"] == ".1%"
    # units with a prefix or suffix are a known few today; an odd one would still stay inside its literal
    monkeypatch.setattr(fmt, "axis", lambda unit: {"tickformat": ",~r", "ticksuffix": 'x" + alert(1) + "'})
    assert value_axis("odd")["labelExpr"].endswith('+ "x\\" + alert(1) + \\""')
