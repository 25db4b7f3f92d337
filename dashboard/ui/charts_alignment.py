"""Vega-Lite charts for the Online vs offline page (plain dict specs, no Streamlit).

Vega-Lite, not Plotly: a page without a Plotly chart never loads Plotly's 4.7 MB script (see
charts_ranking.py). Metric and experiment names are drawn and hovered as text, never as markup;
Vega's SVG labels every mark for screen readers, the chart by its `description`.
"""

from __future__ import annotations

import pandas as pd

RED, GREEN, GREY, BLUE = "#dc2626", "#16a34a", "#6b7280", "#2563eb"
ERROR_BAR = "rgba(107,114,128,0.6)"
BROKEN, KEPT = "proxy won, target lost", "experiment"
EXPERIMENT_COLUMNS = ["experiment_id", "name", "decision", "kind", "offline_lift", "offline_ci_low", "offline_ci_high",
                      "offline_source", "online_lift", "online_ci_low", "online_ci_high", "online_ci"]


def _ci(low, high) -> str:
    return "" if low is None or high is None else f"[{low:+.2%}, {high:+.2%}]"


def experiment_rows(result: dict) -> pd.DataFrame:
    """One row per experiment: both lifts, their intervals, and whether the proxy broke there."""
    return pd.DataFrame([{
        "experiment_id": r["experiment_id"], "name": r["name"] or "", "decision": r["decision"] or "undecided",
        "kind": BROKEN if r["broken"] else KEPT, "offline_lift": r["offline_lift"],
        "offline_ci_low": r["offline_ci_low"], "offline_ci_high": r["offline_ci_high"],
        "offline_source": r["offline_source"], "online_lift": r["online_lift"],
        "online_ci_low": r["online_ci_low"], "online_ci_high": r["online_ci_high"],
        "online_ci": _ci(r["online_ci_low"], r["online_ci_high"]),
    } for r in result["experiments"]], columns=EXPERIMENT_COLUMNS).astype(
        {c: "float64" for c in EXPERIMENT_COLUMNS if "lift" in c or "_ci_" in c})


def ranges(result: dict) -> tuple[list[float], list[float]]:
    """Axis ranges holding every point, the band and the origin, with 8% room."""
    rows, band = result["experiments"], result["band"]
    xs = [r["offline_lift"] for r in rows] + band["x"]
    ys = [r["online_lift"] for r in rows] + band["low"] + band["high"]
    pad_x, pad_y = 0.08 * (max(xs) - min(xs) or 0.01), 0.08 * (max(ys) - min(ys) or 0.01)
    return ([min(min(xs), 0) - pad_x, max(max(xs), 0) + pad_x],
            [min(min(ys), 0) - pad_y, max(max(ys), 0) + pad_y])


