"""Composite nodes in the metric tree: the `composite:` schema (learned or declared weights) with clear
errors naming file and line, and the node's lift in an experiment (declared weights recomputed from the
raw results; learned weights the same left-out lift Launch review shows)."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.metrics import alignment as al
from dashboard.paths import DATA_DIR
from dashboard.services import proxy
from dashboard.services import tree as tree_svc
from dashboard.services.alignment_lifts import online_lifts
from dashboard.store.covariances import noise_covariance
from dashboard.tree import TreeError, check_tree, load_tree, parse_tree

BASE = (DATA_DIR / "metric_tree.yaml").read_text()
DECLARED = """
  - id: declared_proxy
    name: Retention proxy (declared)
    level: engagement
    direction: higher
    composite: {target: retention_7d, weights: {task_success: 0.6, session_length: 0.3}}
    parents: [retention_7d]
"""


def test_demo_tree_has_a_learned_composite_node():
    node = load_tree(DATA_DIR / "metric_tree.yaml").tree.node("retention_proxy")
    assert node.composite.target == "retention_7d" and node.composite.learned
    assert node.data.items() == []


def test_declared_weights_are_read_in_order():
    node = parse_tree(BASE + DECLARED).tree.node("declared_proxy")
    assert node.composite.weights == (("task_success", 0.6), ("session_length", 0.3))
    assert not node.composite.learned


def _problems(extra: str) -> list[str]:
    return [str(p) for p in check_tree(BASE + extra, source="tree.yaml").problems if p.severity == "error"]


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate((BASE + text).splitlines(), start=1) if needle in line)


@pytest.mark.parametrize("extra, needle, message", [
    ("\n  - id: p\n    level: engagement\n    direction: higher\n    composite: {target: retention_7x}\n",
     "composite: {target: retention_7x}", "composite target 'retention_7x' is not a node (did you mean 'retention_7d'?)"),
    ("\n  - id: p\n    level: engagement\n    direction: higher\n    composite: {target: dau}\n",
     "composite: {target: dau}", "composite target 'dau' has no online (experiment) metric"),
    ("\n  - id: p\n    level: engagement\n    direction: higher\n    composite:\n      target: retention_7d\n"
     "      weights: {task_success: lots}\n", "weights: {task_success: lots}",
     "composite weight for 'task_success' must be a finite number, got 'lots'"),
    ("\n  - id: p\n    level: engagement\n    direction: higher\n    composite:\n      target: retention_7d\n"
     "      weights: {retention_7d: 1, ctr: 0.2}\n", "      target: retention_7d",
     "composite weights include the target 'retention_7d'"),
    ("\n  - id: p\n    level: engagement\n    direction: higher\n    composite: [retention_7d]\n",
     "composite: [retention_7d]", "`composite:` must be a mapping"),
    ("\n  - id: p\n    level: engagement\n    direction: higher\n    composite: {target: retention_7d}\n"
     "    data: {online: ctr}\n", "data: {online: ctr}", "remove `data:`"),
    ("\n  - id: p\n    level: engagement\n    direction: higher\n    composite: {target: retention_7d, weight: {ctr: 1}}\n",
     "weight: {ctr: 1}", "unknown composite field 'weight' (did you mean 'weights'?)"),
    ("\n  - id: p\n    level: engagement\n    direction: higher\n    composite: {target: p}\n",
     "composite: {target: p}", "composite target 'p' is the composite node itself"),
])
def test_bad_composites_name_file_line_and_node(extra, needle, message):
    problems = _problems(extra)
    line = _line_of(extra, needle)
    assert any(p.startswith(f"tree.yaml:{line}: node 'p':") and message in p for p in problems), problems
    with pytest.raises(TreeError):
        parse_tree(BASE + extra)


def test_declared_composite_lift_recomputed_from_results(demo_con, tmp_path):
    path = tmp_path / "tree.yaml"
    path.write_text(BASE + DECLARED)
    view = tree_svc.tree_view(demo_con, str(path), "E041")
    node = next(n for n in view["nodes"] if n["id"] == "declared_proxy")
    ts, sl = online_lifts(demo_con, "task_success")["E041"], online_lifts(demo_con, "session_length")["E041"]
    assert node["relative_change"] == pytest.approx(0.6 * ts.lift + 0.3 * sl.lift, rel=1e-9)
    # its noise: both lifts' variances and their covariance (same users) from `covariances`
    unit = noise_covariance(demo_con, "task_success", "session_length")["E041"]
    cov = al.relative_lift_covariance(ts.control_value, ts.treatment_value, sl.control_value, sl.treatment_value,
                                      unit["control"], unit["treatment"], ts.n_control, ts.n_treatment)
    se = np.sqrt(0.36 * ts.se ** 2 + 0.09 * sl.se ** 2 + 2 * 0.18 * cov)
    assert node["ci_high"] - node["relative_change"] == pytest.approx(1.959964 * se, rel=1e-5)
    assert node["source"] == "composite" and node["status"] in ("better", "worse", "inconclusive")
    assert "declared weights: 0.6 × Task success + 0.3 × Session length" in node["note"]


def test_learned_composite_node_matches_launch_review(demo_con):
    view = tree_svc.tree_view(demo_con, None, "E045")
    node = next(n for n in view["nodes"] if n["id"] == "retention_proxy")
    said = proxy.for_experiment(proxy.view(demo_con, "online:retention_7d"), "E045")
    assert node["relative_change"] == pytest.approx(said["lift"], rel=1e-9)
    assert [node["ci_low"], node["ci_high"]] == pytest.approx(said["ci"], rel=1e-9)
    assert "weights learned on the 44 other experiments" in node["note"]
    period = tree_svc.tree_view(demo_con, None)
    idle = next(n for n in period["nodes"] if n["id"] == "retention_proxy")
    assert idle["status"] == "no data" and idle["needs"] == "composite: shown for an experiment"
    detail = tree_svc.node_detail(demo_con, None, "retention_proxy")
    assert detail["composite"].startswith("predicts 7-day retention's lift")
