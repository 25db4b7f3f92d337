"""Where to draw each node: one row per level (business at the top), parents above children.

Within a row, nodes are ordered by the mean position of their parents in the rows above (the
barycenter heuristic of layered graph drawing), so edges cross less. A node whose parent sits in
the same row is placed right beside that parent, so their edge is short and crosses no box.
Positions are in abstract units: row index y (0 = top) and x centred on 0.
"""

from __future__ import annotations

from dashboard.tree.model import MetricTree


def layout(tree: MetricTree) -> dict[str, tuple[float, float]]:
    rows: dict[int, list[str]] = {}
    for node in tree.nodes:
        rows.setdefault(tree.level_rank(node.level), []).append(node.id)
    x: dict[str, float] = {}
    for rank in sorted(rows):
        ids = rows[rank]
        in_row = set(ids)
        order = {node_id: i for i, node_id in enumerate(ids)}

        def key(node_id: str) -> tuple[float, int]:
            placed = [x[p] for p in tree.node(node_id).parents if p in x]
            return (sum(placed) / len(placed) if placed else float("inf"), order[node_id])

        beside = {i: next(p for p in tree.node(i).parents if p in in_row) for i in ids
                  if not any(p in x for p in tree.node(i).parents)
                  and any(p in in_row for p in tree.node(i).parents)}
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
            if not progressed:  # a same-row cycle (the loader refuses those): append as is
                row += list(pending)
                break
        for i, node_id in enumerate(row):
            x[node_id] = i - (len(row) - 1) / 2
    return {n.id: (x[n.id], float(tree.level_rank(n.level))) for n in tree.nodes}
