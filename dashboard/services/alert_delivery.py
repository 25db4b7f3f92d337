"""What `python -m dashboard alerts` sends: the Weekly review's own alerts (dashboard.services.weekly
.week_review, the calibrated ones, grouped with their deep links by weekly_alerts), turned into
records, filtered by kind and severity, de-duplicated against the delivery log, and rendered as a
webhook payload (Slack-compatible `text` plus a structured `alerts` list) or an email.

Pure functions on plain dicts, but for week_deliveries (one read of the delivery log, for the
Weekly review): no network (dashboard.delivery sends, dashboard.store.deliveries records). Alert
text is data: escaped for Slack's mrkdwn and for HTML.
"""

from __future__ import annotations

import hashlib
import html
import math
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from dashboard.services.weekly_alerts import SEVERITY_RANK
from dashboard.store import deliveries

KINDS = ("unusual move", "proxy broke", "score drift", "model quality")
# The app's URL path of each page script (dashboard.ui.app_pages.PAGES) and the marker
# dashboard.ui.state.link_params adds; tests pin both to the app's own values.
PAGE_PATHS = {"home.py": "home", "weekly.py": "weekly", "launch_review.py": "launch", "alignment.py": "alignment",
              "metric_tree.py": "tree", "thresholds.py": "thresholds", "ranking.py": "ranking", "data.py": "data"}
LINK_MARKER = ("via", "link")
SCHEMA_VERSION = 1


def deep_link(link: dict, base_url: str) -> str:
    """The dashboard URL opening the alert's view: base URL + page path + the link's own params (as
    state.link_params makes them). Without a base URL: the path alone, from the app's root."""
    query = urlencode({LINK_MARKER[0]: LINK_MARKER[1], **{k: str(v) for k, v in link["params"].items()
                                                          if v is not None}})
    return f"{base_url.rstrip('/')}/{PAGE_PATHS[link['page']]}?{query}"


def subject_key(alert: dict) -> str:
    """A stable name of the alert's subject: metric:M, experiment:E or model:M:column=value."""
    if alert.get("metric"):
        return f"metric:{alert['metric']}"
    if alert.get("experiment_id"):
        return f"experiment:{alert['experiment_id']}"
    segment = f"{alert['segment_column']}={alert['segment_value']}" if alert.get("segment_column") else ""
    return f"model:{alert['model']}:{segment}"


def _finite(change: dict | None) -> dict | None:
    """JSON has no NaN or Infinity: an undefined number is null."""
    if change is None:
        return None
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in change.items()}


def _change(alert: dict, rows: dict[str, dict]) -> dict | None:
    if alert["kind"] == "unusual move":
        r = rows.get(alert["metric"], {})
        return {"measure": "relative change week over week", "value": r.get("wow"), "this_week": r.get("value"),
                "last_week": r.get("previous"), "expected": r.get("expected"),
                "usual_low": r.get("usual_low"), "usual_high": r.get("usual_high")}
    if alert["kind"] == "score drift":
        return {"measure": "population stability index", "value": alert.get("size"),
                "against_last_week": alert.get("psi_last"), "against_baseline": alert.get("psi_baseline")}
    if alert["kind"] == "model quality":
        return {"measure": "ROC AUC drop", "value": alert.get("size")}
    return None  # a broken proxy: the evidence says it in words


def alert_records(review: dict, base_url: str = "") -> list[dict]:
    """One record per alert of the review, in the review's order (most severe subject first)."""
    rows = {r["metric"]: r for r in review["metrics"]}
    out = []
    for g in review["alert_groups"]:
        for a in g["alerts"]:
            segment = f"{a['segment_column']}={a['segment_value']}" if a.get("segment_column") else None
            out.append({
                "week": review["week"], "kind": a["kind"], "severity": a["severity"],
                "subject": a["subject"], "subject_key": subject_key(a), "title": a["title"],
                "evidence": a["detail"], "change": _finite(_change(a, rows)),
                "metric": a.get("metric"), "model": a.get("model"), "segment": segment,
                "experiment": a.get("experiment_id"),
                "link": deep_link(g["link"], base_url), "link_label": g["link"]["label"],
            })
    return out


