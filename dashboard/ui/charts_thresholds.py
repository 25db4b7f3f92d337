"""Vega-Lite charts for the Thresholds page: the curves once per view, the operating point apart.

A slider move changes only the operating points. Each chart is a Vega-Lite spec whose curves are
the named dataset `curves` (the same bytes on every move) and whose points are the tiny dataset
`points`: Streamlit's frontend sees an unchanged spec and replaces only the dataset whose bytes
changed, so the browser moves a marker instead of rebuilding two charts of thousands of points
(a Plotly chart's element id hashes its whole figure: any change remounted it, 250-800 ms of the
browser's main thread per move on this machine). Specs are plain dicts with datasets already
serialized (Streamlit passes Arrow bytes through); `with_points` adds the moving part.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

COLOURS = ["#2563eb", "#f97316"]
MAX_POINTS = 1000  # per drawn curve (~2 a pixel of a half-width chart): not 10,001, and small on every move
HEIGHT = 380
LOG_AXIS_TOP = 10 ** 0.02  # a log FPR axis ends just past 1, as the linear one ends at 1.01
IN_DATA_ORDER = {"value": None}  # a line joins its points in data order (by threshold), not sorted by x


def thin(curve: dict[str, np.ndarray], max_points: int = MAX_POINTS) -> dict[str, np.ndarray]:
    """Every k-th point of a curve (its first and last kept), for drawing only: the numbers shown
    beside the charts come from the full counts."""
    n = len(next(iter(curve.values()), []))
    if n <= max_points:
        return curve
    keep = np.unique(np.r_[np.linspace(0, n - 1, max_points).astype(int), n - 1])
    return {k: np.asarray(v)[keep] for k, v in curve.items()}


def arrow(columns: dict) -> bytes:
    """A dataset as Arrow IPC bytes: text columns dictionary-encoded (a series' name once, not once a
    row), thresholds as float64, coordinates as float32 (a pixel needs no more)."""
    arrays = {}
    for name, values in columns.items():
        values = np.asarray(values)
        if values.dtype.kind in "OUS":
            arrays[name] = pa.array(values.astype(str).tolist(), pa.string()).dictionary_encode()
        else:
            arrays[name] = pa.array(values.astype(np.float64 if name == "threshold" else np.float32))
    table = pa.table(arrays) if arrays else pa.table({})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _stack(frames: list[dict]) -> bytes:
    """One dataset of several series: each frame holds its `series` label and equal-length columns."""
    def column(f: dict, key: str) -> np.ndarray:
        n = len(next(v for k, v in f.items() if k != "series"))
        return np.full(n, f[key], dtype=object) if key == "series" else np.asarray(f[key])
    return arrow({key: np.concatenate([column(f, key) for f in frames]) for key in frames[0]})


def label(s: dict, key: str, name: str) -> str:
    """A series' legend entry: its name and, when known exactly, its AP or AUC."""
    return f"{s['name']} ({name} {s[key]:.3f})" if s.get(key) is not None else s["name"]


def with_points(spec: dict, points: bytes) -> dict:
    """The spec to draw: the static one with this move's operating points."""
    return {**spec, "datasets": {**spec["datasets"], "points": points}}


def _colour(labels: list[str]) -> dict:
    return {"field": "series", "type": "nominal", "scale": {"domain": labels, "range": COLOURS[:len(labels)]},
            "legend": {"orient": "bottom", "title": None}}


def _axis(field: str, title: str, scale: dict, fmt: str | None = None) -> dict:
    return {"field": field, "type": "quantitative", "scale": scale, "axis": {"title": title, **({"format": fmt} if fmt else {})}}


POINT_MARK = {"type": "point", "filled": True, "size": 170, "opacity": 1, "stroke": "black", "strokeWidth": 2,
              "clip": True}


def pr_chart(series: list[dict]) -> dict:
    """Precision-recall curves (steps, as a PR curve is between thresholds); operating points from
    pr_points. series: {name, curve (services.curves), ap}."""
    labels = [label(s, "ap", "AP") for s in series]
    frames = []
    for s, name in zip(series, labels):
        c = thin(s["curve"])
        frames.append({"series": name, "threshold": c["threshold"], "recall": c["recall"],
                       "precision": c["precision"]})
    x = _axis("recall", "recall", {"domain": [0, 1.01]})
    y = _axis("precision", "precision", {"domain": [0, 1.02]})
    tip = [{"field": "threshold", "title": "t ≥", "format": ".4f"}, {"field": "recall", "format": ".3f"},
           {"field": "precision", "format": ".3f"}]
    return {
        "title": "Precision-recall", "description": "Precision-recall curves with the operating points",
        "height": HEIGHT, "datasets": {"curves": _stack(frames)},
        "layer": [
            {"data": {"name": "curves"}, "mark": {"type": "line", "interpolate": "step-after", "clip": True},
             "encoding": {"x": x, "y": y, "color": _colour(labels), "order": IN_DATA_ORDER, "tooltip": tip}},
            {"data": {"name": "points"}, "mark": POINT_MARK,
             "encoding": {"x": x, "y": y, "color": _colour(labels), "tooltip": [{"field": "what", "title": " "}, *tip]}},
        ],
    }


