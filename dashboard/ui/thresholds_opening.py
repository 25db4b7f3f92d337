"""Thresholds page: where the slider opens. The model's declared production threshold (`models`
kind), else the chosen rule's pick, never an arbitrary middle of the range; again on a model switch."""

from __future__ import annotations

from typing import Callable

import numpy as np
import streamlit as st

from dashboard.ui import state
from dashboard.ui.text import md

OWNER_KEY = "thr.t_for"  # the model the slider's value belongs to
WHY_KEY = "thr.t_why"


def default_threshold(edges: np.ndarray, model: str, declared: dict, pick: Callable[[], int | None]) -> tuple[float, str]:
    """(threshold, why) the page opens at for `model`."""
    if model in declared:
        t = declared[model]["threshold"]
        outside = "" if edges[0] <= t <= edges[-1] else (
            f"; it lies outside the model's score range [{edges[0]:.4f}, {edges[-1]:.4f}], so the slider "
            "shows the nearest end")
        return t, f"Opened at the production threshold of {model}, {t:.4f} (declared in the models file){outside}."
    i = pick()
    if i is not None:
        return float(edges[i]), (f"Opened at the chosen rule's pick, {edges[i]:.4f}: no production threshold "
                                 f"is declared for {model} (load a `models` file to open there).")
    middle = float(edges[len(edges) // 2])
    return middle, (f"No production threshold is declared for {model} and the chosen rule has no answer: "
                    f"opened at the middle of the score range, {middle:.4f}.")


def open_threshold(edges: np.ndarray, model: str, declared: dict, pick: Callable[[], int | None],
                   snap: Callable[[float], float]) -> float:
    """The slider's value this run: the session's or the URL's; on first open (nothing in the URL)
    and whenever the model changes, the model's default. Records why, for `caption`."""
    owner = st.session_state.get(OWNER_KEY)
    fresh = "thr.t" not in st.session_state and st.query_params.get("thr.t") is None
    if fresh or (owner is not None and owner != model):
        value, why = default_threshold(edges, model, declared, pick)
        state.set_value("thr.t", snap(value))
        st.session_state[WHY_KEY] = (snap(value), why)
    st.session_state[OWNER_KEY] = model
    threshold = snap(state.persist("thr.t", snap(edges[len(edges) // 2]), float))
    shown = st.session_state[state.widget_key("thr.t")]
    # the slider's own value may differ from the edge by floating error of its step grid: writing
    # the edge back would make the browser re-snap it and rerun, without end
    if shown is None or abs(shown - threshold) > (edges[1] - edges[0]) / 2:
        state.set_value("thr.t", threshold)
    return threshold


def caption(model: str, declared: dict, threshold: float, width: float) -> None:
    """Why the slider is where it opened; once moved, where the production threshold is."""
    info = declared.get(model)
    opened_at, why = st.session_state.get(WHY_KEY, (None, ""))
    if opened_at is None or abs(opened_at - threshold) > width / 2:
        why = "" if info is None else (f"The production threshold of {model} is {info['threshold']:.4f}; "
                                       "the slider has moved from it.")
    if info is not None and info["description"]:
        why += f" {model}: {info['description']}."
    if why:
        st.caption(md(why.strip()))  # model names and descriptions are data
