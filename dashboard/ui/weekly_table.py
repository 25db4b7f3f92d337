"""The Weekly review's movements table as a styled DataFrame: changes and readings coloured by the
week's verdict, as in the HTML export (pandas only; the page draws it). Seven narrow columns, so the
table fits a 1024 px projector beside the sidebar; the usual range is centred on the expected change."""

from __future__ import annotations

import pandas as pd

from dashboard.export.format import pct, value
from dashboard.format import change, interval

COLOURS = {"worse": "color: #b91c1c; font-weight: 600", "better": "color: #15803d; font-weight: 600",
           "unusual": "color: #b45309; font-weight: 600"}
READING_CELLS = {"worse": "background-color: #fdecea; color: #8c1d18; font-weight: 600",
                 "better": "background-color: #e6f4ea; color: #1e5e22; font-weight: 600",
                 "unusual": "background-color: #fef7e0; color: #7a4f01; font-weight: 600"}


def movements(metrics: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{
        "metric": r["name"], "this week": value(r["value"], r.get("unit")), "vs last week": pct(r["wow"]),
        "usual range": interval(r["usual_low"], r["usual_high"], change),
        "vs a year ago": pct(r["yoy"]), "last 12 weeks": [v for v in r["sparkline"] if v is not None],
        "reading": r["status"],
    } for r in metrics])


def styled(metrics: list[dict]):
    """Colour 'vs last week' and 'reading' by each row's verdict (a Styler st.dataframe shows)."""
    frame = movements(metrics)
    status = [r["status"] for r in metrics]

    def row_style(row: pd.Series) -> list[str]:
        s = status[row.name]
        return [COLOURS.get(s, "") if c == "vs last week" else READING_CELLS.get(s, "") if c == "reading" else ""
                for c in row.index]

    return frame.style.apply(row_style, axis=1)


WIDTHS = {"metric": 135, "this week": 75, "vs last week": 85, "usual range": 115, "vs a year ago": 85,
          "last 12 weeks": 88, "reading": 92}  # pixels: 675 in all
