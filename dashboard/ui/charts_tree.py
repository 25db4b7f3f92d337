"""Chart builders for the Metric tree and Launch review pages (plotly figures, no Streamlit).

Colours say how a node moved in its own direction: green better, red worse, grey inconclusive,
white (dashed) no data. Nodes that forced a roll back get a thick dark-red border, and the edges
between two worsening nodes are drawn red, so the tree is lit where it broke.
"""

from __future__ import annotations

import html
from datetime import date, timedelta
from typing import Any, Iterable

import plotly.graph_objects as go

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


def _box_text(node: dict) -> str:
    esc = html.escape
    lines = [f"<b style='font-size:11px'>{esc(line)}</b>" for line in _wrap(node["name"], 17)]
    if node.get("status") == "no data":
        lines.append("<i>no data</i>")
        if node.get("needs"):
            lines += [esc(x) for x in _wrap(node["needs"], 22)]
    else:
        # a composite has a lift, no value of its own
        lines.append("<i>composite</i>" if node.get("source") == "composite"
                     else esc(fmt_value(node.get("value"), node.get("unit", ""))))
        change = fmt_change(node)
        head, _, ci = change.partition(" [")
        lines.append(esc(head))
        if ci:
            lines.append(f"[{esc(ci)}")
    if node.get("status") == "no data":
        return "<br>".join(lines)
    tag = STATUS_WORDS.get(node.get("status", ""), node.get("status", ""))
    if node.get("broken"):
        tag = "BROKE: " + tag
    if node.get("guardrail"):
        tag += " · guardrail"
    lines += [esc(x) for x in _wrap(tag, 18)]
    return "<br>".join(lines)


def _route(n: dict, parent: dict) -> list[tuple[float, float]]:
    """The layout's polyline (parent's box bottom to child's box top); straight when absent."""
    pts = n.get("routes", {}).get(parent["id"])
    return [tuple(p) for p in pts] if pts else [(parent["x"], parent["y"]), (n["x"], n["y"])]


def tree_figure(nodes: list[dict], levels: list[str], selected: str | None = None,
                height_per_level: int = 150) -> go.Figure:
    """nodes: dicts with id, name, x, y (row), routes, parents, status, value, unit, change, CI,
    broken, needs. Boxes are drawn at the layout's size (dashboard/tree/layout.py), so the links
    it routes around them stay clear of them on screen too."""
    fig = go.Figure()
    by_id = {n["id"]: n for n in nodes}
    rows = {}
    for n in nodes:
        rows.setdefault(n["level"], []).append(n["y"])
    xs = [n["x"] for n in nodes] or [0]
    left = min(xs) - BOX_HALF_WIDTH - 0.75
    for i, level in enumerate(lv for lv in levels if lv in rows):  # level bands, labelled at the left
        lo, hi = min(rows[level]), max(rows[level])
        if i % 2 == 0:
            fig.add_shape(type="rect", x0=left, x1=max(xs) + BOX_HALF_WIDTH + 0.1, y0=lo - 0.5, y1=hi + 0.5,
                          fillcolor="#f8f9fa", line_width=0, layer="below")
        fig.add_annotation(x=left + 0.05, y=(lo + hi) / 2, text=f"<b>{html.escape(level)}</b>", showarrow=False,
                           xanchor="left", font={"size": 12, "color": "#5f6368"})
    normal: list[Any] = [[], []]
    lit: list[Any] = [[], []]
    for n in nodes:
        for p in n["parents"]:
            if p not in by_id:
                continue
            target = lit if (n["status"] == "worse" and by_id[p]["status"] == "worse") else normal
            pts = _route(n, by_id[p])
            target[0] += [x for x, _ in pts] + [None]
            target[1] += [y for _, y in pts] + [None]
    fig.add_trace(go.Scatter(x=normal[0], y=normal[1], mode="lines", hoverinfo="skip",
                             line={"color": "#9aa0a6", "width": 1.5}, showlegend=False))
    if lit[0]:
        fig.add_trace(go.Scatter(x=lit[0], y=lit[1], mode="lines", hoverinfo="skip", name="broken path",
                                 line={"color": STATUS_COLOURS["worse"][1], "width": 4}, showlegend=False))
    fig.add_trace(go.Scatter(
        x=[n["x"] for n in nodes], y=[n["y"] for n in nodes], mode="markers",
        marker={"symbol": "square", "size": 64, "color": "rgba(0,0,0,0.01)"},
        customdata=[n["id"] for n in nodes],
        hovertext=[_hover(n) for n in nodes], hoverinfo="text", showlegend=False, name="nodes",
    ))
    for n in nodes:
        fill, border = STATUS_COLOURS.get(n["status"], STATUS_COLOURS["n/a"])
        width, dash = 2, "dash" if n["status"] == "no data" else "solid"
        if n.get("broken"):
            border, width = BROKEN_BORDER, 4
        if n["id"] == selected:  # blue: selection, not a status colour
            border, width = SELECTED_BORDER, max(width, 3)
        fig.add_shape(type="rect", x0=n["x"] - BOX_HALF_WIDTH, x1=n["x"] + BOX_HALF_WIDTH,
                      y0=n["y"] - BOX_HALF_HEIGHT, y1=n["y"] + BOX_HALF_HEIGHT, fillcolor=fill,
                      line={"color": border, "width": width, "dash": dash}, layer="above")
        fig.add_annotation(x=n["x"], y=n["y"], text=_box_text(n), showarrow=False, align="center",
                           font={"size": 10, "color": "#202124"})
    n_rows = int(max((n["y"] for n in nodes), default=len(levels) - 1)) + 1
    fig.update_xaxes(visible=False, range=[left, max(xs) + BOX_HALF_WIDTH + 0.1], fixedrange=True)
    fig.update_yaxes(visible=False, range=[n_rows - 0.5, -0.5], fixedrange=True)
    fig.update_layout(height=max(300, int(height_per_level * 1.0) * n_rows + 20),
                      margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      plot_bgcolor="white", paper_bgcolor="white", dragmode=False, clickmode="event+select")
    return fig


