"""The alert payloads: data escaped (never markup), deep links the app's own, targets redacted."""

from __future__ import annotations

from email import message_from_bytes, policy

from dashboard.delivery import mail
from dashboard.delivery.retry import DeliveryError, with_retries
from dashboard.services import alert_delivery as ad

HOSTILE = {
    "week": "2026-W47", "kind": "unusual move", "severity": "high", "subject": "<b>Rev</b> & <!channel>",
    "subject_key": "metric:rev", "title": "Rev <script>alert(1)</script> -5%", "evidence": "a > b & c < d",
    "change": None, "metric": "rev", "model": None, "segment": None, "experiment": None,
    "link": "https://d.example.com/tree?via=link&node=rev", "link_label": "Metric tree",
}


def test_slack_text_escapes_data_and_keeps_the_link():
    text = ad.webhook_payload("2026-W47", [HOSTILE])["text"]
    assert "&lt;b&gt;Rev&lt;/b&gt; &amp; &lt;!channel&gt;" in text  # no @channel ping, no formatting
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "<https://d.example.com/tree?via=link&node=rev|Open in Metric tree>" in text


def test_the_structured_alerts_carry_the_raw_text():
    payload = ad.webhook_payload("2026-W47", [HOSTILE])
    assert payload["alerts"][0]["subject"] == HOSTILE["subject"]  # JSON is data: the receiver escapes
    assert payload["schema_version"] == 1 and set(payload) == {"text", "schema_version", "week", "alerts"}


def test_email_html_escapes_data():
    html = ad.email_html("2026-W47", [HOSTILE])
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Rev&lt;/b&gt; &amp; &lt;!channel&gt;" in html
    server = mail.SmtpServer("127.0.0.1", 25, sender="d@example.com")
    msg = mail.message(server, "a@example.com", "s", ad.email_text("2026-W47", [HOSTILE]), html)
    again = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert HOSTILE["title"] in again.get_body(("plain",)).get_content()


def test_page_paths_and_link_marker_are_the_apps():
    from dashboard.ui.app_pages import PAGES
    from dashboard.ui.state import link_params

    assert ad.PAGE_PATHS == {script: url for script, _, _, _, url in PAGES}
    params = {"thr.model": "m", "thr.focus": "device=android", "thr.week": "2026-W47"}
    link = ad.deep_link({"page": "thresholds.py", "params": params}, "https://x.example.com/")
    from urllib.parse import parse_qsl, urlsplit
    assert dict(parse_qsl(urlsplit(link).query)) == link_params(params)
    assert link.startswith("https://x.example.com/thresholds?")


def test_subject_keys_name_metric_experiment_and_model_slice():
    assert ad.subject_key({"metric": "ctr"}) == "metric:ctr"
    assert ad.subject_key({"experiment_id": "E1"}) == "experiment:E1"
    assert ad.subject_key({"model": "m", "segment_column": "device", "segment_value": "ios"}) == "model:m:device=ios"
    assert ad.subject_key({"model": "m", "segment_column": "", "segment_value": ""}) == "model:m:"


def test_targets_are_redacted_and_hashed():
    t = ad.Target("webhook", "https://hooks.slack.com/services/T0/B0/s3cr3t?token=x")
    assert t.shown == "https://hooks.slack.com/***" and "s3cr3t" not in repr(t)
    assert len(t.target_id) == 16 and t.target_id != ad.Target("webhook", "https://hooks.slack.com/other").target_id
    assert ad.Target("email", "a@example.com").shown == "a@example.com"


def test_select_by_kind_and_minimum_severity():
    recs = [dict(HOSTILE, severity=s, kind=k) for s, k in (("high", "unusual move"), ("medium", "score drift"))]
    assert len(ad.select(recs, None, "medium")) == 2
    assert [r["severity"] for r in ad.select(recs, None, "high")] == ["high"]
    assert [r["kind"] for r in ad.select(recs, ("score drift",), "low")] == ["score drift"]


def test_retries_are_bounded_with_doubling_backoff():
    waits, calls = [], []

    def fail():
        calls.append(1)
        raise DeliveryError("HTTP 503")

    out = with_retries(fail, retries=3, backoff=0.5, sleep=waits.append)
    assert (out.ok, out.attempts, out.cause) == (False, 4, "HTTP 503") and waits == [0.5, 1.0, 2.0]
    calls.clear()

    def permanent():
        calls.append(1)
        raise DeliveryError("HTTP 404", transient=False)

    assert with_retries(permanent, retries=3, backoff=0.5, sleep=waits.append).attempts == 1
    flaky = iter([DeliveryError("x"), None])

    def once():
        e = next(flaky)
        if e:
            raise e

    assert with_retries(once, retries=3, backoff=0, sleep=lambda s: None).attempts == 2


def test_undefined_numbers_are_null_in_the_payload():
    review = {"week": "2026-W47", "metrics": [{"metric": "m", "wow": None, "value": float("nan"), "previous": 1.0,
                                               "expected": float("inf"), "usual_low": None, "usual_high": None}],
              "alert_groups": [{"link": {"page": "weekly.py", "label": "Weekly review chart", "params": {"week": "x"}},
                                "alerts": [{"kind": "unusual move", "severity": "high", "subject": "M", "title": "t",
                                            "detail": "d", "metric": "m"}]}]}
    change = ad.alert_records(review)[0]["change"]
    assert change["this_week"] is None and change["expected"] is None and change["last_week"] == 1.0
    import json
    json.dumps(ad.webhook_payload("2026-W47", ad.alert_records(review)), allow_nan=False)
