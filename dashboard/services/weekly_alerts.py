"""Alerts of the weekly review grouped by subject (a metric, an experiment, a model in a segment),
near-duplicates merged (an experiment's broken proxy and its pending decision are one item), each
group with one link whose URL carries the whole context (metric, model, segment, experiment, week)
and opens the page on exactly that subject.

A link is {"page": script in pages/, "label": page title, "params": {query param: value}}; the
params are the target page's own state keys (see dashboard.ui.state), so the page shows the view.
"""

from __future__ import annotations

from datetime import date

from dashboard.services.thresholds_drift import link_params as drift_link_params

SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}


def metric_link(metric: str, week: str, node_id: str | None) -> dict:
    """Metric tree over the reviewed week on the metric's node; a metric outside the tree opens
    the weekly review's own chart of it."""
    if node_id is None:
        return {"page": "weekly.py", "label": "Weekly review chart", "params": {"week": week, "week.metric": metric}}
    return {"page": "metric_tree.py", "label": "Metric tree",
            "params": {"mode": "period", "days": "7", "week": week, "node": node_id}}


def experiment_link(experiment_id: str) -> dict:
    return {"page": "launch_review.py", "label": "Launch review", "params": {"exp": experiment_id}}


def model_link(model: str, column: str, value: str, start: date, end: date, week: str, drift: bool) -> dict:
    """Score drift: the Thresholds drift view on the model, segment and week; model quality: the
    threshold view on the model, only the segment, over the reviewed week's dates."""
    if drift:
        return {"page": "thresholds.py", "label": "Thresholds score drift",
                "params": drift_link_params(model, column, value, week)}
    params = {"thr.model": model, "thr.by": column, "thr.focus": f"{column}={value}" if column else "",
              "thr.from": start.isoformat(), "thr.to": end.isoformat(), "thr.view": "threshold"}
    return {"page": "thresholds.py", "label": "Thresholds", "params": params}


def _subject(alert: dict, node_ids: dict[str, str], week: str, start: date, end: date,
             drifted: set[tuple]) -> tuple[tuple, str, dict]:
    if alert.get("metric"):
        return (("metric", alert["metric"]), alert["subject"],
                metric_link(alert["metric"], week, node_ids.get(alert["metric"])))
    if alert.get("experiment_id"):
        eid = alert["experiment_id"]
        return ("experiment", eid), alert["subject"], experiment_link(eid)
    key = ("model", alert["model"], alert.get("segment_column", ""), alert.get("segment_value", ""))
    return key, alert["subject"], model_link(*key[1:], start, end, week, key in drifted)


def group_alerts(alerts: list[dict], decisions: list[dict], node_ids: dict[str, str], week: str,
                 start: date, end: date) -> tuple[list[dict], list[dict]]:
    """(groups, decisions not merged into a group). A group: {subject, severity, alerts, link,
    decision (the experiment's pending decision, or None)}; most severe first, in alert order."""
    groups: dict[tuple, dict] = {}
    drifted = {("model", a["model"], a["segment_column"], a["segment_value"])
               for a in alerts if a["kind"] == "score drift"}  # drift and quality of one slice: the drift view
    for a in alerts:
        key, subject, link = _subject(a, node_ids, week, start, end, drifted)
        g = groups.setdefault(key, {"subject": subject, "severity": a["severity"], "alerts": [], "link": link,
                                    "decision": None})
        g["alerts"].append(a)
        if SEVERITY_RANK[a["severity"]] < SEVERITY_RANK[g["severity"]]:
            g["severity"] = a["severity"]
    pending = []
    for d in decisions:
        g = groups.get(("experiment", d["experiment_id"]))
        if g is None:
            pending.append(d)
        else:
            g["decision"] = d
    ordered = sorted(groups.values(), key=lambda g: SEVERITY_RANK[g["severity"]])
    return ordered, pending
