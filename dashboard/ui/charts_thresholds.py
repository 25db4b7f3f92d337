"""Plotly figures for the Thresholds page."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

COLOURS = ["#2563eb", "#f97316"]


def _layout(fig: go.Figure, title: str, x: str, y: str) -> go.Figure:
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, height=380, margin=dict(l=50, r=20, t=50, b=45),
                      legend=dict(orientation="h", y=-0.22), hovermode="closest")
    fig.update_xaxes(range=[0, 1.01])
    fig.update_yaxes(range=[0, 1.02])
    return fig


def pr_figure(series: list[dict]) -> go.Figure:
    """series: {name, curve (dict from services.curves), point (operating point), ap}."""
    fig = go.Figure()
    for k, s in enumerate(series):
        c = s["curve"]
        fig.add_scatter(x=c["recall"], y=c["precision"], mode="lines", line=dict(color=COLOURS[k], shape="hv"),
                        name=f"{s['name']} (AP {s['ap']:.3f})" if s["ap"] is not None else s["name"],
                        customdata=c["threshold"], hovertemplate="t ≥ %{customdata:.4f}<br>recall %{x:.3f}<br>precision %{y:.3f}")
        p = s["point"]
        if p["recall"] is not None and p["precision"] is not None:
            fig.add_scatter(x=[p["recall"]], y=[p["precision"]], mode="markers", showlegend=False,
                            marker=dict(size=13, color=COLOURS[k], line=dict(color="black", width=2)),
                            hovertemplate=f"operating point<br>t ≥ {s['threshold']:.4f}<extra></extra>")
    return _layout(fig, "Precision-recall", "recall", "precision")


def roc_figure(series: list[dict]) -> go.Figure:
    fig = go.Figure()
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(color="#bbb", dash="dot"), showlegend=False,
                    hoverinfo="skip")
    for k, s in enumerate(series):
        c = s["curve"]
        fig.add_scatter(x=np.r_[c["fpr"], 0.0], y=np.r_[c["tpr"], 0.0], mode="lines", line=dict(color=COLOURS[k]),
                        name=f"{s['name']} (AUC {s['auc']:.3f})" if s["auc"] is not None else s["name"],
                        hovertemplate="FPR %{x:.4f}<br>TPR %{y:.3f}<extra></extra>")
        p = s["point"]
        if p["fpr"] is not None and p["recall"] is not None:
            fig.add_scatter(x=[p["fpr"]], y=[p["recall"]], mode="markers", showlegend=False,
                            marker=dict(size=13, color=COLOURS[k], line=dict(color="black", width=2)),
                            hovertemplate=f"operating point<br>t ≥ {s['threshold']:.4f}<extra></extra>")
    return _layout(fig, "ROC", "false-positive rate", "true-positive rate (recall)")


def cost_figure(thresholds: np.ndarray, cost: np.ndarray, current: float, best: float, label: str) -> go.Figure:
    fig = go.Figure()
    fig.add_scatter(x=thresholds, y=cost, mode="lines", name=label, line=dict(color=COLOURS[0]),
                    hovertemplate="t ≥ %{x:.4f}<br>%{y:,.0f}<extra></extra>")
    fig.add_vline(x=current, line=dict(color="black", width=2), annotation_text="current")
    fig.add_vline(x=best, line=dict(color="#16a34a", dash="dash"), annotation_text="best", annotation_position="bottom right")
    fig.update_layout(title=label + " by threshold", xaxis_title="threshold", yaxis_title=label, height=320,
                      margin=dict(l=50, r=20, t=50, b=45))
    return fig
