"""Launch review and Metric tree pages in AppTest, on the hand-made experiment database."""

from __future__ import annotations

import pytest

from tests import launch_fixture as lf
from tests.apptest import run_page


@pytest.fixture
def launch_env(tmp_path_factory, monkeypatch):
    db = lf.launch_db(tmp_path_factory)
    monkeypatch.setenv("DASHBOARD_DB", str(db))
    monkeypatch.delenv("DASHBOARD_TREE", raising=False)
    return db


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def test_launch_review_says_roll_back_with_reasons(launch_env):
    at = run_page("launch_review.py")
    assert at.selectbox[0].value == "X1"  # newest first
    errors = _texts(at.error)
    assert "Roll back: do not ship" in errors
    assert "Guardrail breached: Latency" in errors and "7-day retention (business) got significantly worse" in errors
    assert "Offline-online trap" in errors
    assert len(at.dataframe) >= 3  # scorecard, offline, segments
    scorecard = at.dataframe[0].value
    assert list(scorecard["metric"])[0] == "★ 7-day retention"
    assert "BREACHED" in " ".join(scorecard["guardrail"])
    assert "nan" not in scorecard.to_string().lower()


def test_launch_review_other_experiments(launch_env):
    at = run_page("launch_review.py", {"exp": "X2"})
    assert "### Ship" in _texts(at.success)
    at = run_page("launch_review.py", {"exp": "X3"})
    assert "Hold: do not ship yet" in _texts(at.warning)
    assert "sample ratio mismatch" in _texts(at.error)
    at.selectbox[0].set_value("X1").run()
    assert "Roll back" in _texts(at.error)
    assert at.query_params["exp"] == ["X1"] or at.query_params["exp"] == "X1"


def test_launch_review_rules_change_the_call(launch_env):
    at = run_page("launch_review.py", {"exp": "X2"})
    assert "### Ship" in _texts(at.success)
    at.radio[0].set_value("estimate").run()
    assert not at.exception
    assert at.query_params["grule"] in ("estimate", ["estimate"])


def test_metric_tree_period_and_experiment(launch_env):
    at = run_page("metric_tree.py")
    assert not at.exception
    # the business level's numbers as text above the chart (shown before Plotly has loaded)
    headline = {m.label: m for m in at.metric}
    assert "7-day retention" in headline and headline["7-day retention"].delta.endswith("· worsening")
    nodes = at.dataframe[-1].value  # "All nodes"
    row = nodes[nodes["node"] == "7-day retention"].iloc[0]
    assert row["status"] == "worsening" and row["from"] == "daily"
    assert "nan" not in nodes.to_string().lower()
    at.radio[0].set_value("experiment").run()
    assert not at.exception
    nodes = at.dataframe[-1].value
    status = dict(zip(nodes["node"], nodes["status"]))
    assert status["Latency"] == "worsening" and status["NDCG@10"] == "improving"
    at.selectbox(key="_w.node").set_value("latency_ms").run()
    assert any(s.value.startswith("Guardrail: Latency may rise by at most 10%") for s in at.info)
    assert at.subheader[0].value == "Latency"


def test_metric_tree_with_a_broken_file(launch_env, tmp_path, monkeypatch):
    bad = tmp_path / "tree.yaml"
    bad.write_text("nodes:\n  - {id: a, level: business, direction: sideways, data: {daily: dau}}\n")
    monkeypatch.setenv("DASHBOARD_TREE", str(bad))
    at = run_page("metric_tree.py")
    assert "cannot be drawn" in _texts(at.error)
    assert "bad direction 'sideways'" in _texts(at.markdown)
    at = run_page("launch_review.py")
    assert "The metric tree cannot be used" in _texts(at.error)


def test_primary_metric_override(launch_env):
    at = run_page("launch_review.py", {"exp": "X2"})
    box = at.selectbox(key="_w.primary")
    assert box.value == "" and "tree's: 7-day retention" in box.format_func("")
    box.set_value("revenue_per_user").run()
    assert not at.exception
    text = _texts(at.success) + _texts(at.warning)
    assert "Primary metric Revenue per user" in text
    at.selectbox(key="_w.exp").set_value("X3").run()  # X3 has revenue too: the choice stays
    assert not at.exception and at.selectbox(key="_w.primary").value == "revenue_per_user"