def select(records: list[dict], kinds: tuple[str, ...] | None, min_severity: str) -> list[dict]:
    """Records of the wanted kinds at or above the minimum severity (high > medium > low)."""
    bar = SEVERITY_RANK[min_severity]
    return [r for r in records if (not kinds or r["kind"] in kinds) and SEVERITY_RANK[r["severity"]] <= bar]


# --- targets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where a message goes. `address` may hold a secret (a webhook URL's token): it is never in
    repr(), output or the log; `shown` and `target_id` are."""

    channel: str  # webhook | email
    address: str = field(repr=False)

    @property
    def target_id(self) -> str:
        return hashlib.sha256(f"{self.channel}\0{self.address}".encode()).hexdigest()[:16]

    @property
    def shown(self) -> str:
        return redact_webhook(self.address) if self.channel == "webhook" else self.address


def redact_webhook(url: str) -> str:
    """scheme://host[:port]/*** : a webhook's path and query carry its token."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/***"


def pending(records: list[dict], target: Target, delivered: set[tuple], force: bool) -> list[dict]:
    """The records this target has not received yet (all of them with force)."""
    if force:
        return list(records)
    return [r for r in records
            if (r["week"], r["kind"], r["subject_key"], target.channel, target.target_id) not in delivered]


# --- rendering -----------------------------------------------------------------------------


def _slack(text: str) -> str:
    """Slack mrkdwn treats &, < and > as control characters: data is escaped, never markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def headline(week: str, records: list[dict]) -> str:
    n = len(records)
    return f"Weekly review {week}: {n} new alert{'s' if n != 1 else ''}"


def webhook_payload(week: str, records: list[dict]) -> dict:
    lines = [f"*{_slack(headline(week, records))}*"]
    for r in records:
        link = f" <{r['link']}|Open in {_slack(r['link_label'])}>" if "://" in r["link"] else ""
        lines.append(f"• [{r['severity']}] *{_slack(r['subject'])}* ({_slack(r['kind'])}): "
                     f"{_slack(r['title'])}.{link}")
    fields = ("kind", "severity", "subject", "subject_key", "title", "evidence", "change", "metric", "model",
              "segment", "experiment", "link")
    return {"text": "\n".join(lines), "schema_version": SCHEMA_VERSION, "week": week,
            "alerts": [{k: r[k] for k in fields} for r in records]}


def email_text(week: str, records: list[dict]) -> str:
    out = [headline(week, records), ""]
    for r in records:
        out += [f"[{r['severity']}] {r['subject']} ({r['kind']})", f"  {r['title']}.", f"  {r['evidence']}",
                f"  Open: {r['link']}", ""]
    return "\n".join(out)


def email_html(week: str, records: list[dict]) -> str:
    e = html.escape
    items = "".join(
        f"<li><b>{e(r['subject'])}</b> <i>({e(r['kind'])}, {e(r['severity'])})</i>: {e(r['title'])}."
        f"<br>{e(r['evidence'])}<br><a href=\"{e(r['link'])}\">Open in {e(r['link_label'])}</a></li>"
        for r in records)
    return f"<html><body><h3>{e(headline(week, records))}</h3><ul>{items}</ul></body></html>"


def week_deliveries(con, week: str) -> dict[str, list[dict]]:
    """subject_key -> where the week's alerts on that subject were delivered: one entry per target,
    {channel, target (redacted), kinds, last (the latest delivery, UTC)}, in order of first delivery."""
    out: dict[str, dict[tuple, dict]] = {}
    for row in deliveries.for_week(con, week):
        entry = out.setdefault(row["subject_key"], {}).setdefault(
            (row["channel"], row["target"]), {"channel": row["channel"], "target": row["target"], "kinds": [],
                                              "last": row["delivered_at"]})
        if row["kind"] not in entry["kinds"]:
            entry["kinds"].append(row["kind"])
        entry["last"] = max(entry["last"], row["delivered_at"])
    return {k: list(v.values()) for k, v in out.items()}
