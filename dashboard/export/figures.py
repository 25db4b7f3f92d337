"""Figures of the weekly review, shared by the page and the exported report (plotly only)."""

from __future__ import annotations

from datetime import timedelta

import plotly.graph_objects as go

from dashboard import format as fmt

RED, GREEN, GREY, BLUE = "#dc2626", "#16a34a", "#6b7280", "#2563eb"
EVENT_COLOURS = {"launch": "#7c3aed", "incident": RED, "holiday": "#d97706"}


def status_colour(status: str) -> str:
    return {"worse": RED, "better": GREEN}.get(status, GREY)


def timeseries_figure(review: dict, row: dict, height: int = 340) -> go.Figure:
    """Daily values of one metric over the last weeks, the reviewed week shaded, launches and
    events as dated lines. Ticks in the metric's unit (dashboard/format.py); margins grow to fit
    the tick labels (automargin), event labels sit in three rows above the plot, anchored away
    from the edge they are near, and the week's label at the foot of its band, so none is cut
    or printed over another."""
    daily = review["daily"].get(row["metric"], {"date": [], "value": []})
    fig = go.Figure()
    fig.add_vrect(x0=review["start"], x1=review["end"] + timedelta(days=1), fillcolor="rgba(37,99,235,0.08)",
                  line_width=0, annotation_text=review["week"], annotation_position="bottom left",
                  annotation_font=dict(size=10, color=BLUE))
    fig.add_scatter(x=daily["date"], y=daily["value"], mode="lines+markers", marker=dict(size=4),
                    line=dict(color=status_colour(row["status"]), width=2), name=row["name"],
                    hovertemplate="%{x|%a %d %b}: %{y" + fmt.hover(row.get("unit")) + "}<extra></extra>")
    dates = list(daily["date"])
    first, last = (min(dates), max(dates)) if dates else (None, None)
    for i, a in enumerate(review["annotations"]):
        colour = EVENT_COLOURS.get(a["category"], GREY)
        fig.add_vline(x=a["date"], line=dict(color=colour, width=1, dash="dot"))
        near_right = first is not None and (a["date"] - first) > 0.6 * (last - first)
        fig.add_annotation(x=a["date"], y=1.02 + 0.09 * (i % 3), yref="paper", yanchor="bottom",
                           text=_short(a["title"]), showarrow=False, font=dict(size=10, color=colour),
                           xanchor="right" if near_right else "left", bgcolor="rgba(255,255,255,0.85)")
    unit = f" ({row['unit']})" if row.get("unit") else ""
    rows = min(3, len(review["annotations"]))
    fig.update_layout(height=height, margin=dict(l=10, r=20, t=40 + 22 * rows, b=30), showlegend=False,
                      title=dict(text=f"{row['name']}{unit}: daily values, last {len(row['sparkline'])} weeks",
                                 y=0.98, yanchor="top"),
                      xaxis=dict(tickformat="%d %b", automargin=True))
    fig.update_yaxes(automargin=True, **fmt.axis(row.get("unit")))
    return fig


def _short(text: str, limit: int = 38) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sparkline_svg(values: list[float | None], colour: str, width: int = 120, height: int = 28) -> str:
    """A tiny inline SVG line (no script, no network), the last point marked."""
    pts = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(pts) < 2:
        return ""
    lo, hi = min(v for _, v in pts), max(v for _, v in pts)
    span = (hi - lo) or 1.0
    n = max(len(values) - 1, 1)
    xy = [(2 + (width - 4) * i / n, height - 2 - (height - 4) * (v - lo) / span) for i, v in pts]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    x, y = xy[-1]
    return (f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{path}"/>'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/></svg>')
