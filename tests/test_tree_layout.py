"""Tree layout: levels become rows, parents sit above children, same-row children beside parents."""

from pathlib import Path

from dashboard.tree import load_tree, parse_tree
from dashboard.tree.layout import layout

REPO = Path(__file__).resolve().parents[1]


def test_demo_tree_layout():
    tree = load_tree(REPO / "data" / "metric_tree.yaml").tree
    pos = layout(tree)
    assert set(pos) == set(tree.ids)
    for node in tree.nodes:
        assert pos[node.id][1] == tree.level_rank(node.level)
    # latency's parent (task success) is in the same row: they are neighbours
    assert abs(pos["latency_ms"][0] - pos["task_success"][0]) == 1
    # each row is centred and evenly spaced
    for y in {p[1] for p in pos.values()}:
        xs = sorted(p[0] for p in pos.values() if p[1] == y)
        assert abs(sum(xs)) < 1e-9 and all(b - a == 1 for a, b in zip(xs, xs[1:]))


def test_children_follow_their_parents_order():
    tree = parse_tree("""\
nodes:
  - {id: left, level: business, direction: higher, data: {daily: a}}
  - {id: right, level: business, direction: higher, data: {daily: b}}
  - {id: under_right, level: engagement, direction: higher, data: {daily: c}, parents: [right]}
  - {id: under_left, level: engagement, direction: higher, data: {daily: d}, parents: [left]}
""").tree
    pos = layout(tree)
    assert pos["under_left"][0] < pos["under_right"][0]
