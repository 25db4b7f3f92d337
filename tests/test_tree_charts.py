"""The Metric tree's charts are Vega-Lite specs that draw the services' numbers (dashboard/ui/charts_tree.py),
and the tree page and Launch review's tree draw them without Plotly."""

from __future__ import annotations

import io

import duckdb
import pyarrow as pa
import pytest

from dashboard import format as fmt
from dashboard.paths import DATA_DIR
from dashboard.services import experiments as exp_svc
from dashboard.services import tree as svc
from dashboard.tree.layout import BOX_HALF_HEIGHT, BOX_HALF_WIDTH
from dashboard.ui.charts_tree import (BROKEN_BORDER, SELECTED_BORDER, STATUS_COLOURS, TREE_SELECTION, fmt_change,
                                      history_figure, offline_history_figure, tree_figure)
from tests import launch_fixture as lf
from tests.apptest import run_page

TREE = str(DATA_DIR / "metric_tree.yaml")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    with duckdb.connect(str(lf.launch_db(tmp_path_factory)), read_only=True) as con:
        return {"period": svc.tree_view(con, TREE, None, 7), "experiment": svc.tree_view(con, TREE, "X1", 7),
                "report": exp_svc.experiment_report(con, "X1", TREE),
                "retention": svc.node_detail(con, TREE, "retention_7d"), "ndcg": svc.node_detail(con, TREE, "ndcg_10")}


def _layer(spec: dict, dataset: str) -> list[dict]:
    return [layer for layer in spec["layer"] if layer.get("data", {}).get("name") == dataset]


@pytest.mark.parametrize("mode", ["period", "experiment"])
def test_the_boxes_are_the_services_nodes(data, mode):
    nodes = data[mode]["nodes"]
    spec = tree_figure(nodes, data[mode]["levels"], selected="latency_ms")
    boxes = spec["datasets"]["boxes"]
    assert [b["id"] for b in boxes] == [n["id"] for n in nodes]
    for b, n in zip(boxes, nodes):
        assert b["status"] == n["status"] and b["name"] == n["name"]
        assert (b["x"] + b["x2"]) / 2 == pytest.approx(n["x"]) and b["x2"] - b["x"] == pytest.approx(2 * BOX_HALF_WIDTH)
        assert (b["y"] + b["y2"]) / 2 == pytest.approx(n["y"]) and b["y2"] - b["y"] == pytest.approx(2 * BOX_HALF_HEIGHT)
        fill, border = STATUS_COLOURS.get(n["status"], STATUS_COLOURS["n/a"])
        assert b["fill"] == fill
        assert b["stroke"] == (SELECTED_BORDER if n["id"] == "latency_ms" else border)
        assert b["dashed"] == (n["status"] == "no data")
    # each box's text: the name (bold), then the value and the change as the page's numbers print them
    lines = spec["datasets"]["lines"]
    for n in nodes:
        text = [(line["text"], line["bold"]) for line in lines if line["id"] == n["id"]]
        assert " ".join(t for t, bold in text if bold) == n["name"]
        if n["status"] == "no data":
            assert ("no data", False) in text
        elif n.get("source") != "composite":
            assert (fmt.value(n["value"], n["unit"]), False) in text
            assert (fmt_change(n).partition(" [")[0], False) in text
    measured = [n for n in nodes if n["status"] != "no data" and n.get("source") != "composite"]
    assert measured, "the view measured nothing: the check above checked nothing"


def test_the_edges_are_the_parents_links_lit_where_both_ends_worsened(data):
    nodes = data["experiment"]["nodes"]
    by_id = {n["id"]: n for n in nodes}
    edges: dict[str, list[dict]] = {}
    for point in tree_figure(nodes, data["experiment"]["levels"])["datasets"]["edges"]:
        edges.setdefault(point["edge"], []).append(point)
    assert set(edges) == {f"{p}>{n['id']}" for n in nodes for p in n["parents"] if p in by_id}
    for n in nodes:
        for p in n["parents"]:
            points = sorted(edges[f"{p}>{n['id']}"], key=lambda q: q["i"])
            assert [(q["x"], q["y"]) for q in points] == [tuple(xy) for xy in n["routes"][p]]
            both_worse = n["status"] == "worse" and by_id[p]["status"] == "worse"
            assert all(q["lit"] == both_worse for q in points)
    assert all(q["lit"] for q in edges["retention_7d>session_length"])  # X1: both fell


def test_broken_nodes_on_launch_review_have_the_dark_red_border(data):
    report = data["report"]
    spec = tree_figure(report["tree_nodes"], report["levels"], height_per_level=125)
    boxes = {b["id"]: b for b in spec["datasets"]["boxes"]}
    broken = [n["id"] for n in report["tree_nodes"] if n["broken"]]
    assert "latency_ms" in broken
    assert all(boxes[i]["stroke"] == BROKEN_BORDER and boxes[i]["stroke_width"] == 4 for i in broken)
    assert any(line["text"].startswith("BROKE: ") for line in spec["datasets"]["lines"] if line["id"] == "latency_ms")
    assert not any(b["selected"] for b in boxes.values())
    assert all("params" not in layer for layer in spec["layer"])  # nothing to select on Launch review


