"""Plotly figures for the Ranking page."""

from __future__ import annotations

import plotly.graph_objects as go

RED, GREEN, GREY = "#dc2626", "#16a34a", "#6b7280"


def forest_figure(overall: dict, segments: list[dict], metric_label: str, metric: str = "ndcg") -> go.Figure:
    """Candidate minus baseline per segment: the overall 95% t interval and the segments'
    FCR-adjusted intervals (the level that agrees with the BH colour); none under the minimum."""
    rows = [("All queries", overall, False)] + [(f"{s['column']}={s['value']}", s, s.get("small", False))
                                                for s in segments]
    fig = go.Figure()
    for label, r, small in reversed(rows):
        d = r.get("deltas", {}).get(metric)
        if d is None or d.get("delta") is None:
            continue
        overall_row = label == "All queries"
        trap = r.get("trap") and metric == "ndcg"
        colour = RED if trap else (GREY if small or not d.get("significant", overall_row) else
                                   (GREEN if d["delta"] > 0 else RED))
        lo, hi = d.get("ci_low"), d.get("ci_high")
        level = f"{d['confidence']:.1%} CI" if d.get("confidence") else "too few queries"
        fig.add_scatter(
            x=[d["delta"]], y=[label + (" (small)" if small else "")], mode="markers",
            marker=dict(size=11 if overall_row else 9, color=colour, symbol="diamond" if overall_row else "circle"),
            error_x=dict(type="data", symmetric=False, array=[(hi - d["delta"]) if hi is not None else 0],
                         arrayminus=[(d["delta"] - lo) if lo is not None else 0], color=colour),
            showlegend=False,
            hovertemplate=f"{label}<br>Δ %{{x:+.4f}}<br>{level} [{lo if lo is None else round(lo, 4)}, "
                          f"{hi if hi is None else round(hi, 4)}]<br>n = {r['n_queries']:,}<extra></extra>")
    fig.add_vline(x=0, line=dict(color="black", width=1))
    fig.update_layout(title=f"{metric_label}: candidate − baseline (paired t intervals)",
                      xaxis_title=f"Δ {metric_label}", height=max(260, 38 * len(rows) + 120),
                      margin=dict(l=10, r=20, t=50, b=45))
    return fig


def segment_bars(segments: list[dict], model: str, baseline: str | None, metric: str,
                 title: str | None = None) -> go.Figure:
    fig = go.Figure()
    labels = [s["value"] for s in segments]
    fig.add_bar(x=labels, y=[s[metric] for s in segments], name=model, marker_color="#2563eb")
    if baseline:
        fig.add_bar(x=labels, y=[s.get("deltas", {}).get(metric, {}).get("baseline") for s in segments],
                    name=baseline, marker_color="#9ca3af")
    fig.update_layout(barmode="group", height=320, margin=dict(l=40, r=20, t=40, b=40),
                      title=(title or metric.upper()) + " by segment", legend=dict(orientation="h", y=-0.2))
    return fig
