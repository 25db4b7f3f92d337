"""Tree layout: levels become rows, parents sit above children, same-row children beside parents."""

from pathlib import Path

from dashboard.tree import load_tree, parse_tree
from dashboard.tree.layout import _cross, _positions, _score, layout

REPO = Path(__file__).resolve().parents[1]


def test_demo_tree_layout():
    tree = load_tree(REPO / "data" / "metric_tree.yaml").tree
    pos = layout(tree)
    assert set(pos) == set(tree.ids)
    for node in tree.nodes:
        assert pos[node.id][1] == tree.level_rank(node.level)
    # latency's parent (task success) is in the same row: they are neighbours
    task_row = sorted((p[0], i) for i, p in pos.items() if p[1] == pos["latency_ms"][1])
    names = [i for _, i in task_row]
    assert abs(names.index("latency_ms") - names.index("task_success")) == 1
    # each row is centred and evenly spaced, at least one unit apart
    for y in {p[1] for p in pos.values()}:
        xs = sorted(p[0] for p in pos.values() if p[1] == y)
        gaps = {round(b - a, 9) for a, b in zip(xs, xs[1:])}
        assert abs(sum(xs)) < 1e-9 and len(gaps) <= 1 and all(g >= 1 for g in gaps)


def test_layout_is_no_worse_than_file_order():
    tree = load_tree(REPO / "data" / "metric_tree.yaml").tree
    rank = {n.id: tree.level_rank(n.level) for n in tree.nodes}
    edges = [(n.id, p) for n in tree.nodes for p in n.parents]
    rows = {}
    for n in tree.nodes:
        rows.setdefault(rank[n.id], []).append(n.id)
    chosen = {k: v[0] for k, v in layout(tree).items()}
    assert _score(chosen, rank, edges) <= _score(_positions(rows, 5, 0.0), rank, edges)
    # the scorer sees a crossing and a box hit
    assert _cross((0, 0, 1, 1, "a", "b"), (0, 1, 1, 0, "c", "d")) == 1
    assert _cross((0, 0, 1, 1, "a", "b"), (0, 1, 1, 0, "a", "d")) == 0
    assert _score({"a": 0, "b": 0, "c": 0}, {"a": 0, "b": 1, "c": 2}, [("c", "a")]) == 3


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
