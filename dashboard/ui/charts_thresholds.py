"""Plotly figures for the Thresholds page."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

COLOURS = ["#2563eb", "#f97316"]


MAX_POINTS = 2000  # per drawn curve: the browser draws and ships a few thousand points, not 10,001


def thin(curve: dict[str, np.ndarray], max_points: int = MAX_POINTS) -> dict[str, np.ndarray]:
    """Every k-th point of a curve (its first and last kept), for drawing only: the numbers shown
    beside the charts come from the full counts."""
    n = len(next(iter(curve.values()), []))
    if n <= max_points:
        return curve
    keep = np.unique(np.r_[np.linspace(0, n - 1, max_points).astype(int), n - 1])
    return {k: np.asarray(v)[keep] for k, v in curve.items()}


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
        c = thin(s["curve"])
        fig.add_scatter(x=c["recall"], y=c["precision"], mode="lines", line=dict(color=COLOURS[k], shape="hv"),
                        name=f"{s['name']} (AP {s['ap']:.3f})" if s["ap"] is not None else s["name"],
                        customdata=c["threshold"], hovertemplate="t ≥ %{customdata:.4f}<br>recall %{x:.3f}<br>precision %{y:.3f}")
        p = s["point"]
        if p["recall"] is not None and p["precision"] is not None:
            fig.add_scatter(x=[p["recall"]], y=[p["precision"]], mode="markers", showlegend=False,
                            marker=dict(size=13, color=COLOURS[k], line=dict(color="black", width=2)),
                            hovertemplate=f"operating point<br>t ≥ {s['threshold']:.4f}<extra></extra>")
    return _layout(fig, "Precision-recall", "recall", "precision")


def roc_figure(series: list[dict], log_fpr: bool = False) -> go.Figure:
    """ROC curves with operating points; `log_fpr` puts FPR on a log axis, where a rare-positive
    model's operating point (FPR ~0.1%) is readable instead of sitting on the y axis."""
    fig = go.Figure()
    lowest = _lowest_fpr(series) if log_fpr else 0.0
    chance = np.geomspace(lowest, 1, 50) if log_fpr else np.array([0.0, 1.0])
    fig.add_scatter(x=chance, y=chance, mode="lines", line=dict(color="#bbb", dash="dot"), showlegend=False,
                    hoverinfo="skip")
    for k, s in enumerate(series):
        c = thin(s["curve"])
        x, y = np.r_[c["fpr"], 0.0], np.r_[c["tpr"], 0.0]
        if log_fpr:  # FPR 0 has no place on a log axis
            x, y = x[x > 0], y[x > 0]
        fig.add_scatter(x=x, y=y, mode="lines", line=dict(color=COLOURS[k]),
                        name=f"{s['name']} (AUC {s['auc']:.3f})" if s["auc"] is not None else s["name"],
                        hovertemplate="FPR %{x:.4%}<br>TPR %{y:.3f}<extra></extra>")
        p = s["point"]
        if p["fpr"] is not None and p["recall"] is not None and (p["fpr"] > 0 or not log_fpr):
            fig.add_scatter(x=[p["fpr"]], y=[p["recall"]], mode="markers", showlegend=False,
                            marker=dict(size=13, color=COLOURS[k], line=dict(color="black", width=2)),
                            hovertemplate=f"operating point<br>t ≥ {s['threshold']:.4f}<br>FPR %{{x:.4%}}<extra></extra>")
    fig = _layout(fig, "ROC" + (" (log FPR)" if log_fpr else ""),
                  "false-positive rate" + (" (log scale)" if log_fpr else ""), "true-positive rate (recall)")
    if log_fpr:
        fig.update_xaxes(type="log", range=[np.log10(lowest), 0.02], tickformat="~%")
    return fig


def _lowest_fpr(series: list[dict]) -> float:
    """Left end of a log FPR axis: the smallest positive FPR drawn (operating points included)."""
    values = [v for s in series for v in np.r_[s["curve"]["fpr"], s["point"]["fpr"] or 0.0] if v > 0]
    return max(min(values, default=1e-4) / 1.5, 1e-7)


def cost_figure(thresholds: np.ndarray, cost: np.ndarray, current: float, best: float, label: str) -> go.Figure:
    fig = go.Figure()
    fig.add_scatter(x=thresholds, y=cost, mode="lines", name=label, line=dict(color=COLOURS[0]),
                    hovertemplate="t ≥ %{x:.4f}<br>%{y:,.0f}<extra></extra>")
    fig.add_vline(x=current, line=dict(color="black", width=2), annotation_text="current")
    fig.add_vline(x=best, line=dict(color="#16a34a", dash="dash"), annotation_text="best", annotation_position="bottom right")
    fig.update_layout(title=label + " by threshold", xaxis_title="threshold", yaxis_title=label, height=320,
                      margin=dict(l=50, r=20, t=50, b=45))
    return fig
