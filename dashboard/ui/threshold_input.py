"""Thresholds page: the threshold as a slider a keyboard can move and a box a number can be typed in.

The slider steps by a thousandth of the score range (arrow keys move the 4-decimal readout, where a
step of one of the 10,000 bins moved nothing visible); the box takes any typed value, snapped to
the bin edge it lies on (or the one below, svc.threshold_index), and both stay on the one session
value `thr.t` that goes to the URL. Pickers and links may set an edge between slider steps: the
slider shows it and the next arrow press moves on from it.
"""

from __future__ import annotations

import json

import numpy as np
import streamlit as st

from dashboard.services import thresholds as svc
from dashboard.ui import state

KEY = "thr.t"
TYPED = "thr.t_typed"  # the number box's widget key (not in the URL: thr.t is)
KEYBOARD_FRACTION = 1e-3  # of the score range, per arrow press
MOVES = (KEY, "thr.t_compare")  # URL keys whose change is a move of a threshold, not a new view

# Streamlit's frontend pushes a history entry whenever the script changes the query string, so each
# move of the slider (its value goes to the URL for shared links) was one more step for Back. This
# wraps pushState: a push to the same page whose query differs only in MOVES replaces the entry.
_HISTORY_SCRIPT = """<script>
(function () {
  if (window.__thresholdMovesReplace) return;
  window.__thresholdMovesReplace = true;
  var moves = %s, push = window.history.pushState.bind(window.history);
  function rest(search) {
    var p = new URLSearchParams(search);
    moves.forEach(function (k) { p.delete(k); });
    p.sort();
    return p.toString();
  }
  window.history.pushState = function (state, title, url) {
    try {
      var next = new URL(url, window.location.href);
      if (next.pathname === window.location.pathname && rest(next.search) === rest(window.location.search)) {
        return window.history.replaceState(state, title, url);
      }
    } catch (e) { /* an unparsable URL: push as Streamlit asked */ }
    return push(state, title, url);
  };
})();
</script>"""


def controls(counts: svc.Counts) -> float:
    """Draw the slider and the box; returns the threshold (a bin edge)."""
    edges = counts.edges
    lo, top = float(edges[0]), float(edges[-1])
    step = (top - lo) * KEYBOARD_FRACTION or 1e-4
    if st.session_state.get(TYPED) != st.session_state.get(KEY):
        st.session_state[TYPED] = st.session_state.get(KEY)
    left, right = st.columns([4, 1])
    left.slider("Threshold", min_value=lo, max_value=top, step=step, format="%.4f", key=state.widget_key(KEY),
                on_change=_from_slider, help="Arrow keys move it by a thousandth of the score range; "
                "type an exact value in the box beside it.")
    right.number_input("Type a threshold", min_value=lo, max_value=top, step=(top - lo) / len(edges[1:]),
                       format="%.4f", key=TYPED, on_change=_from_box, args=(edges,),
                       help="Snapped to the bin edge it lies on, or the one below it.")
    return float(st.session_state[KEY])


def replace_history_on_moves() -> None:
    """Once per tab: a threshold move replaces the browser's history entry instead of adding one."""
    st.html(_HISTORY_SCRIPT % json.dumps(list(MOVES)), unsafe_allow_javascript=True, width="content")


def _from_slider() -> None:
    value = st.session_state[state.widget_key(KEY)]
    st.session_state[KEY] = value
    st.session_state[TYPED] = value


def _from_box(edges: np.ndarray) -> None:
    typed = st.session_state[TYPED]
    if typed is None:
        typed = st.session_state[KEY]
    i = min(svc.snap_index(edges, float(typed)), len(edges) - 1)
    state.set_value(KEY, float(edges[i]))
    st.session_state[TYPED] = float(edges[i])
