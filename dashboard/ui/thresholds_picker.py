"""Thresholds page: the precision-floor picker's inputs (best estimate or guaranteed) and its wording."""

from __future__ import annotations

import streamlit as st

from dashboard.services import thresholds as svc
from dashboard.ui import state
from dashboard.ui.text import md

SURE_KEY = "thr.sure"
MODES = {False: "Best estimate", True: "Guaranteed"}


def persist_mode() -> bool:
    return state.persist(SURE_KEY, False, state.parse_bool, valid=lambda v: isinstance(v, bool))


def precision_inputs(cols, by: str) -> None:
    """Floor, 'in every segment' and the estimate the floor is judged on, in three columns."""
    cols[0].number_input("Precision at least", 0.0, 1.0, step=0.01, key=state.widget_key("thr.floor"))
    cols[1].checkbox("in every segment", key=state.widget_key("thr.every"), help=(
        f"Segments of '{md(by) or 'the breakdown column'}' with at least {svc.MIN_POSITIVES} positives must each "
        f"reach the floor, at thresholds where they flag at least {svc.MIN_FLAGGED} labelled rows."))
    cols[2].radio("Judged on", list(MODES), format_func=MODES.get, key=state.widget_key(SURE_KEY),
                  on_change=state.on_change(SURE_KEY), help=(
                      "Best estimate: the precision observed on these rows. Picking on the same rows it "
                      "reports on, the true precision is below the floor in about half of "
                      "picks. Guaranteed: the 95% Wilson lower bound of precision must reach the floor; the "
                      "true precision is below it in at most 5% of picks (benchmarks/calib/thresholds.py). It costs recall."))


def pick_statement(floor: float, guaranteed: bool) -> str:
    """What the picked threshold promises, in one sentence."""
    if guaranteed:
        return (f"Picked on the 95% Wilson lower bound of precision: the highest recall where even the lower "
                f"bound reaches {floor:.0%}. The true precision is below {floor:.0%} in at most 5% of picks.")
    return (f"Picked on the best estimate: the highest recall where the observed precision reaches {floor:.0%}. "
            "In simulation the true precision is below the floor in about half of such picks; "
            "choose Guaranteed for a floor that holds.")


def small_caption() -> str:
    return (f"95% Wilson intervals. Segments with fewer than {svc.MIN_POSITIVES} positives, or fewer than "
            f"{svc.MIN_FLAGGED} labelled rows flagged at this threshold, are marked *small*: read them as "
            "anecdotes, not evidence.")


def keep_widgets_in_range(values: dict) -> None:
    """Reset widgets whose state a `persist` validation has just reset (e.g. a date outside the newly
    chosen model's range), so no widget is drawn with a value outside its bounds."""
    for key, value in values.items():
        if st.session_state.get(state.widget_key(key)) != value:
            state.set_value(key, value)
