"""Page state that survives navigation and lives in the URL.

Streamlit drops a widget's state when its page is not shown and clears query params on
navigation, so each value lives under a plain session key (`persist`), the widget uses a separate
key (`widget_key`) seeded from it, and `sync_url` mirrors the page's values into the URL so a
pasted link opens the same view.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable

import streamlit as st

from dashboard.ui.text import md

_W = "_w."
MAX_ABS_NUMBER = 1e12  # a URL number beyond this is a typo or an attack, never a setting


def _usable(value: Any) -> bool:
    """Numbers from a URL must be finite and of a sane size (nan, inf, 1e308 crash the maths)."""
    if isinstance(value, float):
        return math.isfinite(value) and abs(value) <= MAX_ABS_NUMBER
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) <= MAX_ABS_NUMBER
    return True


def _notice(key: str, raw: str, default: Any) -> None:
    """Say (briefly, as literal text) that a URL value was ignored."""
    shown = raw if len(raw) <= 40 else raw[:40] + "…"
    st.toast(f"Ignored {md(key)}={md(shown)} from the link: not a usable value; showing {md(default)} instead.",
             icon=":material/link_off:")


def widget_key(key: str) -> str:
    return _W + key


def persist(key: str, default: Any, parse: Callable[[str], Any] = str,
            valid: Callable[[Any], bool] | None = None) -> Any:
    """The value of `key`: from the session, else the URL, else `default`; seeds its widget."""
    if key not in st.session_state:
        raw = st.query_params.get(key)
        value = default
        if raw is not None:
            try:
                value = parse(raw)
            except (TypeError, ValueError, OverflowError):
                value = None
            if value is None or not _usable(value) or (valid is not None and not _safe(valid, value)):
                _notice(key, raw, default)
                value = default
        st.session_state[key] = value
    if (valid is not None and not _safe(valid, st.session_state[key])) or not _usable(st.session_state[key]):
        st.session_state[key] = default
    wk = widget_key(key)
    if wk not in st.session_state:
        st.session_state[wk] = st.session_state[key]
    return st.session_state[key]


def _safe(valid: Callable[[Any], bool], value: Any) -> bool:
    try:
        return bool(valid(value))
    except (TypeError, ValueError, ArithmeticError):
        return False


def on_change(key: str) -> Callable[[], None]:
    """Callback for a widget created with key=widget_key(key): copies its value back."""
    def _copy() -> None:
        st.session_state[key] = st.session_state[widget_key(key)]
    return _copy


def set_value(key: str, value: Any) -> None:
    """Move a value (and its widget) programmatically, e.g. a 'pick threshold' button."""
    st.session_state[key] = value
    st.session_state[widget_key(key)] = value


def sync_url(keys: Iterable[str], encode: Callable[[Any], str] = str) -> None:
    """Mirror the page's state into the URL (lists as comma-separated values)."""
    params = {}
    for key in keys:
        value = st.session_state.get(key)
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            params[key] = ",".join(encode(v) for v in value)
        else:
            params[key] = encode(value)
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)


def parse_bool(raw: str) -> bool:
    return raw.lower() in ("1", "true", "yes", "on")


def parse_list(raw: str) -> list[str]:
    return [v for v in raw.split(",") if v]


LINK = "via"  # marker a cross-page link adds to its URL: the target page adopts the link's values


def link_params(params: dict[str, object]) -> dict[str, str]:
    """Query params of a link that opens a page on exactly this view (see adopt_link)."""
    return {LINK: "link", **{k: str(v) for k, v in params.items() if v is not None}}


def adopt_link(keys: Iterable[str]) -> None:
    """Call first on a page a link may open: when the URL came from link_params, its values for
    `keys` replace what the session remembers (persist then parses and validates them from the URL,
    as for a pasted link), and the marker is dropped so later reruns keep the user's choices."""
    if st.query_params.get(LINK) is None:
        return
    for key in keys:
        if key in st.query_params:
            st.session_state.pop(key, None)
            st.session_state.pop(widget_key(key), None)
    del st.query_params[LINK]
