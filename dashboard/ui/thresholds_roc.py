"""Thresholds page: the ROC chart's FPR axis (log by default for rare positives)."""

from __future__ import annotations

import streamlit as st

from dashboard.ui import state

KEY = "thr.logfpr"
RARE = 0.10  # below this share of positives, FPRs worth reading are under 1%: log axis by default


def persist(positives: float, negatives: float) -> bool:
    """The axis choice (URL `thr.logfpr`); default log when positives are rare."""
    total = positives + negatives
    default = bool(total > 0 and positives / total < RARE)
    return state.persist(KEY, default, state.parse_bool, valid=lambda v: isinstance(v, bool))


def toggle(container) -> None:
    container.toggle("Log FPR axis", key=state.widget_key(KEY), on_change=state.on_change(KEY),
                     help="A rare-positive model operates at FPRs under 1%, on the axis of a linear chart; "
                          "a log axis spreads out the low-FPR region. On by default below 10% positives.")
