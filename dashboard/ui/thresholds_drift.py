"""Thresholds page: the score-drift view (one model and segment, week by week), the target of the
Weekly review's drift alerts. URL: thr.view=drift, thr.week=2026-W47, thr.bfrom/thr.bto (baseline
window), with the page's thr.model and thr.focus (segment)."""

from __future__ import annotations

from datetime import date

import streamlit as st

from dashboard import format as fmt
from dashboard.metrics import weekly as wk
from dashboard.ui import state
from dashboard.ui.db import call
from dashboard.ui.text import md

VIEW_KEY, WEEK_KEY, BFROM_KEY, BTO_KEY = "thr.view", "thr.week", "thr.bfrom", "thr.bto"
VIEWS = {"threshold": "Operating threshold", "drift": "Score drift by week"}
URL_KEYS = ["thr.model", "thr.focus", VIEW_KEY, WEEK_KEY, BFROM_KEY, BTO_KEY]


def choose_view() -> str:
    view = state.persist(VIEW_KEY, "threshold", valid=lambda v: v in VIEWS)
    st.radio("View", list(VIEWS), format_func=VIEWS.get, horizontal=True, key=state.widget_key(VIEW_KEY),
             on_change=state.on_change(VIEW_KEY), label_visibility="collapsed")
    return view


def draw(model: str, segment_column: str, segment_value: str, threshold: float | None) -> None:
    # imported here: the page imports this module for choose_view on every run, and the drift
    # service (scipy.stats, through the weekly models) cost a cold server's first Thresholds visit
    # ~1-2 s before its headline
    from dashboard.services import thresholds_drift as drift_svc
    from dashboard.ui import charts_drift as charts

    where = f"{segment_column} = {segment_value}" if segment_column else "all traffic"
    st.subheader(md(f"Score drift of {model}, {where}"))  # model and segment names are data
    first = call(drift_svc.drift, model, segment_column, segment_value, None, threshold)
    if not first["available"]:
        st.info(md(f"No drift view: {first['reason']}."))
        state.sync_url(URL_KEYS)
        return
    if not first["weeks"]:
        st.info("No predictions of this model in this segment.")
        state.sync_url(URL_KEYS)
        return
    d0, d1 = first["first_day"], first["last_day"]
    b_default = first["baseline"]
    week = state.persist(WEEK_KEY, first["default_week"], valid=lambda v: v in first["weeks"])
    b_from = state.persist(BFROM_KEY, b_default[0], date.fromisoformat, valid=lambda v: _in(v, d0, d1))
    b_to = state.persist(BTO_KEY, b_default[1], date.fromisoformat, valid=lambda v: _in(v, d0, d1))
    cols = st.columns([2, 1, 1])
    if len(first["weeks"]) > 1:
        cols[0].select_slider("Week", first["weeks"], key=state.widget_key(WEEK_KEY), on_change=state.on_change(WEEK_KEY))
    cols[1].date_input("Baseline from", min_value=d0, max_value=d1, key=state.widget_key(BFROM_KEY),
                       on_change=state.on_change(BFROM_KEY))
    cols[2].date_input("Baseline to", min_value=d0, max_value=d1, key=state.widget_key(BTO_KEY),
                       on_change=state.on_change(BTO_KEY))
    state.sync_url(URL_KEYS)
    if b_to < b_from:
        st.warning("The baseline ends before it starts; showing the default baseline (the model's first 4 weeks).")
        b_from, b_to = b_default
    result = first if (b_from, b_to) == tuple(b_default) else call(
        drift_svc.drift, model, segment_column, segment_value, drift_svc.DriftBaseline(b_from, b_to), threshold)
    rows = result["rows"]
    k = result["weeks"].index(week)
    row = rows[k]
    _metrics(row, threshold, b_from, b_to)
    c1, c2 = st.columns(2)
    c1.vega_lite_chart(charts.psi_chart(rows, week), width="stretch")
    c2.vega_lite_chart(charts.groups_chart(groups_shares(result, k)), width="stretch")
    st.dataframe(_table(rows, threshold), hide_index=True, width="stretch")
    st.caption("PSI = Σ (a − e)·ln(a / e) over ten quantile groups of the reference's scores, taken on the "
               "10,000 score bins (the Weekly review's alerts use the same function): < 0.1 stable, 0.1-0.25 "
               "moderate, > 0.25 major. n/a: fewer than 500 predictions in the week or its reference, or no "
               "data the week before. Partial weeks at either end hold fewer days.")


def _in(v, lo, hi) -> bool:
    return isinstance(v, date) and lo <= v <= hi


def _psi_text(v: float | None) -> str:
    return "n/a" if v is None else f"{fmt.number(v, 3)} ({wk.psi_reading(v)})"


def _metrics(row: dict, threshold: float | None, b_from: date, b_to: date) -> None:
    m = st.columns(4)
    m[0].metric("PSI vs week before", "n/a" if row["psi_last"] is None else fmt.number(row["psi_last"], 3),
                help=_psi_text(row["psi_last"]))
    m[1].metric("PSI vs baseline", "n/a" if row["psi_baseline"] is None else fmt.number(row["psi_baseline"], 3),
                help=f"Baseline {b_from.isoformat()} to {b_to.isoformat()}: {_psi_text(row['psi_baseline'])}")
    m[2].metric("Predictions", fmt.count(row["rows"]), help=f"Scored in {row['week']}, labelled or not.")
    m[3].metric("Flagged" + ("" if threshold is None else f" at {threshold:.4f}"), fmt.percent(row["flagged_share"]),
                help="Share of the week's predictions at or above the threshold: drift moves the alert volume.")
    st.caption(f"{row['week']}: {_psi_text(row['psi_last'])} against the week before, "
               f"{_psi_text(row['psi_baseline'])} against the baseline ({b_from.isoformat()} to {b_to.isoformat()}).")


def groups_shares(result: dict, k: int) -> pd.DataFrame:
    """The groups chart's data: the baseline, the week before the chosen one (if any) and the chosen week."""
    from dashboard.ui.charts_drift import decile_shares

    series = [("baseline", "baseline", result["baseline_counts"])]
    if k > 0:
        series.append(("last", result["weeks"][k - 1], result["week_counts"][k - 1]))
    series.append(("this", result["weeks"][k], result["week_counts"][k]))
    return decile_shares(result["baseline_counts"], result["edges"], series)


def _table(rows: list[dict], threshold: float | None) -> pd.DataFrame:
    import pandas as pd

    flagged = "flagged" + ("" if threshold is None else f" at {threshold:.4f}")
    return pd.DataFrame([{
        "week": r["week"], "predictions": fmt.count(r["rows"]),
        "score p10": fmt.score(r["p10"], 4), "median": fmt.score(r["median"], 4), "p90": fmt.score(r["p90"], 4),
        flagged: fmt.percent(r["flagged_share"]),
        "PSI vs week before": _psi_text(r["psi_last"]), "PSI vs baseline": _psi_text(r["psi_baseline"]),
    } for r in reversed(rows)])


def current_threshold(model: str, declared: dict) -> float | None:
    """The slider's threshold if it belongs to this model, else its production threshold."""
    if st.session_state.get("thr.t_for") == model and st.session_state.get("thr.t") is not None:
        return float(st.session_state["thr.t"])
    return declared.get(model, {}).get("threshold")
