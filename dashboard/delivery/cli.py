"""Deliver the Weekly review's new alerts to webhooks and email (run after ingest / summarize).

Exit codes: 0 every new alert delivered (or nothing new); 1 a delivery failed after its retries
(those alerts stay undelivered and are tried again next run); 2 bad settings or arguments; 4 the
database stayed locked by a load for longer than the wait (DASHBOARD_WRITE_WAIT_SECONDS).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb

from dashboard.delivery import mail, webhook
from dashboard.delivery.retry import DeliveryError, Outcome, with_retries
from dashboard.delivery.settings import AlertSettings, SettingsError, load
from dashboard.metrics import weekly as wk
from dashboard.services import alert_delivery as ad
from dashboard.services import weekly as weekly_svc
from dashboard.store import deliveries
from dashboard.store.connection import WRITE_WAIT_ENV, StoreBusy, connect, connect_for_write, write_wait_seconds


def add_arguments(parser: argparse.ArgumentParser) -> None:
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--week", default=None, help="ISO week, e.g. 2026-W47 (default: the last complete one, "
                                                   "as Weekly review opens on)")
    when.add_argument("--since", default=None, metavar="DATE",
                      help="every complete week ending on or after DATE (YYYY-MM-DD), oldest first")
    parser.add_argument("--webhook", action="append", default=None, metavar="URL",
                        help="POST the alerts here as JSON (repeatable; replaces the configured webhooks). "
                             "The URL holds a token: prefer DASHBOARD_ALERTS_WEBHOOKS in the environment")
    parser.add_argument("--email", action="append", default=None, metavar="ADDRESS",
                        help="send one email listing the week's new alerts to ADDRESS (repeatable)")
    parser.add_argument("--smtp", default=None, metavar="HOST:PORT", help="SMTP server for --email")
    parser.add_argument("--base-url", default=None, help="the dashboard's address, for deep links")
    parser.add_argument("--kind", action="append", default=None, choices=ad.KINDS,
                        help="only alerts of this kind (repeatable; default: all)")
    parser.add_argument("--min-severity", default=None, choices=("high", "medium", "low"))
    parser.add_argument("--config", type=Path, default=None,
                        help="settings file (TOML/YAML, section [alerts]; default $DASHBOARD_ALERTS_CONFIG)")
    parser.add_argument("--dry-run", action="store_true", help="print what would be sent; send and record nothing")
    parser.add_argument("--force", action="store_true", help="send again alerts already delivered")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")


@dataclass
class Message:
    target: ad.Target
    week: str
    records: list[dict]
    outcome: Outcome | None = None

    def describe(self) -> dict:
        out = {"channel": self.target.channel, "target": self.target.shown, "target_id": self.target.target_id,
               "week": self.week, "alerts": [f"{r['kind']}: {r['subject']}" for r in self.records]}
        if self.outcome is not None:
            out.update(status="sent" if self.outcome.ok else "failed", attempts=self.outcome.attempts,
                       cause=self.outcome.cause or None)
        return out


def run(args: argparse.Namespace) -> int:
    try:
        settings = load(args.config, {
            "webhooks": args.webhook, "email_to": args.email, "smtp": args.smtp, "base_url": args.base_url,
            "kinds": args.kind, "min_severity": args.min_severity})
        targets = _targets(settings)
        if not targets and not args.dry_run:
            raise SettingsError("nothing to send to: give --webhook URL or --email ADDRESS --smtp HOST:PORT "
                                "(or configure them, see docs/alerts.md); --dry-run shows the alerts")
        weeks, records, delivered = _evaluate(Path(args.db), args.week, args.since, settings)
    except (SettingsError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except StoreBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 4
    messages = [Message(t, w, pending) for t in targets for w in weeks
                if (pending := ad.pending(records[w], t, delivered, args.force))]
    if args.dry_run:
        return _dry_run(args, settings, weeks, records, messages)
    failed = 0
    for m in messages:
        m.outcome = _deliver(m, settings)
        if m.outcome.ok:
            try:
                _record(Path(args.db), m)
            except StoreBusy as exc:
                m.outcome = Outcome(False, m.outcome.attempts, f"sent, but not recorded: {exc}")
        failed += not m.outcome.ok
    _report(args, weeks, records, targets, messages, settings)
    return 1 if failed else 0


def _targets(settings: AlertSettings) -> list[ad.Target]:
    for url in settings.webhooks:
        webhook.check_url(url)
    return ([ad.Target("webhook", u) for u in dict.fromkeys(settings.webhooks)]
            + [ad.Target("email", a) for a in dict.fromkeys(settings.email_to)])


def _weeks(con, week: str | None, since: str | None) -> list[str]:
    available = weekly_svc.available_weeks(con)
    if not available:
        raise ValueError("no daily metrics loaded: alerts come from the weekly review, which needs a `daily` file")
    if since is None:
        return [week or available[0]]
    try:
        first = date.fromisoformat(since)
    except ValueError:
        raise ValueError(f"--since {since!r} should be a date such as 2026-11-01") from None
    weeks = [w for w in reversed(available) if wk.week_start(w) + timedelta(days=6) >= first]
    if not weeks:
        raise ValueError(f"no complete week ends on or after {since} (the last is {available[0]})")
    return weeks


def _read_connection(db: Path):
    """Read-only, waiting (bounded, as a load does) while a load holds the file for its transaction."""
    deadline = time.monotonic() + write_wait_seconds()
    while True:
        try:
            return connect(db, read_only=True)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise StoreBusy(f"{db.name} is still in use by another process (a load?); nothing was sent. "
                                f"Try again when it is done, or wait longer with {WRITE_WAIT_ENV}.") from None
            time.sleep(0.1)


def _evaluate(db: Path, week, since, settings: AlertSettings):
    """(weeks, week -> selected alert records, delivered keys), on a read-only connection."""
    con = _read_connection(db)
    try:
        weeks = _weeks(con, week, since)
        records = {w: ad.select(ad.alert_records(weekly_svc.week_review(con, w), settings.base_url),
                                settings.kinds, settings.min_severity) for w in weeks}
        return weeks, records, deliveries.delivered_keys(con, weeks)
    finally:
        con.close()


def _deliver(m: Message, settings: AlertSettings) -> Outcome:
    if m.target.channel == "webhook":
        payload = ad.webhook_payload(m.week, m.records)

        def attempt():
            webhook.post(m.target.address, payload, settings.timeout)
    else:
        server = settings.smtp_server()
        msg = mail.message(server, m.target.address, ad.headline(m.week, m.records),
                           ad.email_text(m.week, m.records), ad.email_html(m.week, m.records))

        def attempt():
            mail.send(server, msg, settings.timeout)
    outcome = with_retries(attempt, settings.retries, settings.backoff)
    return Outcome(outcome.ok, outcome.attempts, _scrub(outcome.cause, settings))


def _scrub(text: str, settings: AlertSettings) -> str:
    """Belt and braces: no secret in a message even if a library put one there."""
    for secret in settings.secrets():
        text = text.replace(secret, "***")
    return text


def _record(db: Path, m: Message) -> None:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    rows = [deliveries.Delivery(m.week, r["kind"], r["subject_key"], m.target.channel, m.target.target_id,
                                m.target.shown, r["subject"], r["title"], r["severity"], now, m.outcome.attempts)
            for r in m.records]
    con = connect_for_write(db)
    try:
        deliveries.record(con, rows)
    finally:
        con.close()


def _dry_run(args, settings, weeks, records, messages) -> int:
    if args.json:
        out = {"dry_run": True, "weeks": weeks, "alerts": {w: records[w] for w in weeks},
               "would_send": [{**m.describe(), "payload": _preview(m)} for m in messages]}
        print(json.dumps(out, indent=2, default=str))
        return 0
    for w in weeks:
        print(f"{w}: {len(records[w])} alert(s) of the kinds and severity configured")
        for r in records[w]:
            print(f"  [{r['severity']}] {r['kind']}: {r['title']}  {r['link']}")
    if not messages:
        print("dry run: nothing new to send" + ("" if _targets(settings) else " (no webhook or email configured)"))
    for m in messages:
        print(f"dry run: would send {len(m.records)} alert(s) of {m.week} to {m.target.channel} {m.target.shown}")
        print("  " + _preview(m)["text"].replace("\n", "\n  ") if m.target.channel == "webhook"
              else "  " + ad.email_text(m.week, m.records).replace("\n", "\n  "))
    return 0


def _preview(m: Message) -> dict:
    if m.target.channel == "webhook":
        return ad.webhook_payload(m.week, m.records)
    return {"subject": ad.headline(m.week, m.records), "text": ad.email_text(m.week, m.records)}


def _report(args, weeks, records, targets, messages, settings) -> None:
    sent = {(m.target.target_id, m.week) for m in messages}
    quiet = [(t, w) for t in targets for w in weeks if (t.target_id, w) not in sent and records[w]]
    if args.json:
        print(json.dumps({"weeks": weeks, "alerts": sum(len(records[w]) for w in weeks),
                          "deliveries": [m.describe() for m in messages],
                          "already_delivered": [{"channel": t.channel, "target": t.shown, "week": w}
                                                for t, w in quiet]}, indent=2))
    else:
        for m in messages:
            o = m.outcome
            if o.ok:
                print(f"sent {len(m.records)} alert(s) of {m.week} to {m.target.channel} {m.target.shown}"
                      + (f" (after {o.attempts} attempts)" if o.attempts > 1 else ""))
        for t, w in quiet:
            print(f"nothing new for {t.channel} {t.shown} in {w}: its {len(records[w])} alert(s) were delivered "
                  "before (--force sends them again)")
        if not any(records[w] for w in weeks):
            print(f"no alerts in {', '.join(weeks)} of the kinds and severity configured")
    for m in messages:
        if not m.outcome.ok:
            print(f"error: {len(m.records)} alert(s) of {m.week} not delivered to {m.target.channel} "
                  f"{m.target.shown} after {m.outcome.attempts} attempt(s): {m.outcome.cause}. "
                  "They stay undelivered and are sent on the next run.", file=sys.stderr)
