"""Chart builders for the Metric tree and Launch review pages (no Streamlit).

The tree and a node's histories are Vega-Lite specs (plain dicts, data inline: a few hundred rows
at most): a page without a Plotly chart never loads Plotly's 4.7 MB script, which held back the
tree page's first numbers in a new tab, and building the Plotly tree (a shape and an annotation per
node) took ~0.15-0.4 s of the server's script run. The lift chart is in charts_launch.py.

Colours say how a node moved in its own direction: green better, red worse, grey inconclusive,
white (dashed) no data. Nodes that forced a roll back get a thick dark-red border, and the edges
between two worsening nodes are drawn red, so the tree is lit where it broke.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Iterable

from dashboard.tree.layout import BOX_HALF_HEIGHT, BOX_HALF_WIDTH

from dashboard import format as fmt

STATUS_COLOURS = {
    "better": ("#e6f4ea", "#2e7d32"),  # (fill, border)
    "worse": ("#fdecea", "#c62828"),
    "inconclusive": ("#f1f3f4", "#80868b"),
    "n/a": ("#f1f3f4", "#80868b"),
    "no data": ("#ffffff", "#bdc1c6"),
    "undeclared": ("#e8f0fe", "#1a73e8"),
}
STATUS_WORDS = {"better": "improving", "worse": "worsening", "inconclusive": "inconclusive",
                "n/a": "no test", "no data": "no data", "undeclared": "moved, direction not declared"}
BROKEN_BORDER = "#7f0000"
SELECTED_BORDER = "#1a73e8"


def undeclared(r: dict) -> bool:
    """A significant move of a metric outside the tree: its direction is a guess (higher), so it is
    neither green nor red (a rising latency is not an improvement)."""
    return r.get("in_tree") is False and r["status"] in ("better", "worse")


def fmt_value(value: float | None, unit: str = "") -> str:
    """A metric value in its tree unit (dashboard/format.py)."""
    return fmt.value(value, unit)


def fmt_change(node: dict) -> str:
    """'+1.2% [-0.30%, +2.7%]' (relative when defined, else absolute in the node's unit)."""
    rel, change = node.get("relative_change"), node.get("change")
    lo, hi = node.get("ci_low"), node.get("ci_high")
    if rel is not None:
        text = fmt.change(rel)
    elif change is not None:
        text = fmt.delta(change, node.get("unit", ""))
    else:
        return "no change measured"
    if lo is not None and hi is not None:
        if node.get("ci_scale") == "relative":
            text += " " + fmt.interval(lo, hi, fmt.change)
        else:
            text += " " + fmt.interval(lo, hi, lambda v: fmt.delta(v, node.get("unit", "")))
    return text


def _wrap(text: str, width: int = 18) -> list[str]:
    lines, cur = [], ""
    for word in text.split():
        if cur and len(cur) + 1 + len(word) > width:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}".strip()
    return lines + ([cur] if cur else [])


def _box_lines(node: dict) -> list[tuple[str, bool]]:
    """The text of a node's box, line by line: (text, bold). Plain text: Vega draws it as text, never markup."""
    lines = [(line, True) for line in _wrap(node["name"], 17)]
    if node.get("status") == "no data":
        lines.append(("no data", False))
        return lines + [(x, False) for x in _wrap(node.get("needs") or "", 22)]
    # a composite has a lift, no value of its own
    lines.append(("composite" if node.get("source") == "composite"
                  else fmt_value(node.get("value"), node.get("unit", "")), False))
    head, _, ci = fmt_change(node).partition(" [")
    lines.append((head, False))
    if ci:
        lines.append((f"[{ci}", False))
    tag = STATUS_WORDS.get(node.get("status", ""), node.get("status", ""))
    if node.get("broken"):
        tag = "BROKE: " + tag
    if node.get("guardrail"):
        tag += " · guardrail"
    return lines + [(x, False) for x in _wrap(tag, 18)]


