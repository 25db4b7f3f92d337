"""Tables of the Launch review and Metric tree pages as display-ready DataFrames (no Streamlit).

Every None becomes "n/a" here, so no NaN ever reaches the screen.
"""

from __future__ import annotations

import pandas as pd

from dashboard import format as fmt

from dashboard.ui.charts_tree import STATUS_WORDS, fmt_change, fmt_value

# plain words (emoji need fonts a headless or locked-down browser may not have); colour comes from style()
STATUS_ICONS = {"better": "improving", "worse": "worsening", "inconclusive": "inconclusive",
                "n/a": "no test", "no data": "no data"}
GUARD_ICONS = {"pass": "pass", "at risk": "at risk", "breached": "BREACHED", "unknown": "unknown"}
_CELL = {"improving": "background-color: #e6f4ea; color: #1e5e22",
         "worsening": "background-color: #fdecea; color: #8c1d18",
         "pass": "background-color: #e6f4ea; color: #1e5e22",
         "BREACHED": "background-color: #fdecea; color: #8c1d18; font-weight: 600",
         "at risk": "background-color: #fef7e0; color: #7a4f01"}


def style(frame: pd.DataFrame):
    """Colour status and guardrail cells (a pandas Styler st.dataframe can show)."""
    def cell(value: object) -> str:
        text = str(value)
        return next((css for key, css in _CELL.items() if text == key or text.startswith(key + " ·")), "")

    cols = [c for c in ("status", "guardrail") if c in frame.columns]
    return frame.style.map(cell, subset=cols) if cols else frame.style


_p = fmt.p_value
_pct = fmt.change
fmt_delta = fmt.delta


def _interval(lo: float | None, hi: float | None, pct: bool) -> str:
    return fmt.interval(lo, hi, fmt.change if pct else fmt.number)


def scorecard(rows: list[dict]) -> pd.DataFrame:
    """One line per metric: control, treatment, absolute and relative lift with intervals."""
    out = []
    for r in rows:
        unit = r.get("unit", "")
        out.append({
            "metric": ("★ " if r.get("primary") else "") + r["name"],
            "status": STATUS_ICONS.get(r["status"], r["status"]),
            "relative lift": _pct(r["relative_lift"]),
            "relative CI": _interval(r["relative_ci_low"], r["relative_ci_high"], pct=True),
            "control": fmt_value(r["control_mean"], unit),
            "treatment": fmt_value(r["treatment_mean"], unit),
            "lift": fmt_delta(r["lift"], unit),
            "lift CI": fmt.interval(r["ci_low"], r["ci_high"], lambda v, u=unit: fmt.delta(v, u)),
            "p-value": _p(r["p_value"]),
            "q-value (BH)": "primary" if r.get("primary") else _p(r.get("q_value")),
            "guardrail": (GUARD_ICONS.get(r["guardrail_status"], "") + " · " + r["guardrail"])
            if r.get("guardrail") else "",
            "level": r["level"],
            "better when": r["direction"],
            "users (C / T)": f"{fmt.count(r['n_control'])} / {fmt.count(r['n_treatment'])}",
            "note": r.get("note", ""),
        })
    return pd.DataFrame(out)


def offline_table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{
        "metric": r["name"], "offline metric": r["metric"], "better when": r["direction"],
        "control model": fmt.score(r["control_value"], 4), "treatment model": fmt.score(r["treatment_value"], 4),
        "change": fmt.delta(r["change"]), "relative change": _pct(r["relative_change"]),
        "status": STATUS_ICONS.get(r["status"], r["status"]),
    } for r in rows])


def node_table(nodes: list[dict], compact: bool = False) -> pd.DataFrame:
    if compact:
        return node_table(nodes)[["node", "status", "change [CI]", "value"]]
    return pd.DataFrame([{
        "node": n["name"], "level": n["level"], "better when": n["direction"],
        "value": fmt_value(n.get("value"), n.get("unit", "")) if n["status"] != "no data" else "n/a",
        "change [CI]": fmt_change(n) if n["status"] != "no data" else "n/a",
        "p-value": _p(n.get("p_value")),
        "status": STATUS_ICONS.get(n["status"], STATUS_WORDS.get(n["status"], n["status"])),
        "from": n.get("source") or "",
    } for n in nodes])
