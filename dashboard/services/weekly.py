"""Weekly review: every tree metric's week, ordered by how unusual its change is, with the
week's launches and events, alerts, and the decisions waiting for the meeting.

Statistics in dashboard.metrics.weekly; model alerts in dashboard.services.weekly_models.
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np

from dashboard.metrics import weekly as wk
from dashboard.services import tree as tree_svc
from dashboard.services.experiments import experiment_report
from dashboard.services.weekly_models import model_alerts
from dashboard.store import catalog
from dashboard.store.sqlutil import ident

SPARK_WEEKS = 12
UNUSUAL_Z = 3.0  # robust z beyond which a bad move is an alert
NOTABLE_Z = 2.0
PROXY_LOOKBACK_WEEKS = 8


def available_weeks(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Complete ISO weeks of the daily series, newest first."""
    if not catalog.table_exists(con, "daily_metrics"):
        return []
    lo, hi = con.execute("SELECT min(date), max(date) FROM daily_metrics").fetchone()
    if lo is None:
        return []
    last = wk.week_start(wk.last_complete_week(hi))
    first = lo - timedelta(days=lo.weekday())
    out, d = [], last
    while d >= first:
        out.append(wk.week_label(d))
        d -= timedelta(days=7)
    return out


def _weekly_values(con, end: date, weeks: int) -> tuple[list[date], dict[str, np.ndarray]]:
    """Mean daily value per metric and ISO week, for `weeks` weeks up to the week ending `end`."""
    seg = catalog.segment_columns(con, "daily_metrics")
    overall = " AND ".join(f"{ident(c)} IS NULL" for c in seg) or "TRUE"
    start = end - timedelta(days=7 * weeks - 1)
    rows = con.execute(
        f"""SELECT metric, CAST(date_trunc('week', date) AS DATE) AS week, avg(value)
            FROM daily_metrics WHERE date BETWEEN ? AND ? AND {overall} GROUP BY ALL""",
        [start, end]).fetchall()
    starts = [start + timedelta(days=7 * i) for i in range(weeks)]
    index = {d: i for i, d in enumerate(starts)}
    out: dict[str, np.ndarray] = {}
    for metric, week, value in rows:
        out.setdefault(metric, np.full(weeks, np.nan))[index[week]] = value
    return starts, out


def _metric_rows(con, tree, starts, series) -> list[dict]:
    i = len(starts) - 1
    nodes = {n.data.daily: n for n in (tree.nodes if tree else ()) if n.data.daily}
    rows = []
    for metric, values in series.items():
        node = nodes.get(metric)
        sign = node.sign if node else 1
        c = wk.week_change(values, i)
        spark = values[-SPARK_WEEKS:]
        row = {
            "metric": metric, "name": node.name if node else metric, "level": node.level if node else "other",
            "unit": node.unit if node else "", "direction": "higher" if sign > 0 else "lower",
            "value": c.value, "previous": c.previous, "wow": c.wow, "year_ago": c.year_ago, "yoy": c.yoy,
            "z": c.z, "history_weeks": c.history,
            "status": _status(c, sign),
            "sparkline": [None if not np.isfinite(v) else float(v) for v in spark],
            "sparkline_weeks": [wk.week_label(d) for d in starts[-SPARK_WEEKS:]],
            "guardrail": _guardrail(node, c) if node else None,
        }
        rows.append(row)
    rows.sort(key=lambda r: (r["z"] is None, -abs(r["z"] or 0), -abs(r["wow"] or 0)))
    return rows


def _status(c: wk.WeekChange, sign: int) -> str:
    if c.wow is None:
        return "no data"
    if c.z is None or abs(c.z) < NOTABLE_Z:
        return "usual"
    return "better" if sign * c.wow > 0 else "worse"


def _guardrail(node, c: wk.WeekChange) -> dict | None:
    """A tree guardrail applied to the week's move (its bound is stated for a launch; a week
    that moves further than any launch may is worth the meeting's attention)."""
    g = node.guardrail
    if g is None or c.wow is None:
        return None
    worse_rel = -node.sign * c.wow
    worse_abs = -node.sign * (c.value - c.previous)
    breached = ((g.max_relative_change is not None and worse_rel > g.max_relative_change) or
                (g.max_absolute_change is not None and worse_abs > g.max_absolute_change))
    return {"rule": g.describe(node.direction), "breached": bool(breached)}


def _annotations(con, start: date, end: date) -> list[dict]:
    out = []
    if catalog.table_exists(con, "events"):
        out += [{"date": d, "title": t, "category": c or "event", "description": desc or ""}
                for d, t, c, desc in con.execute(
                    "SELECT date, title, category, description FROM events WHERE date BETWEEN ? AND ? ORDER BY date",
                    [start, end]).fetchall()]
    if catalog.table_exists(con, "experiments"):
        mentioned = " ".join(f"{a['title']} {a['description']}" for a in out)
        for eid, name, d in con.execute(
                "SELECT experiment_id, name, end_date FROM experiments WHERE decision = 'shipped' "
                "AND end_date BETWEEN ? AND ? ORDER BY end_date", [start, end]).fetchall():
            if eid not in mentioned:
                out.append({"date": d, "title": f"Launch: {name}", "category": "launch",
                            "description": f"{eid} shipped"})
    return sorted(out, key=lambda a: a["date"])


