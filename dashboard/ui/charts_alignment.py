"""Plotly figures for the Online vs offline page."""

from __future__ import annotations

import plotly.graph_objects as go

RED, GREEN, GREY, BLUE = "#dc2626", "#16a34a", "#6b7280", "#2563eb"


def _err(rows: list[dict], key: str, low: str, high: str) -> dict | None:
    if all(r[low] is None for r in rows):
        return None
    return dict(type="data", symmetric=False, thickness=1, width=0, color="rgba(107,114,128,0.6)",
                array=[(r[high] - r[key]) if r[high] is not None else 0 for r in rows],
                arrayminus=[(r[key] - r[low]) if r[low] is not None else 0 for r in rows])


def scatter_figure(result: dict, proxy_label: str, target_label: str) -> go.Figure:
    """One point per experiment with intervals, the fitted line and its prediction band, and the
    quadrant where the proxy won and the target lost shaded."""
    rows = result["experiments"]
    sx, sy = result["directions"]["offline"], result["directions"]["online"]
    fig = go.Figure()
    xs = [r["offline_lift"] for r in rows] + result["band"]["x"]
    ys = [r["online_lift"] for r in rows] + result["band"]["low"] + result["band"]["high"]
    pad_x, pad_y = 0.08 * (max(xs) - min(xs) or 0.01), 0.08 * (max(ys) - min(ys) or 0.01)
    x_range = [min(min(xs), 0) - pad_x, max(max(xs), 0) + pad_x]
    y_range = [min(min(ys), 0) - pad_y, max(max(ys), 0) + pad_y]
    # proxy won (its good direction), target lost (its bad direction)
    fig.add_shape(type="rect", layer="below", line_width=0, fillcolor="rgba(220,38,38,0.08)",
                  x0=0, x1=x_range[1] if sx > 0 else x_range[0], y0=0, y1=y_range[0] if sy > 0 else y_range[1])
    fig.add_annotation(x=x_range[1] if sx > 0 else x_range[0], y=y_range[0] if sy > 0 else y_range[1],
                       text="proxy won, target lost", showarrow=False, font=dict(color=RED, size=12),
                       xanchor="right" if sx > 0 else "left", yanchor="bottom" if sy > 0 else "top")
    band = result["band"]
    fig.add_scatter(x=band["x"] + band["x"][::-1], y=band["high"] + band["low"][::-1], fill="toself",
                    fillcolor="rgba(37,99,235,0.10)", line=dict(width=0), hoverinfo="skip",
                    name=f"{result['confidence']:.0%} prediction band")
    fig.add_scatter(x=band["x"], y=band["fit"], mode="lines", line=dict(color=BLUE, width=2),
                    name=f"fit: slope {result['slope']:.2f}", hoverinfo="skip")
    for broken, colour, name in ((False, GREY, "experiment"), (True, RED, "proxy won, target lost")):
        pts = [r for r in rows if r["broken"] == broken]
        if not pts:
            continue
        fig.add_scatter(
            x=[r["offline_lift"] for r in pts], y=[r["online_lift"] for r in pts], mode="markers",
            name=name, marker=dict(color=colour, size=9, line=dict(width=1, color="white")),
            error_x=_err(pts, "offline_lift", "offline_ci_low", "offline_ci_high"),
            error_y=_err(pts, "online_lift", "online_ci_low", "online_ci_high"),
            customdata=[[r["experiment_id"], r["name"] or "", r["decision"] or "undecided",
                         _ci(r["online_ci_low"], r["online_ci_high"]), r["offline_source"]] for r in pts],
            hovertemplate=("<b>%{customdata[0]}</b> %{customdata[1]}<br>decision: %{customdata[2]}<br>"
                           f"{proxy_label}: %{{x:+.2%}} (%{{customdata[4]}})<br>"
                           f"{target_label}: %{{y:+.2%}} %{{customdata[3]}}<extra></extra>"))
    fig.add_hline(y=0, line=dict(color="black", width=1))
    fig.add_vline(x=0, line=dict(color="black", width=1))
    fig.update_layout(height=480, margin=dict(l=10, r=10, t=40, b=40),
                      title=f"Each point is one experiment: {proxy_label} lift vs {target_label} lift",
                      xaxis=dict(title=f"{proxy_label} relative lift", tickformat="+.1%", range=x_range),
                      yaxis=dict(title=f"{target_label} relative lift", tickformat="+.1%", range=y_range),
                      legend=dict(orientation="h", y=-0.18))
    return fig


def _ci(low, high) -> str:
    return "" if low is None else f"[{low:+.2%}, {high:+.2%}]"


def leaderboard_figure(rows: list[dict], target_label: str, name=lambda spec: spec) -> go.Figure:
    """Correlation with its interval per proxy (in the expected direction), best first."""
    rows = [r for r in rows if not r.get("problem")][::-1]
    fig = go.Figure()
    for r in rows:
        lo, hi = r["aligned_pearson_ci"]
        colour = GREEN if lo > 0 else (RED if hi < 0 else GREY)
        fig.add_scatter(x=[r["aligned_pearson"]], y=[name(r["proxy"])], mode="markers", showlegend=False,
                        marker=dict(color=colour, size=10),
                        error_x=dict(type="data", symmetric=False, array=[hi - r["aligned_pearson"]],
                                     arrayminus=[r["aligned_pearson"] - lo], color=colour),
                        hovertemplate=f"{name(r['proxy'])}<br>r = %{{x:.2f}} [{lo:.2f}, {hi:.2f}]<br>"
                                      f"{r['n_experiments']} experiments<extra></extra>")
    fig.add_vline(x=0, line=dict(color="black", width=1))
    fig.update_layout(height=max(240, 34 * len(rows) + 90), margin=dict(l=10, r=10, t=40, b=40),
                      title=f"How well each metric's lift tracked {target_label} (Pearson r, 95% interval)",
                      xaxis=dict(range=[-1, 1], title="correlation in the expected direction"))
    return fig
