"""Where to draw each node and each link: a layered drawing in which no link passes through a
box and none runs along a row.

Layered (Sugiyama) drawing, with the declared levels kept:
1. Rows. Each level (business at the top) gets as many rows as its longest chain of same-level
   parent -> child links: a node whose parent is in its own level sits one row below that
   parent, so every link goes down at least one row.
2. Long links. A link spanning several rows gets a waypoint in each row between its ends, so
   rows hold boxes and waypoints, and every segment joins two neighbouring rows.
3. Order. Rows are sorted by alternating barycenter sweeps (down: by the mean position of the
   neighbours above, up: of those below); the ordering with the fewest crossings between
   neighbouring rows is kept.
4. Positions. Each row keeps its order with a minimum gap (box to box, box to waypoint,
   waypoint to waypoint) and otherwise moves towards its neighbours (least squares under the
   ordering constraints: isotonic regression by pool-adjacent-violators), alternating down and
   up, so links run as straight as the gaps allow.

Routing: a link leaves the bottom of the upper box, passes each waypoint's row vertically, and
enters the top of the lower box. Between two rows no box exists (boxes are BOX_HALF_HEIGHT high
on each side of their row, less than half a row), and in a waypoint's row the waypoint is at
least BOX_HALF_WIDTH + GAP from any box centre, so no link crosses a box and no segment is
horizontal: tests/test_tree_layout.py checks both geometrically.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.tree.model import MetricTree

BOX_HALF_WIDTH = 0.43  # x units; box centres in a row are at least 1 apart
BOX_HALF_HEIGHT = 0.33  # row units; rows are 1 apart
NODE_GAP = 1.0 - 2 * BOX_HALF_WIDTH  # between two boxes
WAYPOINT_GAP = 0.16  # between two waypoints, and a waypoint and a box's side
SWEEPS = 12

Point = tuple[float, float]


@dataclass(frozen=True)
class Drawing:
    pos: dict[str, Point]  # node id -> (x, row); row 0 at the top
    routes: dict[tuple[str, str], list[Point]]  # (child, parent) -> polyline from parent's box to child's
    level_rows: dict[str, tuple[int, int]]  # level -> (first row, last row)
    crossings: int  # link crossings in the chosen drawing


def layout(tree: MetricTree) -> dict[str, Point]:
    """Node centres only (x, row)."""
    return draw(tree).pos


def draw(tree: MetricTree) -> Drawing:
    row, level_rows = _rows(tree)
    items, links = _waypoints(tree, row)
    order = _order(items, links)
    x = _positions(order, links)
    routes = {}
    for (child, parent), chain in links.items():
        pts: list[Point] = [(x[chain[0]], row[parent] + BOX_HALF_HEIGHT)]
        for wp in chain[1:-1]:
            r = items[wp]
            pts += [(x[wp], r - BOX_HALF_HEIGHT), (x[wp], r + BOX_HALF_HEIGHT)]
        pts.append((x[chain[-1]], row[child] - BOX_HALF_HEIGHT))
        routes[(child, parent)] = pts
    crossings = _crossings(order, _segments(links))
    return Drawing({n.id: (x[n.id], float(row[n.id])) for n in tree.nodes}, routes, level_rows, crossings)


# ------------------------------------------------------------------------------------ rows


def _rows(tree: MetricTree) -> tuple[dict[str, int], dict[str, tuple[int, int]]]:
    depth: dict[str, int] = {}

    def sub(node_id: str, seen: tuple[str, ...] = ()) -> int:  # same-level parents above it
        if node_id not in depth:
            node = tree.node(node_id)
            same = [p for p in node.parents if p in tree and tree.node(p).level == node.level and p not in seen]
            depth[node_id] = 1 + max((sub(p, seen + (node_id,)) for p in same), default=-1)
        return depth[node_id]

    row, level_rows, start = {}, {}, 0
    for level in tree.levels:
        ids = [n.id for n in tree.nodes if n.level == level]
        height = 1 + max((sub(i) for i in ids), default=0)
        for i in ids:
            row[i] = start + sub(i)
        level_rows[level] = (start, start + height - 1)
        start += height
    return row, level_rows


def _waypoints(tree: MetricTree, row: dict[str, int]) -> tuple[dict[str, int], dict[tuple[str, str], list[str]]]:
    """items: id -> row (nodes and waypoints); links: (child, parent) -> item chain from the
    upper end to the lower one."""
    items = dict(row)
    links = {}
    for n in tree.nodes:
        for p in n.parents:
            if p not in row:
                continue
            upper, lower = (p, n.id) if row[p] < row[n.id] else (n.id, p)
            chain = [upper]
            for r in range(row[upper] + 1, row[lower]):
                wp = f"\0{n.id}\0{p}\0{r}"
                items[wp] = r
                chain.append(wp)
            links[(n.id, p)] = chain + [lower]
    return items, links


def is_waypoint(item: str) -> bool:
    return item.startswith("\0")


# ------------------------------------------------------------------------------------ order


def _segments(links: dict) -> list[tuple[str, str]]:
    return [(a, b) for chain in links.values() for a, b in zip(chain, chain[1:])]


def _order(items: dict[str, int], links: dict) -> dict[int, list[str]]:
    segs = _segments(links)
    up: dict[str, list[str]] = {i: [] for i in items}
    down: dict[str, list[str]] = {i: [] for i in items}
    for a, b in segs:
        down[a].append(b)
        up[b].append(a)
    order: dict[int, list[str]] = {}
    for i, r in items.items():  # file order, waypoints after boxes
        order.setdefault(r, []).append(i)
    best = {r: list(ids) for r, ids in order.items()}
    best_score = _crossings(best, segs)
    rows = sorted(order)
    for sweep in range(SWEEPS):
        going_down = sweep % 2 == 0
        for r in (rows[1:] if going_down else rows[-2::-1]):
            index = {i: k for k, i in enumerate(order.get(r - 1 if going_down else r + 1, []))}
            nbr = up if going_down else down

            def key(i: str, cur={i: k for k, i in enumerate(order[r])}) -> tuple[float, int]:
                near = [index[j] for j in nbr[i] if j in index]
                return (sum(near) / len(near) if near else cur[i], cur[i])

            order[r] = sorted(order[r], key=key)
        score = _crossings(order, segs)
        if score < best_score:
            best, best_score = {r: list(ids) for r, ids in order.items()}, score
    return best


def _crossings(order: dict[int, list[str]], segs: list[tuple[str, str]]) -> int:
    """Crossings between neighbouring rows: two segments cross when their ends are in opposite order."""
    at = {i: k for ids in order.values() for k, i in enumerate(ids)}
    row = {i: r for r, ids in order.items() for i in ids}
    by_row: dict[int, list[tuple[int, int]]] = {}
    for a, b in segs:
        by_row.setdefault(row[a], []).append((at[a], at[b]))
    total = 0
    for pairs in by_row.values():
        for k, (a1, b1) in enumerate(pairs):
            for a2, b2 in pairs[k + 1:]:
                total += (a1 - a2) * (b1 - b2) < 0
    return total


# ------------------------------------------------------------------------------------ positions


def _gap(a: str, b: str) -> float:
    """Least distance between the centres of two neighbours in a row."""
    wa, wb = is_waypoint(a), is_waypoint(b)
    if not wa and not wb:
        return 1.0
    if wa and wb:
        return WAYPOINT_GAP
    return BOX_HALF_WIDTH + WAYPOINT_GAP


def _packed(ids: list[str]) -> list[float]:
    xs = [0.0]
    for a, b in zip(ids, ids[1:]):
        xs.append(xs[-1] + _gap(a, b))
    mid = (xs[0] + xs[-1]) / 2
    return [v - mid for v in xs]


def _positions(order: dict[int, list[str]], links: dict) -> dict[str, float]:
    segs = _segments(links)
    nbrs: dict[str, list[str]] = {i: [] for ids in order.values() for i in ids}
    for a, b in segs:
        nbrs[a].append(b)
        nbrs[b].append(a)
    x = {i: v for ids in order.values() for i, v in zip(ids, _packed(ids))}
    rows = sorted(order)
    for sweep in range(2 * SWEEPS):
        for r in (rows if sweep % 2 == 0 else rows[::-1]):
            ids = order[r]
            want = [sum(x[j] for j in nbrs[i]) / len(nbrs[i]) if nbrs[i] else x[i] for i in ids]
            x.update(zip(ids, _fit(ids, want)))
    shift = (min(x.values()) + max(x.values())) / 2 if x else 0.0
    return {i: v - shift for i, v in x.items()}


def _fit(ids: list[str], want: list[float]) -> list[float]:
    """Closest positions (least squares) to `want` keeping the order and the least gaps:
    with offsets o_k = sum of gaps before k, y_k = x_k - o_k must be non-decreasing, which is
    isotonic regression of want_k - o_k (pool adjacent violators)."""
    offsets = [0.0]
    for a, b in zip(ids, ids[1:]):
        offsets.append(offsets[-1] + _gap(a, b))
    blocks: list[list[float]] = []  # [mean, weight]
    for w, o in zip(want, offsets):
        blocks.append([w - o, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2 = blocks.pop()
            m1, w1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2])
    ys = [m for m, w in blocks for _ in range(int(w))]
    return [y + o for y, o in zip(ys, offsets)]
