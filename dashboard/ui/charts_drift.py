"""The Thresholds page's score-drift charts as Vega-Lite specs (plain dicts, no Streamlit).

Vega-Lite, not Plotly: the drift view was the app's last Plotly chart, so opening it (the Weekly
review's drift alerts link to it) made a new tab fetch and run Plotly's 4.7 MB script for two small
charts (see charts_ranking.py). Same colours, reference lines, axis and hover formats as the Plotly
figures they replace; week labels and group labels are data, drawn as text.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard import format as fmt
from dashboard.metrics import weekly as wk

COLOURS = {"this": "#dc2626", "last": "#6b7280", "baseline": "#2563eb"}
LEVELS = ((wk.PSI_MODERATE, "moderate", "#f59e0b"), (wk.PSI_MAJOR, "major", "#dc2626"))
PSI_SERIES = (("against the week before", "psi_last", COLOURS["last"]),
              ("against the baseline", "psi_baseline", COLOURS["baseline"]))
# a legend on two rows: on one, it ran past a half-width chart's right edge at 1024 px
LEGEND = {"orient": "bottom", "title": None, "columns": 2}
HEIGHT = 380  # the whole chart, axes and legend included (Streamlit fits the spec to it), as the Plotly figures


def psi_chart(rows: list[dict], week: str) -> dict:
    """PSI of each week against the week before and against the baseline, the 0.1 (moderate) and
    0.25 (major) lines, the chosen week as a vertical rule. An n/a PSI breaks its line."""
    weeks = [r["week"] for r in rows]
    psi = pd.DataFrame({"week": [r["week"] for _ in PSI_SERIES for r in rows],
                        "series": [name for name, _, _ in PSI_SERIES for _ in rows],
                        "psi": pd.Series([r[key] for _, key, _ in PSI_SERIES for r in rows], dtype="float64")})
    levels = pd.DataFrame([{"psi": level, "label": label, "colour": colour} for level, label, colour in LEVELS])
    x = {"field": "week", "type": "ordinal", "title": None, "scale": {"type": "point", "domain": weeks, "padding": 0.5},
         "axis": {"labelAngle": -45, "labelOverlap": True}}
    y = {"field": "psi", "type": "quantitative", "title": "PSI"}
    colour = {"field": "series", "type": "nominal", "legend": {**LEGEND, "columns": 1},
              "scale": {"domain": [name for name, _, _ in PSI_SERIES], "range": [c for _, _, c in PSI_SERIES]}}
    return {
        "title": {"text": "PSI by week", "anchor": "start"},
        "description": "Population stability index of each week against the week before and against the "
                       f"baseline, the moderate ({wk.PSI_MODERATE}) and major ({wk.PSI_MAJOR}) levels, week {week} marked",
        "height": HEIGHT,
        "datasets": {"psi": psi, "levels": levels, "week": pd.DataFrame({"week": [week]})},
        "layer": [
            {"data": {"name": "levels"}, "mark": {"type": "rule", "strokeDash": [2, 3], "aria": False},
             "encoding": {"y": y, "color": {"field": "colour", "type": "nominal", "scale": None}}},
            {"data": {"name": "levels"},
             "mark": {"type": "text", "align": "left", "baseline": "bottom", "dx": 2, "dy": -2, "fontSize": 11},
             "encoding": {"x": {"value": 0}, "y": y, "text": {"field": "label"},
                          "color": {"field": "colour", "type": "nominal", "scale": None}}},
            {"data": {"name": "week"}, "mark": {"type": "rule", "color": "black", "strokeWidth": 1},
             "encoding": {"x": x, "tooltip": [{"field": "week", "title": "chosen week"}]}},
            {"data": {"name": "psi"},
             "mark": {"type": "line", "point": {"filled": True, "size": 40}, "invalid": "break-paths-filter-domains"},
             "encoding": {"x": x, "y": y, "color": colour,
                          "tooltip": [{"field": "series", "title": " "}, {"field": "week"},
                                      {"field": "psi", "title": "PSI", "format": ".3f"}]}},
        ],
    }


def group_labels(starts: list[float]) -> list[str]:
    """"≥ start" of each group, with as many digits as it takes for no two to read the same (two
    labels alike would draw as one group)."""
    for digits in range(2, 8):
        labels = [f"≥ {fmt.number(s, digits)}" for s in starts]
        if len(set(labels)) == len(labels):
            return labels
    return [f"≥ {s!r}" for s in starts]


def decile_shares(baseline: np.ndarray, edges: np.ndarray, series: list[tuple[str, str, np.ndarray]]) -> pd.DataFrame:
    """Share of each series' predictions in each tenth of the baseline's scores (the PSI's groups,
    wk.quantile_groups; a bin heavier than a tenth makes a group of its own, so there may be fewer
    than ten). series: (role: this/last/baseline, name, fine-bin counts). One row a group and series."""
    groups = wk.quantile_groups(np.asarray(baseline).astype(np.int64))
    present = np.unique(groups)
    labels = group_labels([float(edges[np.flatnonzero(groups == g)[0]]) for g in present])
    out = []
    for role, name, counts in series:
        counts = np.asarray(counts, dtype=np.float64)
        share = np.bincount(groups, counts, int(groups.max()) + 1)[present] / max(counts.sum(), 1)
        out += [{"group": label, "series": name, "role": role, "share": float(s)} for label, s in zip(labels, share)]
    return pd.DataFrame(out, columns=["group", "series", "role", "share"])


def groups_chart(shares: pd.DataFrame) -> dict:
    """Grouped bars: each series' share of predictions in each tenth of the baseline's scores
    (10% each for the baseline itself), in the given series order."""
    names = list(dict.fromkeys(shares["series"]))
    roles = [shares.loc[shares["series"] == n, "role"].iloc[0] for n in names]
    return {
        "title": {"text": "Scores by tenth of the baseline", "anchor": "start"},
        "description": "Share of predictions in each tenth of the baseline's scores: "
                       + ", ".join(names),
        "height": HEIGHT,
        "datasets": {"shares": shares},
        "data": {"name": "shares"},
        "mark": {"type": "bar"},
        "encoding": {
            "x": {"field": "group", "type": "nominal", "sort": None, "title": "score group (baseline deciles)",
                  "axis": {"labelAngle": -45}},
            "xOffset": {"field": "series", "sort": names},
            "y": {"field": "share", "type": "quantitative", "title": "share of predictions", "axis": {"format": ".0%"}},
            "color": {"field": "series", "type": "nominal", "sort": names, "legend": LEGEND,
                      "scale": {"domain": names, "range": [COLOURS[r] for r in roles]}},
            "tooltip": [{"field": "series", "title": " "}, {"field": "group", "title": "scores"},
                        {"field": "share", "title": "share of predictions", "format": ".1%"}],
        },
    }