def pr_points(series: list[dict]) -> bytes:
    """The operating points (series: {name, ap, point, threshold}); none where undefined."""
    shown = [s for s in series if s["point"]["recall"] is not None and s["point"]["precision"] is not None]
    return arrow({"series": [label(s, "ap", "AP") for s in shown], "what": ["operating point"] * len(shown),
                  "threshold": [s["threshold"] for s in shown], "recall": [s["point"]["recall"] for s in shown],
                  "precision": [s["point"]["precision"] for s in shown]})


def roc_chart(series: list[dict], log_fpr: bool = False) -> dict:
    """ROC curves; `log_fpr` puts FPR on a log axis, where a rare-positive model's operating point
    (FPR ~0.1%) is readable instead of sitting on the y axis. Operating points from roc_points."""
    labels = [label(s, "auc", "AUC") for s in series]
    lowest = lowest_fpr(series) if log_fpr else 0.0
    frames = []
    for s, name in zip(series, labels):
        c = thin(s["curve"])
        fpr, tpr = np.r_[c["fpr"], 0.0], np.r_[c["tpr"], 0.0]
        if log_fpr:  # FPR 0 has no place on a log axis
            fpr, tpr = fpr[fpr > 0], tpr[fpr > 0]
        frames.append({"series": name, "fpr": fpr, "tpr": tpr})
    chance = np.geomspace(lowest, 1, 50) if log_fpr else np.array([0.0, 1.0])
    scale = {"type": "log", "domain": [lowest, LOG_AXIS_TOP]} if log_fpr else {"domain": [0, 1.01]}
    x = _axis("fpr", "false-positive rate" + (" (log scale)" if log_fpr else ""), scale, "~%" if log_fpr else None)
    y = _axis("tpr", "true-positive rate (recall)", {"domain": [0, 1.02]})
    tip = [{"field": "fpr", "title": "FPR", "format": ".4%"}, {"field": "tpr", "title": "TPR", "format": ".3f"}]
    return {
        "title": "ROC" + (" (log FPR)" if log_fpr else ""), "height": HEIGHT,
        "description": "ROC curves with the operating points" + (", false-positive rate on a log scale" if log_fpr else ""),
        "datasets": {"curves": _stack(frames), "chance": arrow({"fpr": chance, "tpr": chance})},
        "layer": [
            {"data": {"name": "chance"}, "mark": {"type": "line", "color": "#bbb", "strokeDash": [2, 3], "clip": True},
             "encoding": {"x": x, "y": y}},
            {"data": {"name": "curves"}, "mark": {"type": "line", "clip": True},
             "encoding": {"x": x, "y": y, "color": _colour(labels), "order": IN_DATA_ORDER, "tooltip": tip}},
            {"data": {"name": "points"}, "mark": POINT_MARK,
             "encoding": {"x": x, "y": y, "color": _colour(labels),
                          "tooltip": [{"field": "what", "title": " "},
                                      {"field": "threshold", "title": "t ≥", "format": ".4f"}, *tip]}},
        ],
    }


def roc_points(series: list[dict], log_fpr: bool = False) -> bytes:
    shown = [s for s in series if s["point"]["fpr"] is not None and s["point"]["recall"] is not None
             and (s["point"]["fpr"] > 0 or not log_fpr)]
    return arrow({"series": [label(s, "auc", "AUC") for s in shown], "what": ["operating point"] * len(shown),
                  "threshold": [s["threshold"] for s in shown], "fpr": [s["point"]["fpr"] for s in shown],
                  "tpr": [s["point"]["recall"] for s in shown]})


def lowest_fpr(series: list[dict]) -> float:
    """Left end of a log FPR axis: the smallest positive FPR of the curves. An operating point sits
    at a bin edge, on its curve, so the axis holds it too (and stays put when the slider moves)."""
    values = [v for s in series for v in np.asarray(s["curve"]["fpr"]) if v > 0]
    return max(min(values, default=1e-4) / 1.5, 1e-7)


def cost_chart(thresholds: np.ndarray, cost: np.ndarray, name: str) -> dict:
    """Cost (or net value) by threshold; the current and best thresholds from cost_rules."""
    c = thin({"threshold": np.asarray(thresholds), "y": np.asarray(cost)})
    x = _axis("threshold", "threshold", {"zero": False})
    dash = {"field": "what", "type": "nominal", "scale": {"domain": ["current", "best"], "range": [[1, 0], [6, 4]]},
            "legend": None}
    colour = {"field": "what", "type": "nominal", "scale": {"domain": ["current", "best"], "range": ["black", "#16a34a"]},
              "legend": {"orient": "bottom", "title": None}}
    return {
        "title": name + " by threshold", "description": f"{name} by threshold, the current and best thresholds",
        "height": 320, "datasets": {"curves": arrow(c)},
        "layer": [
            {"data": {"name": "curves"}, "mark": {"type": "line", "color": COLOURS[0]},
             "encoding": {"x": x, "y": _axis("y", name, {"zero": False}, ",.0f"), "order": IN_DATA_ORDER,
                          "tooltip": [{"field": "threshold", "title": "t ≥", "format": ".4f"},
                                      {"field": "y", "title": name, "format": ",.0f"}]}},
            {"data": {"name": "points"}, "mark": {"type": "rule", "strokeWidth": 2},
             "encoding": {"x": x, "color": colour, "strokeDash": dash,
                          "tooltip": [{"field": "what", "title": " "}, {"field": "threshold", "format": ".4f"}]}},
        ],
    }


def cost_rules(current: float, best: float) -> bytes:
    return arrow({"what": ["current", "best"], "threshold": [current, best]})