def _route(n: dict, parent: dict) -> list[tuple[float, float]]:
    """The layout's polyline (parent's box bottom to child's box top); straight when absent."""
    pts = n.get("routes", {}).get(parent["id"])
    return [tuple(p) for p in pts] if pts else [(parent["x"], parent["y"]), (n["x"], n["y"])]


TREE_SELECTION = "node"  # the point selection's name: st.vega_lite_chart(..., selection_mode=TREE_SELECTION)
LINE_PX = 13  # a text line in a box, in pixels
HISTORY_HEIGHT = 280  # a node's history charts, plot area in pixels (their axes add about 40)
EDGE, LIT_EDGE = ("#9aa0a6", 1.5), (STATUS_COLOURS["worse"][1], 4.0)


def _box(n: dict, selected: str | None) -> dict:
    fill, border = STATUS_COLOURS.get(n["status"], STATUS_COLOURS["n/a"])
    width = 2.0
    if n.get("broken"):
        border, width = BROKEN_BORDER, 4.0
    if n["id"] == selected:  # blue: selection, not a status colour
        border, width = SELECTED_BORDER, max(width, 3.0)
    return {"id": n["id"], "name": n["name"], "x": n["x"] - BOX_HALF_WIDTH, "x2": n["x"] + BOX_HALF_WIDTH,
            "y": n["y"] - BOX_HALF_HEIGHT, "y2": n["y"] + BOX_HALF_HEIGHT, "status": n["status"],
            "fill": fill, "stroke": border, "stroke_width": width, "dashed": n["status"] == "no data",
            "selected": n["id"] == selected, **_tip(n),
            "label": f"{n['level']} level: " + ", ".join(t for t, _ in _box_lines(n))}  # what a screen reader reads


def _tip(n: dict) -> dict:
    """What the pointer shows over a box (plain text: Vega's tooltip escapes it)."""
    extra = [f"guardrail: {n['guardrail']}"] if n.get("guardrail") else []
    return {"about": f"{n['level']}, {n['direction']} is better",
            "evidence": fmt.p_is(n["p_value"]) if n.get("p_value") is not None else "no test",
            "note": " · ".join(extra + ([n["note"]] if n.get("note") else [])) or "none"}