def test_a_click_on_a_box_or_its_text_selects_the_node(data):
    spec = tree_figure(data["period"]["nodes"], data["period"]["levels"], selectable=True)
    (boxes,) = _layer(spec, "boxes")
    assert boxes["params"] == [{"name": TREE_SELECTION, "select": {"type": "point", "fields": ["id"], "toggle": False}}]
    # the text drawn over a box carries its node's id: a click on it selects the same node
    assert {line["id"] for line in spec["datasets"]["lines"]} == {n["id"] for n in data["period"]["nodes"]}


def test_history_draws_the_daily_series_and_the_two_periods(data):
    daily = data["retention"]["daily"]
    window = data["period"]["window"]
    spec = history_figure(daily, "7-day retention", "share of users", window)
    assert [(r["date"], r["value"]) for r in spec["datasets"]["series"]] == [tuple(d) for d in daily]
    assert [(s["start"], s["end"]) for s in spec["datasets"]["shades"]] == [
        (window["prev_start"], window["prev_end"]), (window["cur_start"], window["end"])]
    assert history_figure(daily, "7-day retention")["datasets"]["shades"] == []


def test_offline_history_draws_both_models_of_each_experiment(data):
    rows = data["ndcg"]["offline"]
    assert rows
    spec = offline_history_figure(rows, "NDCG@10")
    assert spec["data"]["values"] == [
        {"experiment": r["experiment_id"], "model": side, "value": r[f"{side}_value"]}
        for r in rows for side in ("control", "treatment")]


def _datasets(chart) -> dict[str, list[dict]]:
    return {d.name: pa.ipc.open_stream(io.BytesIO(d.data.data)).read_all().to_pylist() for d in chart.proto.datasets}


@pytest.fixture
def launch_env(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("DASHBOARD_DB", str(lf.launch_db(tmp_path_factory)))
    monkeypatch.delenv("DASHBOARD_TREE", raising=False)


def test_the_tree_page_draws_vega_lite_charts_only(launch_env, data):
    at = run_page("metric_tree.py")
    assert not at.get("plotly_chart")  # no Plotly chart: the browser never loads Plotly's script
    charts = at.get("vega_lite_chart")
    tree = next(c for c in charts if "tree_chart" in c.proto.id)
    assert [b["id"] for b in _datasets(tree)["boxes"]] == [n["id"] for n in data["period"]["nodes"]]
    assert list(tree.proto.selection_mode) == [TREE_SELECTION]
    assert len(charts) == 2  # the tree and the first node's daily history


def test_launch_review_draws_its_tree_with_vega_lite(launch_env, data):
    at = run_page("launch_review.py", {"exp": "X1"})
    (tree,) = [c for c in at.get("vega_lite_chart") if "boxes" in _datasets(c)]
    boxes = {b["id"]: b for b in _datasets(tree)["boxes"]}
    assert set(boxes) == {n["id"] for n in data["report"]["tree_nodes"]}
    assert boxes["latency_ms"]["stroke"] == BROKEN_BORDER


def test_the_page_text_scan_reads_the_text_drawn_in_the_boxes():
    """tests/visible_text.py reads a text mark's dataset: a raw id drawn in a box would be caught."""
    from streamlit.elements.vega_charts import _marshall_chart_data
    from streamlit.proto.VegaLiteChart_pb2 import VegaLiteChart

    from tests.visible_text import _vega_drawn_texts, problems

    node = {"id": "a", "name": "retention_7d", "level": "business", "direction": "higher", "x": 0.0, "y": 0.0,
            "parents": [], "status": "no data", "needs": "needs daily “dau” in this period", "unit": ""}
    spec = tree_figure([node], ["business"])
    proto = VegaLiteChart()
    _marshall_chart_data(proto, dict(spec))
    texts = _vega_drawn_texts(spec, proto)
    assert "retention_7d" in texts and "no data" in texts
    assert problems([("tree", t) for t in texts], {"retention_7d"})



def test_a_first_visit_draws_the_headline_first_and_the_charts_after_its_paint(launch_env):
    at = run_page("metric_tree.py", painted=False)
    assert len(at.metric) >= 1 and not at.get("vega_lite_chart")  # nothing heavy mounts with the headline
    assert [c.key for c in at.get("bidi_component")] == ["paint-signal-metric_tree"]
    assert [c.value for c in at.caption if c.value.startswith("Drawing")] == ["Drawing the tree…",
                                                                             "Drawing the daily history…"]
    at.run()  # the rerun the browser's signal asks for after its paint (or any click's)
    assert len(at.get("vega_lite_chart")) == 2 and not at.get("bidi_component")
    assert not [c for c in at.caption if c.value.startswith("Drawing")]
