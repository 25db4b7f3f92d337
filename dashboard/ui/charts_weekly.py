"""The Weekly review page's chart as a Vega-Lite spec (a plain dict, no Streamlit).

The exported report keeps its Plotly figure (dashboard/export/figures.py, drawn to PNG by kaleido
and inlined in the HTML); the page draws the same chart with Vega-Lite, so a new tab never loads
Plotly's 4.7 MB script (see charts_ranking.py). Same colours, labels and formats as the export.
Days are sent as local-time ISO strings ("2026-11-16T00:00:00"): the browser reads them as that
calendar day in any time zone, where a bare date would be read as UTC midnight and shown as the
day before west of Greenwich.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd

from dashboard import format as fmt
from dashboard.export.figures import BLUE, EVENT_COLOURS, GREY, status_colour

HEIGHT = 340
LABEL_ROWS = 3  # event labels sit in three rows above the plot, so neighbours do not print over each other
LABEL_ROW_PX = 14


def day(d: date) -> str:
    return f"{d.isoformat()}T00:00:00"


def short(text: str, limit: int = 38) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def value_axis(unit: str | None) -> dict:
    """The value axis in the metric's unit, as the export writes it (dashboard/format.py). A prefix or
    suffix (a unit from the tree file) enters the label expression as a JSON string literal only."""
    plotly = fmt.axis(unit)
    axis = {"format": plotly["tickformat"], "title": None}
    prefix, suffix = plotly.get("tickprefix", ""), plotly.get("ticksuffix", "")
    if prefix or suffix:
        axis["labelExpr"] = (f"{json.dumps(prefix)} + format(datum.value, {json.dumps(plotly['tickformat'])})"
                             f" + {json.dumps(suffix)}")
    return axis


def event_rows(review: dict, dates: list[date]) -> pd.DataFrame:
    """Launches and events: a dotted line each, their labels anchored away from the edge they are near."""
    first, last = (min(dates), max(dates)) if dates else (None, None)
    out = []
    for i, a in enumerate(review["annotations"]):
        near_right = first is not None and (a["date"] - first) > 0.6 * (last - first)
        out.append({"date": day(a["date"]), "title": a["title"], "label": short(a["title"]),
                    "category": a["category"], "colour": EVENT_COLOURS.get(a["category"], GREY),
                    "row": i % LABEL_ROWS, "anchor": "right" if near_right else "left"})
    return pd.DataFrame(out, columns=["date", "title", "label", "category", "colour", "row", "anchor"])


def timeseries_chart(review: dict, row: dict, height: int = HEIGHT) -> dict:
    """Daily values of one metric over the last weeks, the reviewed week shaded, launches and
    events as dated dotted lines labelled above the plot."""
    daily = review["daily"].get(row["metric"], {"date": [], "value": []})
    dates = list(daily["date"])
    unit = f" ({row['unit']})" if row.get("unit") else ""
    x = {"field": "date", "type": "temporal", "title": None, "axis": {"format": "%d %b"}}
    y = {"field": "value", "type": "quantitative", "scale": {"zero": False}, "axis": value_axis(row.get("unit"))}
    events = event_rows(review, dates)
    event_tip = [{"field": "title", "title": "event"}, {"field": "category"},
                 {"field": "date", "type": "temporal", "format": "%a %d %b %Y", "title": "date"}]
    label_layers = [  # one layer a row and side: a text mark's offset and alignment are the same for all its items
        {"data": {"name": "events"}, "transform": [{"filter": f"datum.anchor === '{side}' && datum.row === {row_}"}],
         "mark": {"type": "text", "align": side, "baseline": "bottom", "fontSize": 10,
                  "dx": -2 if side == "right" else 2, "dy": -4 - LABEL_ROW_PX * row_},
         "encoding": {"x": {"field": "date", "type": "temporal"}, "y": {"value": 0},
                      "text": {"field": "label"}, "color": {"field": "colour", "type": "nominal", "scale": None},
                      "tooltip": event_tip}}
        for row_ in range(LABEL_ROWS) for side in ("left", "right")]
    return {
        "title": {"text": f"{row['name']}{unit}: daily values, last {len(row['sparkline'])} weeks", "anchor": "start",
                  "offset": 8 + LABEL_ROW_PX * min(LABEL_ROWS, len(events))},
        "description": f"Daily values of {row['name']} over the last weeks, the reviewed week {review['week']} "
                       "shaded, launches and events as dotted lines",
        "height": height,
        "datasets": {
            "daily": pd.DataFrame({"date": [day(d) for d in dates], "value": pd.Series(daily["value"], dtype="float64")}),
            "week": pd.DataFrame([{"start": day(review["start"]), "end": day(review["end"] + timedelta(days=1)),
                                   "week": review["week"]}]),
            "events": events,
        },
        "layer": [
            {"data": {"name": "week"}, "mark": {"type": "rect", "color": BLUE, "opacity": 0.08, "aria": False},
             "encoding": {"x": {**x, "field": "start"}, "x2": {"field": "end"},
                          "tooltip": [{"field": "week", "title": "reviewed week"}]}},
            {"data": {"name": "week"},
             "mark": {"type": "text", "align": "left", "baseline": "bottom", "fontSize": 10, "color": BLUE,
                      "dx": 3, "dy": -3},
             "encoding": {"x": {**x, "field": "start"}, "y": {"value": "height"}, "text": {"field": "week"}}},
            {"data": {"name": "events"}, "mark": {"type": "rule", "strokeWidth": 1, "strokeDash": [1, 3]},
             "encoding": {"x": {"field": "date", "type": "temporal"},
                          "color": {"field": "colour", "type": "nominal", "scale": None},
                          "tooltip": event_tip}},
            *label_layers,
            {"data": {"name": "daily"},
             "mark": {"type": "line", "color": status_colour(row["status"]), "strokeWidth": 2,
                      "point": {"size": 16, "filled": True, "color": status_colour(row["status"])}},
             "encoding": {"x": x, "y": y,
                          "tooltip": [{"field": "date", "type": "temporal", "format": "%a %d %b", "title": "day"},
                                      {"field": "value", "title": row["name"],
                                       "format": fmt.hover(row.get("unit")).lstrip(":")}]}},
        ],
    }