def tree_figure(nodes: list[dict], levels: list[str], selected: str | None = None,
                height_per_level: int = 150, selectable: bool = False) -> dict:
    """A Vega-Lite spec of the tree. nodes: dicts with id, name, x, y (row), routes, parents, status,
    value, unit, change, CI, broken, needs. Boxes are drawn at the layout's size
    (dashboard/tree/layout.py), so the links it routes around them stay clear of them on screen too.
    selectable: a click on a box (or its text) selects it: the point selection TREE_SELECTION on the
    field `id`, for st.vega_lite_chart(..., on_select=..., selection_mode=TREE_SELECTION)."""
    by_id = {n["id"]: n for n in nodes}
    rows: dict[str, list[float]] = {}
    for n in nodes:
        rows.setdefault(n["level"], []).append(n["y"])
    xs = [n["x"] for n in nodes] or [0]
    left, right = min(xs) - BOX_HALF_WIDTH - 0.75, max(xs) + BOX_HALF_WIDTH + 0.1
    n_rows = int(max((n["y"] for n in nodes), default=len(levels) - 1)) + 1
    height = max(300, height_per_level * n_rows)
    bands = []
    for i, level in enumerate(lv for lv in levels if lv in rows):  # level bands, labelled at the left
        lo, hi = min(rows[level]), max(rows[level])
        bands.append({"level": level, "x": left, "x2": right, "y": lo - 0.5, "y2": hi + 0.5,
                      "label_x": left + 0.05, "label_y": (lo + hi) / 2, "shaded": i % 2 == 0})
    edges = []
    for n in nodes:
        for p in n["parents"]:
            if p not in by_id:
                continue
            lit = n["status"] == "worse" and by_id[p]["status"] == "worse"
            colour, width = LIT_EDGE if lit else EDGE
            edges += [{"edge": f"{p}>{n['id']}", "i": i, "x": x, "y": y, "colour": colour, "width": width,
                       "lit": lit} for i, (x, y) in enumerate(_route(n, by_id[p]))]
    line_rows = LINE_PX * n_rows / height  # a text line in row units (the y scale spans n_rows rows)
    lines = []
    for n in nodes:
        text = _box_lines(n)
        for i, (t, bold) in enumerate(text):
            lines.append({"id": n["id"], "x": n["x"], "y": n["y"] + (i - (len(text) - 1) / 2) * line_rows,
                          "text": t, "bold": bold, "name": n["name"], **_tip(n)})
    x = {"field": "x", "type": "quantitative", "axis": None,
         "scale": {"domain": [left, right], "nice": False, "zero": False}}
    y = {"field": "y", "type": "quantitative", "axis": None,
         "scale": {"domain": [-0.5, n_rows - 0.5], "nice": False, "zero": False, "reverse": True}}
    tip = [{"field": "name", "title": "node"}, {"field": "about", "title": "level"},
           {"field": "evidence"}, {"field": "note"}]
    # a text line's width in pixels: the box's, whatever the chart's width (`width` is Vega's signal)
    cursor = "pointer" if selectable else "default"
    limit = {"expr": f"width * {2 * BOX_HALF_WIDTH / (right - left):.6f} - 4"}
    return {
        "description": "Metric tree: each node's value and movement, coloured by status"
                       + ("; click a node to select it" if selectable else ""),
        "height": height, "autosize": {"type": "fit-x", "contains": "padding"},
        "datasets": {"bands": bands, "edges": edges, "boxes": [_box(n, selected) for n in nodes], "lines": lines},
        "config": {"view": {"stroke": None}},
        "layer": [
            {"data": {"name": "bands"}, "transform": [{"filter": "datum.shaded"}],
             "mark": {"type": "rect", "color": "#f8f9fa", "aria": False},
             "encoding": {"x": x, "x2": {"field": "x2"}, "y": y, "y2": {"field": "y2"}}},
            {"data": {"name": "bands"}, "mark": {"type": "text", "align": "left", "fontWeight": "bold",
                                                   "fontSize": 12, "color": "#5f6368", "aria": False},
             "encoding": {"x": {**x, "field": "label_x"}, "y": {**y, "field": "label_y"},
                          "text": {"field": "level"}}},
            {"data": {"name": "edges"}, "mark": {"type": "line", "interpolate": "linear", "aria": False},
             "encoding": {"x": x, "y": y, "detail": {"field": "edge"}, "order": {"field": "i"},
                          "color": {"field": "colour", "type": "nominal", "scale": None},
                          "strokeWidth": {"field": "width", "type": "quantitative", "scale": None}}},
            {"data": {"name": "boxes"}, **({"params": [{"name": TREE_SELECTION, "select": {
                "type": "point", "fields": ["id"], "toggle": False}}]} if selectable else {}),
             "mark": {"type": "rect", "cursor": cursor, "strokeDash": {"expr": "datum.dashed ? [5, 3] : [1, 0]"}},
             "encoding": {"x": x, "x2": {"field": "x2"}, "y": y, "y2": {"field": "y2"},
                          "fill": {"field": "fill", "type": "nominal", "scale": None},
                          "stroke": {"field": "stroke", "type": "nominal", "scale": None},
                          "strokeWidth": {"field": "stroke_width", "type": "quantitative", "scale": None},
                          "description": {"field": "label"}, "tooltip": tip}},
            *({"data": {"name": "lines"}, "transform": [{"filter": f"{'' if bold else '!'}datum.bold"}],
               "mark": {"type": "text", "baseline": "middle", "fontSize": 11 if bold else 10, "cursor": cursor,
                        "fontWeight": "bold" if bold else "normal", "color": "#202124", "limit": limit,
                        "aria": False},  # the box under it reads its text out
               "encoding": {"x": x, "y": y, "text": {"field": "text"}, "tooltip": tip}}
              for bold in (True, False)),
        ],
    }


