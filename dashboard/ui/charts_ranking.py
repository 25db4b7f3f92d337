"""Plotly figures for the Ranking page."""

from __future__ import annotations

import plotly.graph_objects as go

RED, GREEN, GREY = "#dc2626", "#16a34a", "#6b7280"


def forest_figure(overall: dict, segments: list[dict], metric_label: str) -> go.Figure:
    """Candidate minus baseline per segment with paired bootstrap 95% intervals."""
    rows = [("All queries", overall, False)] + [(f"{s['column']}={s['value']}", s, s.get("small", False))
                                                for s in segments]
    fig = go.Figure()
    for label, r, small in reversed(rows):
        if r.get("delta_ndcg") is None:
            continue
        colour = RED if r.get("trap") else (GREY if small or not r.get("significant", True) else
                                            (GREEN if r["delta_ndcg"] > 0 else RED))
        lo, hi = r.get("ci_low"), r.get("ci_high")
        fig.add_scatter(
            x=[r["delta_ndcg"]], y=[label + (" (small)" if small else "")], mode="markers",
            marker=dict(size=11 if label == "All queries" else 9, color=colour,
                        symbol="diamond" if label == "All queries" else "circle"),
            error_x=dict(type="data", symmetric=False, array=[(hi - r["delta_ndcg"]) if hi is not None else 0],
                         arrayminus=[(r["delta_ndcg"] - lo) if lo is not None else 0], color=colour),
            showlegend=False,
            hovertemplate=f"{label}<br>Δ %{{x:+.4f}}<br>95% CI [{lo if lo is None else round(lo, 4)}, "
                          f"{hi if hi is None else round(hi, 4)}]<br>n = {r['n_queries']:,}<extra></extra>")
    fig.add_vline(x=0, line=dict(color="black", width=1))
    fig.update_layout(title=f"{metric_label}: candidate − baseline (95% paired bootstrap interval)",
                      xaxis_title=f"Δ {metric_label}", height=max(260, 38 * len(rows) + 120),
                      margin=dict(l=10, r=20, t=50, b=45))
    return fig


def segment_bars(segments: list[dict], model: str, baseline: str | None, metric: str) -> go.Figure:
    fig = go.Figure()
    labels = [s["value"] for s in segments]
    fig.add_bar(x=labels, y=[s[metric] for s in segments], name=model, marker_color="#2563eb")
    if baseline:
        key = "baseline_ndcg" if metric == "ndcg" else "baseline_dcg"
        fig.add_bar(x=labels, y=[s.get(key) for s in segments], name=baseline, marker_color="#9ca3af")
    fig.update_layout(barmode="group", height=320, margin=dict(l=40, r=20, t=40, b=40),
                      title=metric.upper() + " by segment", legend=dict(orientation="h", y=-0.2))
    return fig
