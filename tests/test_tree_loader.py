"""Metric tree loader: typed result for a good file, every problem at once (with line and node) for a bad one."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.tree import TreeError, check_tree, load_tree, parse_tree

REPO = Path(__file__).resolve().parents[1]

GOOD = """\
nodes:
  - id: revenue
    level: business
    direction: higher
    data: {online: revenue_per_user}
    primary: true
  - id: ctr
    name: Click-through rate
    level: engagement
    direction: higher
    data: {online: ctr, daily: ctr}
    parents: [revenue]
  - id: latency
    level: task
    direction: lower
    unit: ms
    data: {online: latency_ms}
    parents: revenue
    guardrail: {max_relative_change: 1e-1}
  - id: ndcg
    level: model
    direction: higher
    data: {offline: ndcg@10}
    parents: [ctr, latency]
"""

# one of each mistake; line numbers are asserted below
BAD = """\
nodes:
  - id: revenue
    level: business
    direction: up
    data: {online: revenue_per_user}
  - id: ctr
    level: engagement
    direction: higher
    data: {online: ctr}
    parents: [revenu]
  - id: ctr
    level: engagement
    direction: higher
    data: {online: ctr2}
  - id: a
    level: task
    direction: lower
    data: {online: a}
    parents: [b]
  - id: b
    level: task
    direction: lower
    data: {online: b}
    parents: [a]
  - id: orphan
    level: model
    direction: higher
  - id: typo
    level: modle
    direction: higher
    parnets: [ctr]
    data: {offline: auc}
    guardrail: {max_relative_change: -1}
"""


def test_good_tree_is_typed():
    tree = parse_tree(GOOD).tree
    assert tree.ids == ["revenue", "ctr", "latency", "ndcg"]
    latency = tree.node("latency")
    assert latency.parents == ("revenue",) and latency.unit == "ms" and latency.sign == -1
    assert latency.guardrail.max_relative_change == pytest.approx(0.1)  # YAML 1.1 reads 1e-1 as text
    assert [n.id for n in tree.children("revenue")] == ["ctr", "latency"]
    assert [n.id for n in tree.roots()] == ["revenue"]
    assert tree.primary().id == "revenue"
    assert tree.by_data("offline", "ndcg@10").id == "ndcg"
    assert tree.by_data("daily", "ctr").id == "ctr"
    assert {n.id for n in tree.descendants("revenue")} == {"ctr", "latency", "ndcg"}
    assert tree.node("ctr").name == "Click-through rate" and tree.node("ndcg").name == "ndcg"
    assert tree.node("ctr").line == 7


def test_every_problem_is_reported_at_once_with_line_and_node():
    result = check_tree(BAD, source="t.yaml")
    assert result.tree is None
    got = {(p.line, p.node, p.message.split(":")[0].split(" '")[0]) for p in result.errors}
    expected = {
        (4, "revenue", "bad direction"),
        (10, "ctr", "unknown parent"),
        (11, "ctr", "duplicate id"),
        (15, "a", "cycle"),
        (25, "orphan", "metric with no data"),
        (29, "typo", "unknown level"),
        (31, "typo", "unknown field"),
        (33, "typo", "guardrail `max_relative_change"),
    }
    assert expected <= got, sorted(got)
    messages = "\n".join(str(p) for p in result.errors)
    assert "did you mean 'revenue'?" in messages
    assert "did you mean 'parents'?" in messages
    assert "did you mean 'model'?" in messages
    assert "cycle: a -> b -> a" in messages
    assert "t.yaml:10: node 'ctr': unknown parent 'revenu'" in messages
    assert len([p for p in result.errors if p.message.startswith("cycle")]) == 1


def test_load_tree_raises_with_all_problems(tmp_path):
    path = tmp_path / "tree.yaml"
    path.write_text(BAD)
    with pytest.raises(TreeError) as info:
        load_tree(path)
    assert len(info.value.problems) >= 8
    assert str(path) + ":4:" in str(info.value)


def test_metric_with_no_rows_in_the_data():
    available = {"online": ["revenue_per_user", "ctr"], "daily": [], "offline": ["ndcg@10"]}
    result = check_tree(GOOD, available=available)
    errors = [str(p) for p in result.errors]
    assert any("latency" in e and "online metric 'latency_ms' has no rows in experiment_results" in e
               for e in errors), errors
    assert any("daily metric 'ctr' has no rows in daily_metrics" in e for e in errors)
    assert len(errors) == 2 and result.tree is None
    # the pages still draw a tree whose only problem is missing data (those nodes show "no data")
    lenient = check_tree(GOOD, available=available, data_blocks=False)
    assert lenient.tree is not None and len(lenient.errors) == 2 and all(p.data for p in lenient.errors)
    assert check_tree(BAD, available=available, data_blocks=False).tree is None


def test_self_parent_longer_cycle_and_level_warning():
    text = """\
nodes:
  - {id: x, level: business, direction: higher, data: {daily: x}, parents: [x]}
  - {id: p, level: model, direction: higher, data: {daily: p}}
  - {id: q, level: business, direction: higher, data: {daily: q}, parents: [p]}
  - {id: c1, level: task, direction: higher, data: {daily: c1}, parents: [c3]}
  - {id: c2, level: task, direction: higher, data: {daily: c2}, parents: [c1]}
  - {id: c3, level: task, direction: higher, data: {daily: c3}, parents: [c2]}
"""
    result = check_tree(text)
    msgs = [str(p) for p in result.problems]
    assert any("'x' is its own parent" in m for m in msgs)
    assert any("cycle: c1 -> c3 -> c2 -> c1" in m for m in msgs), msgs
    warning = [p for p in result.warnings]
    assert len(warning) == 1 and warning[0].node == "q" and "above its parent" in warning[0].message


def test_file_level_problems():
    assert "not valid YAML" in str(check_tree("nodes: [\n").errors[0])
    assert "non-empty list" in str(check_tree("nodes: []").errors[0])
    assert "must be a mapping" in str(check_tree("- a\n- b\n").errors[0])
    r = check_tree("nodez: 1\nlevels: [a, a]\nnodes:\n  - 3\n")
    msgs = " | ".join(str(p) for p in r.errors)
    assert "unknown field 'nodez'" in msgs and "lists a level twice" in msgs
    assert "each node must be a mapping" in msgs


def test_custom_levels_and_two_primaries():
    text = """\
levels: [north_star, input]
nodes:
  - {id: a, level: north_star, direction: higher, data: {daily: a}, primary: true}
  - {id: b, level: input, direction: lower, data: {daily: b}, parents: [a], primary: true}
  - {id: c, level: business, direction: lower, data: {daily: c}}
"""
    msgs = [str(p) for p in check_tree(text).errors]
    assert any("more than one primary" in m and ":4:" in m for m in msgs)
    assert any("unknown level 'business'" in m and "north_star, input" in m for m in msgs)


def test_demo_tree_loads_cleanly():
    result = load_tree(REPO / "data" / "metric_tree.yaml")
    tree = result.tree
    assert result.problems == []
    assert tree.primary().id == "retention_7d"
    assert tree.node("latency_ms").guardrail.max_relative_change == pytest.approx(0.10)
    assert {n.data.offline for n in tree.nodes if n.data.offline} == {
        "ndcg@10", "mrr@10", "recall@10", "auc", "recall@precision>=0.95"}
