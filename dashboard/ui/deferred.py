"""Heavy charts drawn right after a page's first paint, once per page and session.

A new tab mounts every element of a run in one browser task. On the demo's Metric tree the charts
mounted in the same task as the headline metrics and held their paint back by 0.3-0.5 s (a new tab
beside an open one: 1.8 s to the headline against 1.2 s for pages without them). So the first run
of such a page in a session draws placeholders of the charts' height and a signal that, in the
browser, waits for the next paint and then asks for a rerun; that rerun draws the charts. Later
runs draw them at once: the tab has mounted them before.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

# Containers keyed with this prefix get the CSS class st-key-<key>: browser tests and benchmarks
# count a page idle only once none is left (tests/browser/conftest.py APP_IDLE).
PENDING_PREFIX = "deferred-pending"

# A frame's callbacks run just before it is painted; a task queued from one runs after the paint.
_SIGNAL_JS = """
export default function ({ setTriggerValue }) {
  requestAnimationFrame(() => setTimeout(() => setTriggerValue("painted", true), 0));
}
"""
_signal: Any = None


def painted_key(page: str) -> str:
    return f"_painted.{page}"


def ready(page: str) -> bool:
    """Whether the page may draw its heavy charts in this run. False in the page's first run of the
    session, which places the paint signal here; the caller then draws placeholder()s instead."""
    key = painted_key(page)
    if st.session_state.get(key):
        return True
    st.session_state[key] = True  # the next run draws them: the signal's, or a click's if it never fires
    _paint_signal()(key=f"paint-signal-{page}", height=0, on_painted_change=_rerun_only)
    return False


def placeholder(name: str, height: int, text: str) -> None:
    """An empty box of the chart's height (no jump when the chart arrives), saying what is coming."""
    with st.container(height=height, border=False, key=f"{PENDING_PREFIX}-{name}"):
        st.caption(text)


def _rerun_only() -> None:
    """The signal's rerun is all it asks for (a trigger needs a callback to be sent)."""


def _paint_signal() -> Any:
    global _signal
    if _signal is None:  # registered at first use: the runtime exists by then
        _signal = st.components.v2.component("dashboard.paint_signal", js=_SIGNAL_JS)
    return _signal