def test_an_edited_tree_file_shows_without_a_restart(launch_env, tmp_path, monkeypatch):
    import os

    from dashboard.paths import DATA_DIR

    tree = tmp_path / "tree.yaml"
    tree.write_text((DATA_DIR / "metric_tree.yaml").read_text())
    monkeypatch.setenv("DASHBOARD_TREE", str(tree))
    at = run_page("launch_review.py", {"exp": "X1"})
    assert "Roll back" in _texts(at.error)
    tree.write_text(tree.read_text().replace("guardrail: {max_relative_change: 0.10}",
                                             "guardrail: {max_relative_change: 0.50}"))
    os.utime(tree, ns=(1, 10**18))  # a different modification time, whatever the clock
    at.run()
    assert "Latency may rise by at most 50%" in _texts(at.error) + _texts(at.markdown)


def test_launch_review_hold_investigate_reads_clearly(launch_env):
    at = run_page("launch_review.py", {"exp": "X4"})
    warnings = _texts(at.warning)
    assert "### Hold: investigate" in warnings
    assert "Investigate: Revenue per user (business) looks worse (-1.1%, p = 0.028)" in warnings
    assert "a roll back needs q < 0.01" in warnings
    assert "Complaints" in warnings or "complaints" in warnings  # noisy control mean
    assert "standard error is" in warnings and "Fieller" in warnings
    scorecard = at.dataframe[0].value
    status = dict(zip(scorecard["metric"], scorecard["status"]))
    assert status["Revenue per user"] == "investigate · worse at raw p only"
    assert status["★ 7-day retention"] == "improving"
    assert "Fieller's interval for the relative lift" in _texts(at.caption)


def test_an_experiment_without_models_or_tree_metrics_gets_its_scorecard(tmp_path, monkeypatch):
    """A product test (a checkout flow) changes no model and measures metrics the tree does not declare:
    it loads, its dates show, and the page says why no tree is drawn instead of drawing empty boxes."""
    from dashboard.cli import main

    (tmp_path / "e.csv").write_text(
        "experiment_id,name,start_date,end_date,control_model,treatment_model\n"
        "CHK-12,New checkout <b>flow</b>,2026-11-02,2026-11-29,,\n")
    (tmp_path / "r.csv").write_text(
        "experiment_id,variant,metric,n,sum,sum_sq\n"
        "CHK-12,control,conversion,50210,2410,2410\nCHK-12,treatment,conversion,50022,2551,2551\n"
        "CHK-12,control,order_value,50210,180000.5,9.8e6\nCHK-12,treatment,order_value,50022,183000.25,1.01e7\n"
        "CHK-12,control,p95_latency,50210,15062800,4.6e9\nCHK-12,treatment,p95_latency,50022,15206688,4.7e9\n")
    db = tmp_path / "x.duckdb"
    assert main(["ingest", "experiments", str(tmp_path / "e.csv"), "--db", str(db)]) == 0
    assert main(["ingest", "results", str(tmp_path / "r.csv"), "--db", str(db)]) == 0
    monkeypatch.setenv("DASHBOARD_DB", str(db))
    monkeypatch.delenv("DASHBOARD_TREE", raising=False)
    at = run_page("launch_review.py", {"exp": "CHK-12"})
    assert "2026-11-02 to 2026-11-29" in _texts(at.caption)
    assert "None of the metric tree's metrics were measured" in _texts(at.info)
    assert "conversion" in _texts(at.info) and "order_value" in _texts(at.info)
    assert not [c for c in at.get("plotly_chart") if c.proto.id and "launch_tree" in c.proto.id]
    card = at.dataframe[0].value.set_index("metric")
    assert set(card.index) >= {"conversion", "order_value", "p95_latency"}
    # latency rose significantly; outside the tree its direction is unknown: not "improving"
    assert card.loc["p95_latency", "status"] == "rose · direction not declared"
    for page in ("alignment.py", "metric_tree.py", "home.py", "weekly.py", "ranking.py"):
        run_page(page)  # nothing on any other page breaks on an experiment without models
