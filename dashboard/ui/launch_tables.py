"""Tables of the Launch review and Metric tree pages as display-ready DataFrames (no Streamlit).

Every None becomes "n/a" here, so no NaN ever reaches the screen.
"""

from __future__ import annotations

import pandas as pd

from dashboard import format as fmt

from dashboard.ui.charts_tree import STATUS_WORDS, fmt_change, fmt_value, undeclared

# plain words (emoji need fonts a headless or locked-down browser may not have); colour comes from style()
STATUS_ICONS = {"better": "improving", "worse": "worsening", "inconclusive": "inconclusive",
                "n/a": "no test", "no data": "no data"}
GUARD_ICONS = {"pass": "pass", "at risk": "at risk", "breached": "BREACHED", "unknown": "unknown"}
_CELL = {"improving": "background-color: #e6f4ea; color: #1e5e22",
         "worsening": "background-color: #fdecea; color: #8c1d18",
         "pass": "background-color: #e6f4ea; color: #1e5e22",
         "BREACHED": "background-color: #fdecea; color: #8c1d18; font-weight: 600",
         "at risk": "background-color: #fef7e0; color: #7a4f01",
         "investigate": "background-color: #fef7e0; color: #7a4f01; font-weight: 600"}


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


def status_text(r: dict) -> str:
    """The scorecard's status word; harm seen but not confirmed reads "investigate"; a significant
    move of a metric the tree does not declare says which way it went, not whether that is good."""
    if r.get("harm") == "investigate":
        return "investigate · " + ("worse, not confirmed" if r["status"] == "worse" else "worse at raw p only")
    if undeclared(r):
        return ("rose" if (r.get("lift") or 0) > 0 else "fell") + " · direction not declared"
    return STATUS_ICONS.get(r["status"], r["status"])



def relative_interval_text(r: dict) -> str:
    """Fieller's interval; "not estimable" when it is unbounded (control mean not clearly non-zero)."""
    if r["relative_lift"] is not None and r["relative_ci_low"] is None and r.get("p_value") is not None:
        return "not estimable"
    text = _interval(r["relative_ci_low"], r["relative_ci_high"], pct=True)
    return text + (" · noisy control" if r.get("noisy_control") else "")


def noisy_controls(rows: list[dict]) -> list[str]:
    """Sentences for metrics whose control mean's standard error is over 10% of the mean."""
    return [f"{r['name']}: the control mean's standard error is {fmt.percent(r['control_relative_se'])} of "
            "the mean (over 10%), so its relative lift is uncertain: the interval is Fieller's, wide and "
            "asymmetric. Read the absolute lift." for r in rows
            if r.get("noisy_control") and r.get("control_relative_se") is not None]


def scorecard(rows: list[dict]) -> pd.DataFrame:
    """One line per metric: control, treatment, absolute and relative lift with intervals."""
    out = []
    for r in rows:
        unit = r.get("unit", "")
        out.append({
            "metric": ("★ " if r.get("primary") else "") + r["name"],
            "status": status_text(r),
            "relative lift": _pct(r["relative_lift"]),
            "relative CI": relative_interval_text(r),
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
        if any(x.get("cuped") for x in rows):
            out[-1] = _with_cuped(out[-1], r)
    return pd.DataFrame(out)


def decided(rows: list[dict]) -> list[dict]:
    """Rows with the CUPED numbers in place of the unadjusted ones where present: what the status,
    tree and decision use, for the lift chart."""
    keys = ("lift", "relative_lift", "ci_low", "ci_high", "relative_ci_low", "relative_ci_high", "p_value")
    return [r | {k: r["cuped"][k] for k in keys} if r.get("cuped") else r for r in rows]


def _with_cuped(line: dict, r: dict) -> dict:
    """The adjusted numbers (which decide the status) right after the unadjusted relative lift."""
    c = r.get("cuped") or {}
    adjusted = {
        "CUPED relative lift": _pct(c.get("relative_lift")) if c else "n/a",
        "CUPED relative CI": (_interval(c["relative_ci_low"], c["relative_ci_high"], pct=True)
                              if c and c.get("relative_ci_low") is not None else "n/a"),
        "CUPED p-value": _p(c.get("p_value")) if c else "n/a",
        "variance reduction": fmt.percent(c["variance_reduction"]) if c.get("variance_reduction") is not None
        else "n/a",
    }
    keys = list(line)
    at = keys.index("relative CI") + 1
    return {k: line[k] for k in keys[:at]} | adjusted | {k: line[k] for k in keys[at:]}


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
