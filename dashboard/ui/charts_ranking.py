"""Vega-Lite charts for the Ranking page (plain dict specs, data inline: a few rows each).

Vega-Lite, not Plotly: a page without a Plotly chart never loads Plotly's 4.7 MB script, which in a
new tab executes on the browser's main thread for 1-1.7 s on this machine and held back the page's
metric cards (docs/benchmarks.md, headline first); Vega-Lite's script is 0.8 MB.
"""

from __future__ import annotations

RED, GREEN, GREY = "#dc2626", "#16a34a", "#6b7280"
MODEL, BASELINE = "#2563eb", "#9ca3af"


def forest_chart(overall: dict, segments: list[dict], metric_label: str, metric: str = "ndcg") -> dict:
    """Candidate minus baseline per segment: the overall 95% t interval and the segments'
    FCR-adjusted intervals (the level that agrees with the BH colour); none under the minimum."""
    rows = [("All queries", overall, False)] + [(f"{s['column']}={s['value']}", s, s.get("small", False))
                                                for s in segments]
    values = []
    for label, r, small in rows:
        d = r.get("deltas", {}).get(metric)
        if d is None or d.get("delta") is None:
            continue
        overall_row = label == "All queries"
        trap = r.get("trap") and metric == "ndcg"
        colour = RED if trap else (GREY if small or not d.get("significant", overall_row) else
                                   (GREEN if d["delta"] > 0 else RED))
        values.append({"label": label + (" (small)" if small else ""), "delta": d["delta"],
                       "lo": d.get("ci_low"), "hi": d.get("ci_high"), "colour": colour,
                       "shape": "diamond" if overall_row else "circle", "n": r["n_queries"],
                       "level": f"{d['confidence']:.1%} CI" if d.get("confidence") else "too few queries"})
    y = {"field": "label", "type": "nominal", "sort": None, "title": None}  # rows in the table's order
    colour = {"field": "colour", "type": "nominal", "scale": None}
    tooltip = [{"field": "label", "title": "segment"}, {"field": "delta", "title": "Δ", "format": "+.4f"},
               {"field": "level"}, {"field": "lo", "title": "from", "format": "+.4f"},
               {"field": "hi", "title": "to", "format": "+.4f"}, {"field": "n", "title": "queries", "format": ","}]
    return {
        "title": f"{metric_label}: candidate − baseline (paired t intervals)",
        "height": {"step": 34},  # a row per segment, however many
        "data": {"values": values},
        "layer": [
            {"mark": {"type": "rule", "color": "black"}, "encoding": {"x": {"datum": 0}}},
            {"transform": [{"filter": "isValid(datum.lo) && isValid(datum.hi)"}],
             "mark": {"type": "rule", "strokeWidth": 2},
             "encoding": {"y": y, "x": {"field": "lo", "type": "quantitative"}, "x2": {"field": "hi"},
                          "color": colour}},
            {"mark": {"type": "point", "filled": True, "size": 90, "opacity": 1},
             "encoding": {"y": y, "x": {"field": "delta", "type": "quantitative", "title": f"Δ {metric_label}"},
                          "color": colour, "shape": {"field": "shape", "type": "nominal", "scale": None},
                          "tooltip": tooltip}},
        ],
    }


def segment_bars(segments: list[dict], model: str, baseline: str | None, metric: str,
                 title: str | None = None) -> dict:
    values = [{"segment": s["value"], "model": model, "value": s[metric]} for s in segments]
    if baseline:
        values += [{"segment": s["value"], "model": baseline,
                    "value": s.get("deltas", {}).get(metric, {}).get("baseline")} for s in segments]
    names = [model] + ([baseline] if baseline else [])
    return {
        "title": (title or metric.upper()) + " by segment",
        "height": 240,
        "data": {"values": values},
        "mark": {"type": "bar"},
        "encoding": {
            "x": {"field": "segment", "type": "nominal", "sort": None, "title": None, "axis": {"labelAngle": 0}},
            "xOffset": {"field": "model", "sort": names},
            "y": {"field": "value", "type": "quantitative", "title": None},
            "color": {"field": "model", "type": "nominal", "sort": names,
                      "scale": {"domain": names, "range": [MODEL, BASELINE][:len(names)]},
                      "legend": {"orient": "bottom", "title": None}},
            "tooltip": [{"field": "segment"}, {"field": "model"}, {"field": "value", "format": ".4f"}],
        },
    }