def scatter_chart(result: dict, proxy_label: str, target_label: str) -> dict:
    """One point per experiment with intervals, the fitted line and its prediction band, and the
    quadrant where the proxy won and the target lost shaded."""
    sx, sy = result["directions"]["offline"], result["directions"]["online"]
    x_range, y_range = ranges(result)
    # proxy won (its good direction), target lost (its bad direction)
    corner = {"x0": 0.0, "x1": x_range[1] if sx > 0 else x_range[0], "y0": 0.0, "y1": y_range[0] if sy > 0 else y_range[1]}
    band = result["band"]
    band_name = f"{result['confidence']:.0%} prediction band"
    fit_name = f"fit: slope {result['slope']:.2f}"
    x_title, y_title = f"{proxy_label} relative lift", f"{target_label} relative lift"
    x = {"field": "offline_lift", "type": "quantitative", "title": x_title,
         "scale": {"domain": x_range, "nice": False, "zero": False}, "axis": {"format": "+.1%"}}
    y = {"field": "online_lift", "type": "quantitative", "title": y_title,
         "scale": {"domain": y_range, "nice": False, "zero": False}, "axis": {"format": "+.1%"}}
    bx, by = {**x, "field": "x"}, {**y, "field": "low"}
    legend = {"orient": "bottom", "title": None, "direction": "horizontal"}
    line_legend = {**legend, "orient": "top"}  # the fit's two entries above, the points' below: both fit 600 px
    return {
        "title": f"Each point is one experiment: {proxy_label} lift vs {target_label} lift",
        "description": f"Scatter of {proxy_label} lift against {target_label} lift, one point per experiment, "
                       "with the fitted line, its prediction band and the quadrant where the proxy won and the "
                       "target lost",
        "height": 480,
        "datasets": {"experiments": experiment_rows(result),
                     "band": pd.DataFrame({"x": band["x"], "low": band["low"], "high": band["high"], "fit": band["fit"]},
                                          dtype="float64"),
                     "corner": pd.DataFrame([corner])},
        "layer": [
            {"data": {"name": "corner"}, "mark": {"type": "rect", "color": RED, "opacity": 0.08, "aria": False},
             "encoding": {"x": {**x, "field": "x0"}, "x2": {"field": "x1"}, "y": {**y, "field": "y0"}, "y2": {"field": "y1"}}},
            {"data": {"name": "corner"},
             "mark": {"type": "text", "text": BROKEN, "color": RED, "fontSize": 12,
                      "align": "right" if sx > 0 else "left", "baseline": "bottom" if sy > 0 else "top",
                      "dx": -4 if sx > 0 else 4, "dy": -4 if sy > 0 else 4},
             "encoding": {"x": {**x, "field": "x1"}, "y": {**y, "field": "y1"}}},
            {"data": {"name": "band"}, "mark": {"type": "area", "opacity": 0.10, "clip": True, "aria": False},
             "encoding": {"x": bx, "y": by, "y2": {"field": "high"},
                          "fill": {"datum": band_name, "scale": {"range": [BLUE]}, "legend": line_legend}}},
            {"data": {"name": "band"}, "mark": {"type": "line", "strokeWidth": 2, "clip": True, "aria": False},
             "encoding": {"x": bx, "y": {**y, "field": "fit"},
                          "stroke": {"datum": fit_name, "scale": {"range": [BLUE]}, "legend": line_legend}}},
            {"data": {"name": "experiments"}, "transform": [{"filter": "isValid(datum.offline_ci_low)"}],
             "mark": {"type": "rule", "color": ERROR_BAR, "clip": True, "aria": False},
             "encoding": {"x": {**x, "field": "offline_ci_low"}, "x2": {"field": "offline_ci_high"}, "y": y}},
            {"data": {"name": "experiments"}, "transform": [{"filter": "isValid(datum.online_ci_low)"}],
             "mark": {"type": "rule", "color": ERROR_BAR, "clip": True, "aria": False},
             "encoding": {"y": {**y, "field": "online_ci_low"}, "y2": {"field": "online_ci_high"}, "x": x}},
            {"data": {"name": "corner"}, "mark": {"type": "rule", "color": "black", "aria": False}, "encoding": {"y": {**y, "field": "y0"}}},
            {"data": {"name": "corner"}, "mark": {"type": "rule", "color": "black", "aria": False}, "encoding": {"x": {**x, "field": "x0"}}},
            {"data": {"name": "experiments"},
             "mark": {"type": "point", "filled": True, "size": 80, "opacity": 1, "stroke": "white", "strokeWidth": 1,
                      "clip": True},
             "encoding": {"x": x, "y": y,
                          "color": {"field": "kind", "type": "nominal",
                                    "scale": {"domain": [KEPT, BROKEN], "range": [GREY, RED]}, "legend": legend},
                          "tooltip": [{"field": "experiment_id", "title": "experiment"}, {"field": "name"},
                                      {"field": "decision"},
                                      {"field": "offline_lift", "title": proxy_label, "format": "+.2%"},
                                      {"field": "offline_source", "title": "proxy lift from"},
                                      {"field": "online_lift", "title": target_label, "format": "+.2%"},
                                      {"field": "online_ci", "title": "95% interval"}]}},
        ],
    }


def leaderboard_rows(rows: list[dict], name=lambda spec: spec) -> pd.DataFrame:
    """Correlation and interval per proxy, best first; green when the interval is above 0, red below."""
    out = []
    for r in rows:
        if r.get("problem"):
            continue
        lo, hi = r["aligned_pearson_ci"]
        out.append({"proxy": name(r["proxy"]), "r": r["aligned_pearson"], "lo": lo, "hi": hi,
                    "interval": f"[{lo:.2f}, {hi:.2f}]", "n": r["n_experiments"],
                    "colour": GREEN if lo > 0 else (RED if hi < 0 else GREY)})
    return pd.DataFrame(out, columns=["proxy", "r", "lo", "hi", "interval", "n", "colour"])


def leaderboard_chart(rows: list[dict], target_label: str, name=lambda spec: spec) -> dict:
    """Correlation with its interval per proxy (in the expected direction), best first."""
    y = {"field": "proxy", "type": "nominal", "sort": None, "title": None, "axis": {"labelLimit": 320}}
    x = {"field": "r", "type": "quantitative", "title": "correlation in the expected direction",
         "scale": {"domain": [-1, 1]}}
    colour = {"field": "colour", "type": "nominal", "scale": None}
    return {
        "title": f"How well each metric's lift tracked {target_label} (Pearson r, 95% interval)",
        "description": f"Correlation of each proxy's lift with {target_label}'s, with its 95% interval, best first",
        "height": {"step": 34},
        "datasets": {"proxies": leaderboard_rows(rows, name)},
        "data": {"name": "proxies"},
        "layer": [
            {"mark": {"type": "rule", "color": "black", "aria": False}, "encoding": {"x": {"datum": 0}}},
            {"mark": {"type": "rule", "strokeWidth": 1.5, "aria": False},
             "encoding": {"y": y, "x": {**x, "field": "lo"}, "x2": {"field": "hi"}, "color": colour}},
            {"mark": {"type": "point", "filled": True, "size": 100, "opacity": 1},
             "encoding": {"y": y, "x": x, "color": colour,
                          "tooltip": [{"field": "proxy"}, {"field": "r", "format": ".2f"},
                                      {"field": "interval", "title": "95% interval"},
                                      {"field": "n", "title": "experiments"}]}},
        ],
    }
