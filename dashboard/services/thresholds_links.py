"""Links into the Thresholds page (no imports: the Weekly review's alert code uses it too)."""

from __future__ import annotations

LINK_KEY = "thr.link"  # a link's identity: applied once over the session's state, then dropped


def drift_link(model: str, segment_column: str, segment_value: str, week: str) -> dict[str, str]:
    """URL parameters that open the Thresholds drift view on this model, segment and ISO week;
    for an alert: `st.page_link("pages/thresholds.py", query_params=drift_link(...))`."""
    focus = f"{segment_column}={segment_value}" if segment_column else ""
    return {"thr.model": model, "thr.focus": focus, "thr.view": "drift", "thr.week": week,
            LINK_KEY: f"drift|{model}|{focus}|{week}"}
