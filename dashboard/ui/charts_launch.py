"""The Launch review's lift chart as a Vega-Lite spec (a plain dict, no Streamlit).

Vega-Lite, not Plotly: a page without a Plotly chart never loads Plotly's 4.7 MB script (see
charts_ranking.py). Names are drawn and hovered as text (Vega never reads them as markup), and
Vega's SVG labels every mark for screen readers, the chart by its `description`.
"""

from __future__ import annotations

import pandas as pd

from dashboard.ui.charts_tree import STATUS_COLOURS, STATUS_WORDS, undeclared

GUARDRAIL = "#7f0000"
ZERO = "#5f6368"
STATUS_ORDER = ("better", "worse", "inconclusive", "n/a", "undeclared")
COLUMNS = ["label", "status", "colour", "lift", "lo", "hi", "bound"]


def _relative_bound(r: dict) -> float | None:
    """The guardrail's relative limit on the lift axis (positive for lower-is-better metrics)."""
    b = r.get("max_relative_change")
    if b is None:
        return None
    return b if r["direction"] == "lower" else -b


def lift_rows(rows: list[dict]) -> list[dict]:
    """One row per metric with a relative lift, in the scorecard's order (drawn top to bottom)."""
    out = []
    for r in rows:
        if r.get("relative_lift") is None:
            continue
        shown = "undeclared" if undeclared(r) else r["status"]
        lo, hi = r.get("relative_ci_low"), r.get("relative_ci_high")
        out.append({"label": f"{r['name']} ({r['level']})", "status": STATUS_WORDS[shown],
                    "colour": STATUS_COLOURS[shown][1], "lift": r["relative_lift"],
                    "lo": lo if hi is not None else None, "hi": hi if lo is not None else None,
                    "bound": _relative_bound(r)})
    return out


def lift_chart(rows: list[dict], alpha: float = 0.05) -> dict:
    """Forest plot: relative lift of each metric with its interval, coloured by status (the same
    words and colours as the tree); guardrail limits as dark-red ticks on the worse side."""
    values = lift_rows(rows)
    shown = [s for s in STATUS_ORDER if any(v["status"] == STATUS_WORDS[s] for v in values)]
    colour = {"field": "status", "type": "nominal",
              "scale": {"domain": [STATUS_WORDS[s] for s in shown], "range": [STATUS_COLOURS[s][1] for s in shown]},
              "legend": {"orient": "top", "title": None, "direction": "horizontal"}}
    y = {"field": "label", "type": "nominal", "sort": None, "title": None,  # the scorecard's order, top down
         "axis": {"gridColor": "#f1f3f4", "grid": True, "labelLimit": 320}}
    x_title = f"relative lift, treatment vs control ({1 - alpha:.0%} CI)"
    x = {"field": "lift", "type": "quantitative", "title": x_title, "axis": {"format": "+.0%"}}
    return {
        "description": "Relative lift of each metric, treatment vs control, with its interval, coloured by status; "
                       "guardrail limits marked",
        "height": {"step": 38},
        "datasets": {"lifts": pd.DataFrame(values, columns=COLUMNS)},
        "data": {"name": "lifts"},
        "layer": [
            {"mark": {"type": "rule", "color": ZERO, "aria": False}, "encoding": {"x": {"datum": 0}}},
            {"transform": [{"filter": "isValid(datum.lo) && isValid(datum.hi)"}],
             "mark": {"type": "rule", "strokeWidth": 2, "aria": False},  # the point's label gives the interval
             "encoding": {"y": y, "x": {"field": "lo", "type": "quantitative"}, "x2": {"field": "hi"},
                          "color": colour}},
            {"mark": {"type": "point", "filled": True, "size": 110, "opacity": 1},
             "encoding": {"y": y, "x": x, "color": colour,
                          "tooltip": [{"field": "label", "title": "metric"},
                                      {"field": "lift", "title": "relative lift", "format": "+.2%"},
                                      {"field": "lo", "title": "from", "format": "+.2%"},
                                      {"field": "hi", "title": "to", "format": "+.2%"},
                                      {"field": "status"}]}},
            {"transform": [{"filter": "isValid(datum.bound)"}],
             "mark": {"type": "tick", "color": GUARDRAIL, "thickness": 3, "size": 18, "opacity": 1},
             "encoding": {"y": y, "x": {"field": "bound", "type": "quantitative"},
                          "tooltip": [{"field": "label", "title": "metric"},
                                      {"field": "bound", "title": "guardrail limit", "format": "+.0%"}]}},
        ],
    }