def _decisions(con, start: date, end: date) -> list[dict]:
    """Experiments that ended this week, and earlier ones still waiting for a decision."""
    if not catalog.table_exists(con, "experiments"):
        return []
    rows = con.execute(
        "SELECT experiment_id, name, end_date, decision FROM experiments "
        "WHERE (end_date BETWEEN ? AND ?) OR (decision IS NULL AND end_date <= ? AND end_date >= ?) "
        "ORDER BY end_date", [start, end, end, end - timedelta(days=7 * PROXY_LOOKBACK_WEEKS)]).fetchall()
    out = []
    for eid, name, ended, decision in rows:
        r = experiment_report(con, eid)
        out.append({"experiment_id": eid, "name": name, "end_date": ended, "decision": decision,
                    "status": "ended this week" if ended >= start else "awaiting a decision",
                    "recommendation": r["decision"], "headline": r["headline"], "reasons": r["reasons"],
                    "offline_online_trap": bool(r.get("offline_online_trap"))})
    return out


def _proxy_alerts(con, end: date) -> list[dict]:
    """Recent experiments where the offline model metric rose but the business metric did not."""
    if not catalog.table_exists(con, "experiments"):
        return []
    ids = [r[0] for r in con.execute(
        "SELECT experiment_id FROM experiments WHERE end_date BETWEEN ? AND ? ORDER BY end_date",
        [end - timedelta(days=7 * PROXY_LOOKBACK_WEEKS), end]).fetchall()]
    out = []
    for eid in ids:
        r = experiment_report(con, eid)
        if r.get("offline_online_trap"):
            detail = next((x for x in r["reasons"] if x.startswith("Offline-online trap")), r["headline"])
            out.append({"kind": "proxy broke", "severity": "high", "title": f"{eid}: offline win, business loss",
                        "detail": detail, "page": "alignment.py", "link_label": "Online vs offline"})
    return out


def _metric_alerts(rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        g = r["guardrail"]
        if g and g["breached"]:
            out.append({"kind": "guardrail", "severity": "high", "title": f"{r['name']} breached its guardrail",
                        "detail": f"{r['name']} moved {r['wow']:+.1%} week over week; its guardrail says it "
                                  f"{g['rule']}.", "page": "metric_tree.py", "link_label": "Metric tree"})
        if r["status"] == "worse" and abs(r["z"]) >= UNUSUAL_Z:
            out.append({"kind": "unusual move", "severity": "high",
                        "title": f"{r['name']} {r['wow']:+.1%} week over week",
                        "detail": f"{abs(r['z']):.1f}× its usual week-to-week variation (robust z over the last "
                                  f"{r['history_weeks']} weeks), in its bad direction.",
                        "page": "metric_tree.py", "link_label": "Metric tree"})
    return out


def week_review(con: duckdb.DuckDBPyConnection, week: str | None = None) -> dict:
    weeks = available_weeks(con)
    if not weeks:
        raise ValueError("no daily metrics loaded: the weekly review needs a `daily` file (date, metric, value)")
    week = week or weeks[0]
    if week not in weeks:
        wk.week_start(week)  # a malformed label gets its own message
        raise ValueError(f"week {week} is not a complete week of the daily data ({weeks[-1]} to {weeks[0]})")
    start = wk.week_start(week)
    end = start + timedelta(days=6)
    loaded = tree_svc.load(con)
    starts, series = _weekly_values(con, end, 53 + wk.HISTORY_WEEKS)
    rows = _metric_rows(con, loaded.tree, starts, series)
    alerts = _metric_alerts(rows) + _proxy_alerts(con, end) + model_alerts(con, start, end)
    return {
        "week": week, "start": start, "end": end, "previous_week": wk.week_label(start - timedelta(days=7)),
        "title": f"Weekly metric review {week} ({start:%d %b} – {end:%d %b %Y})",
        "metrics": rows, "alerts": alerts,
        "annotations": _annotations(con, start - timedelta(days=7 * (SPARK_WEEKS - 1)), end),
        "decisions": _decisions(con, start, end),
        "daily": _daily_window(con, [r["metric"] for r in rows], start - timedelta(days=7 * (SPARK_WEEKS - 1)), end),
    }


def _daily_window(con, metrics: list[str], start: date, end: date) -> dict[str, dict]:
    """Daily values of the last weeks (one point a day: a small table), for the annotated chart."""
    seg = catalog.segment_columns(con, "daily_metrics")
    overall = " AND ".join(f"{ident(c)} IS NULL" for c in seg) or "TRUE"
    out: dict[str, dict] = {m: {"date": [], "value": []} for m in metrics}
    for metric, d, v in con.execute(
            f"SELECT metric, date, avg(value) FROM daily_metrics WHERE date BETWEEN ? AND ? AND {overall} "
            "GROUP BY ALL ORDER BY metric, date", [start, end]).fetchall():
        if metric in out:
            out[metric]["date"].append(d)
            out[metric]["value"].append(float(v))
    return out


# --- command line --------------------------------------------------------------------------


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--week", default=None, help="ISO week, e.g. 2026-W47 (default: the last complete one)")
    parser.add_argument("--out", type=Path, default=None,
                        help="directory to write the week's HTML and PDF report into")


def report(con: duckdb.DuckDBPyConnection, args: argparse.Namespace) -> dict:
    review = week_review(con, args.week)
    if args.out is not None:
        from dashboard.export.weekly import write_reports

        review["files"] = {k: str(v) for k, v in write_reports(review, args.out).items()}
    review.pop("daily")
    return review
