"""Where to draw each node: one row per level (business at the top), parents above children.

Layered drawing in the Sugiyama style: rows are ordered by alternating sweeps, each sorting a
row by the mean position of the node's neighbours in the rows already placed (parents going
down, children going up: the barycenter heuristic). Every ordering met, with rows packed or
stretched towards the widest row, is scored by edge crossings plus, weighted more, edges that
pass through another node's box (an edge spanning several levels), and the best one is kept.
A node whose parent sits in the same row is placed right beside that parent. Positions: row
index y (0 = top) and x centred on 0 (the widest row one unit apart).
"""

from __future__ import annotations

from dashboard.tree.model import MetricTree

SWEEPS = 8
BOX_HALF_WIDTH = 0.35  # in x units: an edge closer than this to a node centre crosses its box


def layout(tree: MetricTree) -> dict[str, tuple[float, float]]:
    rank = {n.id: tree.level_rank(n.level) for n in tree.nodes}
    rows: dict[int, list[str]] = {}
    for node in tree.nodes:
        rows.setdefault(rank[node.id], []).append(node.id)
    edges = [(n.id, p) for n in tree.nodes for p in n.parents if p in rank]
    width = max(len(ids) for ids in rows.values())
    best: dict[str, float] = {}
    best_score = float("inf")
    for spread in (0.0, 1.0, 0.5):  # packed rows, rows stretched to the widest, and between
        order = {r: list(ids) for r, ids in rows.items()}
        for sweep in range(SWEEPS + 1):
            x = _positions(order, width, spread)
            if sweep:
                down = sweep % 2 == 1
                for r in sorted(order, reverse=not down):
                    order[r] = _sort_row(tree, order[r], x, rank, r, down)
                    x.update(_positions({r: order[r]}, width, spread))
            score = _score(x, rank, edges)
            if score < best_score:
                best, best_score = x, score
    return {n.id: (best[n.id], float(rank[n.id])) for n in tree.nodes}


def _positions(rows: dict[int, list[str]], width: int, spread: float) -> dict[str, float]:
    """One unit apart (spread 0), or stretched towards the widest row's extent (spread 1)."""
    out = {}
    for ids in rows.values():
        n = len(ids)
        step = 1.0 + spread * ((width - n) / n if n else 0.0)
        for i, node_id in enumerate(ids):
            out[node_id] = (i - (n - 1) / 2) * step
    return out


def _sort_row(tree: MetricTree, ids: list[str], x: dict[str, float], rank: dict[str, int],
              r: int, down: bool) -> list[str]:
    def neighbours(node_id: str) -> list[str]:
        if down:
            return [p for p in tree.node(node_id).parents if rank.get(p, r) < r]
        return [c.id for c in tree.children(node_id) if rank[c.id] > r]

    def key(node_id: str) -> tuple[float, float]:
        near = [x[n] for n in neighbours(node_id)]
        return (sum(near) / len(near) if near else x[node_id], x[node_id])

    in_row = set(ids)
    beside = {i: next(p for p in tree.node(i).parents if p in in_row) for i in ids
              if any(p in in_row and p != i for p in tree.node(i).parents)}
    row = sorted((i for i in ids if i not in beside), key=key)
    pending = dict(beside)
    while pending:  # chains of same-row parents: insert once the parent is placed
        progressed = False
        for child, parent in list(pending.items()):
            if parent in row:
                at = row.index(parent) + 1
                while at < len(row) and beside.get(row[at]) == parent:
                    at += 1
                row.insert(at, child)
                del pending[child]
                progressed = True
        if not progressed:  # a same-row cycle (the loader refuses those): keep them at the end
            row += list(pending)
            break
    return row


def _score(x: dict[str, float], rank: dict[str, int], edges: list[tuple[str, str]]) -> float:
    """Edge crossings + 3 x (edge passes through a box it does not end at)."""
    segs = [(x[a], rank[a], x[b], rank[b], a, b) for a, b in edges]
    crossings = 0
    for i in range(len(segs)):
        for j in range(i + 1, len(segs)):
            crossings += _cross(segs[i], segs[j])
    hits = 0
    for x1, y1, x2, y2, a, b in segs:
        lo, hi = sorted((y1, y2))
        for node_id, r in rank.items():
            if node_id in (a, b) or not lo <= r <= hi or y1 == y2 and not min(x1, x2) < x[node_id] < max(x1, x2):
                continue
            at = x1 if y1 == y2 else x1 + (x2 - x1) * (r - y1) / (y2 - y1)
            if abs(at - x[node_id]) < BOX_HALF_WIDTH:
                hits += 1
    return crossings + 3 * hits


def _cross(s: tuple, t: tuple) -> int:
    """1 when two edges properly intersect (shared end points do not count)."""
    if {s[4], s[5]} & {t[4], t[5]}:
        return 0

    def orient(ax, ay, bx, by, cx, cy) -> float:
        return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)

    d1 = orient(t[0], t[1], t[2], t[3], s[0], s[1])
    d2 = orient(t[0], t[1], t[2], t[3], s[2], s[3])
    d3 = orient(s[0], s[1], s[2], s[3], t[0], t[1])
    d4 = orient(s[0], s[1], s[2], s[3], t[2], t[3])
    return int(d1 * d2 < 0 and d3 * d4 < 0)
