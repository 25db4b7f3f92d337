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

from dashboard.format import change
from dashboard.metrics import auc_change
from dashboard.metrics import week_verdict as wv
from dashboard.metrics import weekly as wk
from dashboard.services import tree as tree_svc
from dashboard.services import week_verdicts as verdicts
from dashboard.services import weekly_alerts
from dashboard.services.experiments import experiment_report
from dashboard.services.weekly_models import DriftBaseline, auc_by_period, model_alerts, quality_slices_judged
from dashboard.store import catalog
from dashboard.store.sqlutil import ident

SPARK_WEEKS = 12
PROXY_LOOKBACK_WEEKS = 8

available_weeks = verdicts.available_weeks


def _metric_rows(tree, starts, series) -> list[dict]:
    i = len(starts) - 1
    nodes = {n.data.daily: n for n in (tree.nodes if tree else ()) if n.data.daily}
    rows = []
    for metric, values in series.items():
        node = nodes.get(metric)
        sign = node.sign if node else 0
        c = wk.week_change(values, i)
        v = wv.period_verdict(values, i, 1, sign)
        spark = values[-SPARK_WEEKS:]
        rows.append({
            "metric": metric, "name": node.name if node else metric, "level": node.level if node else "other",
            "unit": node.unit if node else "",
            "direction": {1: "higher", -1: "lower"}.get(sign, "not stated"),
            "value": c.value, "previous": c.previous, "wow": c.wow, "year_ago": c.year_ago, "yoy": c.yoy,
            "status": v.verdict, "alert": v.alert, "expected": v.expected, "usual_low": v.usual_low,
            "usual_high": v.usual_high, "score": v.score, "p_value": v.p_value, "baseline": v.baseline,
            "history_weeks": v.reference,
            "sparkline": [None if not np.isfinite(x) else float(x) for x in spark],
            "sparkline_weeks": [wk.week_label(d) for d in starts[-SPARK_WEEKS:]],
        })
    rows.sort(key=lambda r: (r["p_value"] is None, r["p_value"] or 0, -abs(r["wow"] or 0)))
    return rows


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
            name = (r.get("experiment") or {}).get("name") or ""
            out.append({"kind": "proxy broke", "severity": "high", "title": f"{eid}: offline win, business loss",
                        "detail": detail, "experiment_id": eid, "subject": f"{eid} · {name}".rstrip(" ·")})
    return out


def _metric_alerts(rows: list[dict]) -> list[dict]:
    """An unusual move: the week's change beyond the alert threshold in the metric's bad direction
    (a directionless metric: either way). Experiment guardrails are not applied to weekly moves:
    they bound a launch's effect, not a week's."""
    out = []
    for r in rows:
        if not r["alert"]:
            continue
        out.append({"kind": "unusual move", "severity": "high",
                    "title": f"{r['name']} {r['wow']:+.1%} week over week",
                    "detail": f"Expected {change(r['expected'])} ({r['baseline']}); a usual week moves "
                              f"{change(r['usual_low'])} to {change(r['usual_high'])}. A move this far "
                              f"{'in its bad direction ' if r['direction'] != 'not stated' else ''}comes "
                              f"by chance in fewer than {wv.ALERT_ALPHA:.0%} of weeks (t = {r['score']:+.1f} "
                              f"over {r['history_weeks']} past weeks).",
                    "metric": r["metric"], "subject": r["name"]})
    return out


def _expected_false(con, rows: list[dict], start: date, end: date, aucs: dict | None = None) -> dict[str, float]:
    """Chance readings a week: the metrics' verdicts and alerts, and "AUC fell" over the judged
    model segments (one-sided 1% each, benchmarks/calib/model_quality.py)."""
    judged = quality_slices_judged(con, start, end, aucs)
    return {**wv.expected_false(len(rows)), "model_alerts": judged * auc_change.ALERT_ALPHA,
            "model_slices": judged}


def week_headline(con: duckdb.DuckDBPyConnection, week: str | None = None) -> dict:
    """The week and its metric rows (values, changes, verdicts), exactly as week_review has them: what
    Home and the Weekly review show first (~0.1 s on the demo, where the whole review takes seconds)."""
    return _headline(con, week)[0]


def _headline(con, week: str | None) -> tuple[dict, tree_svc.TreeLoad]:
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
    starts, series = verdicts.weekly_values(con, end, verdicts.history_weeks(1))
    head = {"week": week, "start": start, "end": end, "previous_week": wk.week_label(start - timedelta(days=7)),
            "title": f"Weekly metric review {week} ({start:%d %b} – {end:%d %b %Y})",
            "metrics": _metric_rows(loaded.tree, starts, series)}
    return head, loaded


def week_review(con: duckdb.DuckDBPyConnection, week: str | None = None,
                drift_baseline: DriftBaseline | None = None) -> dict:
    head, loaded = _headline(con, week)
    week, start, end, rows = head["week"], head["start"], head["end"], head["metrics"]
    # the AUCs by period, read once from the bins for the alerts and the count of judged slices
    aucs = auc_by_period(con, start, end) if catalog.table_exists(con, "prediction_bins") else {}
    alerts = _metric_alerts(rows) + _proxy_alerts(con, end) + model_alerts(con, start, end, drift_baseline, aucs)
    decisions = _decisions(con, start, end)
    node_ids = {n.data.daily: n.id for n in (loaded.tree.nodes if loaded.tree else ()) if n.data.daily}
    groups, pending = weekly_alerts.group_alerts(alerts, decisions, node_ids, week, start, end)
    for g in groups:
        for a in g["alerts"]:
            a["link"] = g["link"]
    return {
        **head, "alerts": alerts, "alert_groups": groups, "expected_false": _expected_false(con, rows, start, end, aucs),
        "annotations": _annotations(con, start - timedelta(days=7 * (SPARK_WEEKS - 1)), end),
        "decisions": decisions, "pending_decisions": pending,
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
    parser.add_argument("--drift-baseline", default=None, metavar="FROM:TO",
                        help="fixed reference of score drift, e.g. 2026-09-28:2026-10-25 "
                             "(default: each model's first 4 weeks)")


def parse_baseline(text: str | None) -> DriftBaseline | None:
    """'2026-09-28:2026-10-25' -> DriftBaseline; ValueError naming the expected form."""
    if not text:
        return None
    try:
        lo, hi = (date.fromisoformat(x.strip()) for x in text.split(":"))
    except ValueError:
        raise ValueError(f"--drift-baseline {text!r} should look like 2026-09-28:2026-10-25 (FROM:TO dates)") from None
    if hi < lo:
        raise ValueError(f"--drift-baseline {text!r}: TO is before FROM")
    return DriftBaseline(lo, hi)


def report(con: duckdb.DuckDBPyConnection, args: argparse.Namespace) -> dict:
    review = week_review(con, args.week, parse_baseline(getattr(args, "drift_baseline", None)))
    if args.out is not None:
        from dashboard.export.weekly import write_reports

        review["files"] = {k: str(v) for k, v in write_reports(review, args.out).items()}
    review.pop("daily")
    return review