def history_figure(series: Iterable[tuple[str, float]], name: str, unit: str = "",
                   window: dict | None = None) -> dict:
    """A node's daily series (Vega-Lite). With a window: the previous period shaded grey, the current
    blue, and the chart opens on the last half year (drag it sideways for earlier days)."""
    values = [{"date": d, "value": v} for d, v in series]
    x = {"field": "date", "type": "temporal", "title": None, "scale": {"type": "utc"}}
    shown = dict(x, scale=dict(x["scale"]))  # the line's x: its domain (set once: the layers share it)
    shades = []
    if window:  # grey: previous period, blue: current period; open on the last half year
        shades = [{"start": window["prev_start"], "end": window["prev_end"], "period": "previous", "colour": "#80868b"},
                  {"start": window["cur_start"], "end": window["end"], "period": "current", "colour": "#1a73e8"}]
        start = (date.fromisoformat(window["end"]) - timedelta(days=182)).isoformat()
        if values and values[0]["date"] < start:
            shown["scale"]["domain"] = [start, window["end"]]
    fmt_y = ".1%" if unit.startswith("share") else None
    y = {"field": "value", "type": "quantitative", "scale": {"zero": False},
         "axis": {"title": unit or None, **({"format": fmt_y} if fmt_y else {})}}
    tip = [{"field": "date", "type": "temporal", "format": "%Y-%m-%d", "scale": {"type": "utc"}},
           {"field": "value", "title": name, **({"format": fmt_y} if fmt_y else {"format": ",.4~g"})}]
    return {
        "description": f"Daily history of {name}", "height": HISTORY_HEIGHT,
        "datasets": {"series": values, "shades": shades},
        "layer": [
            {"data": {"name": "shades"},
             "mark": {"type": "rect", "opacity": 0.18, "clip": True},
             "encoding": {"x": {**x, "field": "start"}, "x2": {"field": "end"},
                          "color": {"field": "colour", "type": "nominal", "scale": None}}},
            {"data": {"name": "series"}, "mark": {"type": "line", "color": "#1a73e8", "strokeWidth": 2, "clip": True},
             "params": [{"name": "pan", "select": {"type": "interval", "encodings": ["x"], "zoom": False},
                         "bind": "scales"}],
             "encoding": {"x": shown, "y": y}},
            {"data": {"name": "series"}, "mark": {"type": "point", "filled": True, "color": "#1a73e8", "clip": True},
             "params": [{"name": "hover", "select": {"type": "point", "encodings": ["x"], "nearest": True,
                                                     "on": "pointerover", "clear": "pointerout"}}],
             "encoding": {"x": x, "y": y, "tooltip": tip,
                          "opacity": {"condition": {"param": "hover", "empty": False, "value": 1}, "value": 0}}},
        ],
    }


def offline_history_figure(rows: list[dict], name: str) -> dict:
    """An offline metric across experiments: control and treatment value of each (Vega-Lite)."""
    values = [{"experiment": r["experiment_id"], "model": side, "value": r[f"{side}_value"]}
              for r in rows for side in ("control", "treatment")]
    return {
        "description": f"{name} of the control and treatment model in each experiment", "height": HISTORY_HEIGHT,
        "data": {"values": values},
        "mark": {"type": "point", "filled": True, "size": 80, "opacity": 1},
        "encoding": {
            "x": {"field": "experiment", "type": "nominal", "sort": None, "title": None},  # oldest first
            "y": {"field": "value", "type": "quantitative", "scale": {"zero": False}, "title": name},
            "color": {"field": "model", "type": "nominal", "legend": {"orient": "top", "title": None},
                      "scale": {"domain": ["control", "treatment"], "range": ["#80868b", "#1a73e8"]}},
            "tooltip": [{"field": "experiment"}, {"field": "model"}, {"field": "value", "format": ",.4~g"}],
        },
    }