def _hover(n: dict) -> str:
    esc = html.escape
    # names and notes come from the tree file and the data: escaped, as in the boxes
    parts = [f"<b>{esc(n['name'])}</b> ({esc(n['level'])}, {esc(n['direction'])} is better)"]
    if n.get("p_value") is not None:
        parts.append(esc(fmt.p_is(n["p_value"])))
    if n.get("guardrail"):
        parts.append(f"guardrail: {esc(n['guardrail'])}")
    if n.get("note"):
        parts.append(esc(n["note"]))
    return "<br>".join(parts)


def lift_figure(rows: list[dict], alpha: float = 0.05) -> go.Figure:
    """Forest plot: relative lift of each metric with its interval, coloured by status; guardrail
    bounds as dashed marks on the worse side."""
    rows = [r for r in rows if r.get("relative_lift") is not None]
    fig = go.Figure()
    labels = [f"{r['name']} ({r['level']})" for r in rows][::-1]
    rows = rows[::-1]
    shown = ["undeclared" if undeclared(r) else r["status"] for r in rows]
    for status in ("better", "worse", "inconclusive", "n/a", "undeclared"):
        sel = [i for i, r in enumerate(rows) if shown[i] == status]
        if not sel:
            continue
        fig.add_trace(go.Scatter(
            x=[rows[i]["relative_lift"] for i in sel], y=[labels[i] for i in sel], mode="markers",
            name=STATUS_WORDS[status], marker={"size": 11, "color": STATUS_COLOURS[status][1]},
            error_x={"type": "data", "symmetric": False,
                     "array": [_or0(rows[i]["relative_ci_high"], rows[i]["relative_lift"]) for i in sel],
                     "arrayminus": [_or0(rows[i]["relative_lift"], rows[i]["relative_ci_low"]) for i in sel],
                     "thickness": 2},
            hovertemplate="%{y}: %{x:+.2%}<extra></extra>",
        ))
    for i, r in enumerate(rows):
        bound = _relative_bound(r)
        if bound is not None:
            fig.add_trace(go.Scatter(x=[bound], y=[labels[i]], mode="markers", showlegend=False,
                                     marker={"symbol": "line-ns", "size": 18, "line": {"width": 3, "color": "#7f0000"}},
                                     hovertemplate=f"guardrail limit {bound:+.0%}<extra></extra>"))
    fig.add_vline(x=0, line={"color": "#5f6368", "width": 1})
    fig.update_xaxes(tickformat="+.0%", title=f"relative lift, treatment vs control ({1 - alpha:.0%} CI)")
    fig.update_layout(height=80 + 38 * max(len(rows), 1), margin={"l": 10, "r": 10, "t": 10, "b": 40},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"}, plot_bgcolor="white")
    fig.update_yaxes(gridcolor="#f1f3f4")
    return fig


def _or0(a: float | None, b: float | None) -> float:
    return 0.0 if a is None or b is None else a - b


def _relative_bound(r: dict) -> float | None:
    """The guardrail's relative limit on the lift axis (positive for lower-is-better metrics)."""
    b = r.get("max_relative_change")
    if b is None:
        return None
    return b if r["direction"] == "lower" else -b


def history_figure(series: Iterable[tuple[str, float]], name: str, unit: str = "",
                   window: dict | None = None) -> go.Figure:
    dates, values = zip(*series) if series else ((), ())
    fig = go.Figure(go.Scatter(x=list(dates), y=list(values), mode="lines", name=name,
                               line={"color": "#1a73e8", "width": 2}))
    if window:  # grey: previous period, blue: current period; open on the last half year
        fig.add_vrect(x0=window["prev_start"], x1=window["prev_end"], fillcolor="#80868b", opacity=0.18,
                      line_width=0)
        fig.add_vrect(x0=window["cur_start"], x1=window["end"], fillcolor="#1a73e8", opacity=0.18,
                      line_width=0)
        start = (date.fromisoformat(window["end"]) - timedelta(days=182)).isoformat()
        if dates and dates[0] < start:
            fig.update_xaxes(range=[start, window["end"]])
    fig.update_layout(height=280, margin={"l": 10, "r": 10, "t": 20, "b": 30}, plot_bgcolor="white",
                      yaxis_title=unit or None, showlegend=False)
    if unit.startswith("share"):
        fig.update_yaxes(tickformat=".1%")
    return fig


def offline_history_figure(rows: list[dict], name: str) -> go.Figure:
    """An offline metric across experiments: control and treatment value of each."""
    labels = [r["experiment_id"] for r in rows]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=labels, y=[r["control_value"] for r in rows], mode="markers",
                             name="control", marker={"color": "#80868b", "size": 9}))
    fig.add_trace(go.Scatter(x=labels, y=[r["treatment_value"] for r in rows], mode="markers",
                             name="treatment", marker={"color": "#1a73e8", "size": 9}))
    fig.update_layout(height=280, margin={"l": 10, "r": 10, "t": 20, "b": 30}, plot_bgcolor="white",
                      yaxis_title=name, legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"})
    return fig
