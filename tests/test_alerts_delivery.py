"""`python -m dashboard alerts`: the demo week's alerts reach a local webhook and a local SMTP server
exactly once, failures leave them undelivered with a non-zero exit, secrets never show."""

from __future__ import annotations

import shutil
from urllib.parse import parse_qsl, urlsplit

import duckdb
import pytest

from dashboard.cli import main
from dashboard.services import weekly as weekly_svc
from dashboard.store.connection import connect
from tests.receivers import SmtpSink, WebhookReceiver, closed_port

WEEK = "2026-W47"  # the week the demo's Weekly review opens on
SECRET = "T000-B111-tok3n-do-not-leak"
PASSWORD = "smtp-pa55word-do-not-leak"


@pytest.fixture
def db(demo_db, tmp_path, monkeypatch):
    """A private copy of the demo database (deliveries write to it)."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, path)
    for name in ("CONFIG", "WEBHOOKS", "EMAIL_TO", "SMTP", "BASE_URL", "SMTP_PASSWORD", "SMTP_USER"):
        monkeypatch.delenv(f"DASHBOARD_ALERTS_{name}", raising=False)
    monkeypatch.setenv("DASHBOARD_ALERTS_BACKOFF", "0.01")
    monkeypatch.setenv("DASHBOARD_ALERTS_TIMEOUT", "2")
    return path


@pytest.fixture(scope="module")
def expected(demo_db):
    """The Weekly review's own alerts of the week: (kind, subject) in its order."""
    con = connect(demo_db, read_only=True)
    try:
        review = weekly_svc.week_review(con, WEEK)
    finally:
        con.close()
    return review


@pytest.fixture(scope="module")
def n(expected) -> int:
    """How many alerts the week has (6 subjects; model quality alerts depend on its statistics)."""
    return sum(len(g["alerts"]) for g in expected["alert_groups"])


def _alerts(cli, db, *args):
    rc = main(["alerts", "--db", str(db), *args])
    out, err = cli.readouterr()
    return rc, out, err


def _logged(db) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT * FROM alert_deliveries ORDER BY ALL").fetchall()
    finally:
        con.close()


def _pairs(review) -> list[tuple[str, str]]:
    return [(a["kind"], a["subject"]) for g in review["alert_groups"] for a in g["alerts"]]


def test_a_webhook_receives_the_weeks_alerts_once(db, n, expected, capsys):
    with WebhookReceiver() as hook:
        url = hook.url(f"/services/{SECRET}")
        rc, out, err = _alerts(capsys, db, "--webhook", url, "--base-url", "https://dash.example.com")
        assert rc == 0, err
        assert len(hook.requests) == 1
        body = hook.requests[0]["body"]
        assert [(a["kind"], a["subject"]) for a in body["alerts"]] == _pairs(expected)
        assert len(body["alerts"]) == n >= 6 and body["week"] == WEEK
        retention = next(a for a in body["alerts"] if a["metric"] == "retention_7d")
        assert retention["kind"] == "unusual move" and retention["change"]["value"] < -0.03
        link = urlsplit(retention["link"])
        assert (link.scheme, link.netloc, link.path) == ("https", "dash.example.com", "/tree")
        group = next(g for g in expected["alert_groups"] if g["alerts"][0].get("metric") == "retention_7d")
        assert dict(parse_qsl(link.query)) == {"via": "link", **group["link"]["params"]}
        assert body["text"].startswith(f"*Weekly review {WEEK}: {n} new alerts*")
        assert "7-day retention -3.8% week over week" in body["text"]
        assert f"sent {n} alert(s) of {WEEK} to webhook" in out

        rc, out, err = _alerts(capsys, db, "--webhook", url)  # nothing new: nothing sent
        assert rc == 0 and len(hook.requests) == 1
        assert "nothing new" in out

        rc, out, err = _alerts(capsys, db, "--webhook", url, "--force")
        assert rc == 0 and len(hook.requests) == 2
        assert len(hook.requests[1]["body"]["alerts"]) == n
    rows = _logged(db)
    assert len(rows) == n  # --force updated the rows, did not add
    assert {r[0] for r in rows} == {WEEK} and {r[3] for r in rows} == {"webhook"}
    for text in (out, err, repr(rows), db.read_bytes().decode("latin-1")):
        assert SECRET not in text


def test_a_receiver_answering_500_leaves_the_alerts_undelivered(db, n, capsys):
    with WebhookReceiver(status=500) as hook:
        url = hook.url(f"/hook/{SECRET}")
        rc, out, err = _alerts(capsys, db, "--webhook", url)
        assert rc == 1
        assert len(hook.requests) == 3  # the first attempt and the 2 retries of the default setting
        assert "HTTP 500" in err and "not delivered" in err and "after 3 attempt(s)" in err
        assert SECRET not in out + err
        assert _logged(db) == []
        hook.status = 200  # the receiver recovers: the next run sends everything
        rc, out, err = _alerts(capsys, db, "--webhook", url)
        assert rc == 0 and len(hook.requests[-1]["body"]["alerts"]) == n
    assert len(_logged(db)) == n


def test_a_client_error_is_not_retried(db, capsys):
    with WebhookReceiver(status=404) as hook:
        rc, out, err = _alerts(capsys, db, "--webhook", hook.url(f"/gone/{SECRET}"))
    assert rc == 1 and len(hook.requests) == 1 and "HTTP 404" in err
    assert _logged(db) == []


def test_a_refused_connection_fails_with_its_cause(db, capsys):
    rc, out, err = _alerts(capsys, db, "--webhook", f"http://127.0.0.1:{closed_port()}/x/{SECRET}")
    assert rc == 1 and "connection refused" in err and SECRET not in out + err
    assert _logged(db) == []


def test_a_timeout_fails_with_its_cause(db, capsys, monkeypatch):
    monkeypatch.setenv("DASHBOARD_ALERTS_TIMEOUT", "0.2")
    monkeypatch.setenv("DASHBOARD_ALERTS_RETRIES", "0")
    with WebhookReceiver(delay=1.0) as hook:
        rc, out, err = _alerts(capsys, db, "--webhook", hook.url("/slow"))
    assert rc == 1 and "timed out" in err and _logged(db) == []


def test_one_failing_target_does_not_stop_another(db, n, capsys):
    with WebhookReceiver() as good, WebhookReceiver(status=503) as bad:
        rc, out, err = _alerts(capsys, db, "--webhook", good.url("/a"), "--webhook", bad.url("/b"))
    assert rc == 1 and len(good.requests) == 1 and "HTTP 503" in err
    assert len(_logged(db)) == n  # the good target's only


def test_dry_run_sends_and_records_nothing(db, n, capsys):
    with WebhookReceiver() as hook:
        rc, out, err = _alerts(capsys, db, "--webhook", hook.url(f"/h/{SECRET}"), "--dry-run")
        assert rc == 0 and hook.requests == []
    assert f"would send {n} alert(s) of 2026-W47 to webhook" in out and "7-day retention" in out
    assert SECRET not in out + err
    assert _logged(db) == []


def test_email_lists_the_weeks_new_alerts_once(db, n, expected, capsys, monkeypatch):
    monkeypatch.setenv("DASHBOARD_ALERTS_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("DASHBOARD_ALERTS_SMTP_SECURITY", "none")  # the sink has no TLS; a real server would
    monkeypatch.setenv("DASHBOARD_ALERTS_SMTP_USER", "")
    with SmtpSink() as sink:
        rc, out, err = _alerts(capsys, db, "--email", "team@example.com", "--smtp", sink.address,
                               "--base-url", "http://dash.local:8501")
        assert rc == 0, err
        assert len(sink.messages) == 1
        _, rcpt, msg = sink.messages[0]
        assert rcpt == ["<team@example.com>"] and msg["Subject"] == f"Weekly review {WEEK}: {n} new alerts"
        text = msg.get_body(("plain",)).get_content()
        for kind, subject in _pairs(expected):
            assert f"{subject} ({kind})" in text
        assert "7-day retention -3.8% week over week" in text
        assert "http://dash.local:8501/tree?via=link" in text
        assert "<li><b>7-day retention</b>" in msg.get_body(("html",)).get_content()
        rc, out, err = _alerts(capsys, db, "--email", "team@example.com", "--smtp", sink.address)
        assert rc == 0 and len(sink.messages) == 1 and "nothing new" in out
    assert PASSWORD not in out + err + repr(_logged(db))


def test_an_smtp_failure_leaves_the_alerts_undelivered(db, capsys):
    with SmtpSink(reply_to_data=b"451 try again later") as sink:
        rc, out, err = _alerts(capsys, db, "--email", "team@example.com", "--smtp", sink.address)
    assert rc == 1 and "451 try again later" in err and "after 3 attempt(s)" in err
    assert _logged(db) == []
    rc, out, err = _alerts(capsys, db, "--email", "team@example.com", "--smtp", f"127.0.0.1:{closed_port()}")
    assert rc == 1 and "connection refused" in err and _logged(db) == []


def test_webhook_and_email_are_deduplicated_separately(db, n, capsys):
    with WebhookReceiver() as hook, SmtpSink() as sink:
        assert _alerts(capsys, db, "--webhook", hook.url("/a"))[0] == 0
        rc, out, err = _alerts(capsys, db, "--webhook", hook.url("/a"), "--email", "a@example.com",
                               "--smtp", sink.address)
        assert rc == 0 and len(hook.requests) == 1 and len(sink.messages) == 1
    assert sorted({r[3] for r in _logged(db)}) == ["email", "webhook"] and len(_logged(db)) == 2 * n


def test_since_sends_each_week_oldest_first(db, capsys):
    with WebhookReceiver() as hook:
        rc, out, err = _alerts(capsys, db, "--webhook", hook.url("/a"), "--since", "2026-11-10")
        assert rc == 0, err
        assert [r["body"]["week"] for r in hook.requests] == ["2026-W46", WEEK]
        rc, out, err = _alerts(capsys, db, "--webhook", hook.url("/a"), "--week", "2026-W46")
        assert len(hook.requests) == 2  # W46 went out with --since


def test_kind_and_severity_filters(db, capsys):
    with WebhookReceiver() as hook:
        rc, out, err = _alerts(capsys, db, "--webhook", hook.url("/a"), "--kind", "score drift")
        assert rc == 0 and [a["kind"] for a in hook.requests[0]["body"]["alerts"]] == ["score drift"]
        rc, out, err = _alerts(capsys, db, "--webhook", hook.url("/a"), "--kind", "unusual move")
        assert [a["kind"] for a in hook.requests[1]["body"]["alerts"]] == ["unusual move"] * 3


@pytest.mark.parametrize("args, message", [
    ([], "nothing to send to"),
    (["--email", "a@example.com"], "no SMTP server"),
    (["--webhook", "file:///etc/passwd"], "http:// or https://"),
    (["--webhook", "http://127.0.0.1:1/a", "--week", "2026-W99"], "2026-W99"),
    (["--webhook", "http://127.0.0.1:1/a", "--since", "yesterday"], "--since 'yesterday'"),
    (["--email", "a@example.com", "--smtp", "nohostport"], "HOST:PORT"),
])
def test_bad_arguments_exit_2_naming_the_problem(db, capsys, args, message):
    rc, out, err = _alerts(capsys, db, *args)
    assert rc == 2 and message in err


def test_a_database_locked_by_a_load_is_waited_for_then_reported(db, capsys, monkeypatch):
    import subprocess
    import sys
    import time

    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('held', flush=True); time.sleep(30)", str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setenv("DASHBOARD_WRITE_WAIT_SECONDS", "0.5")
        start = time.monotonic()
        rc, out, err = _alerts(capsys, db, "--webhook", "http://127.0.0.1:1/a")
        assert rc == 4 and "still in use by another process" in err and "nothing was sent" in err
        assert time.monotonic() - start >= 0.5
    finally:
        holder.kill()
        holder.wait()


def test_an_address_with_a_line_break_is_refused(db, capsys):
    rc, out, err = _alerts(capsys, db, "--email", "a@example.com\nBcc: everyone@example.com", "--smtp", "127.0.0.1:25")
    assert rc == 2 and "expected name@domain" in err


def test_json_outcome(db, n, capsys):
    import json

    with WebhookReceiver(status=502) as hook:
        rc, out, err = _alerts(capsys, db, "--webhook", hook.url(f"/h/{SECRET}"), "--json")
    result = json.loads(out)
    assert rc == 1 and result["weeks"] == [WEEK] and result["alerts"] == n
    (d,) = result["deliveries"]
    assert d["status"] == "failed" and d["attempts"] == 3 and "HTTP 502" in d["cause"]
    assert d["target"].endswith("/***") and len(d["target_id"]) == 16 and SECRET not in out


def test_the_real_command_keeps_the_secret_out_of_its_output(db):
    """As cron runs it: a separate process, secrets in the environment, output captured whole."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    env = dict(os.environ, DASHBOARD_ALERTS_WEBHOOKS=f"http://127.0.0.1:{closed_port()}/services/{SECRET}",
               DASHBOARD_ALERTS_SMTP_PASSWORD=PASSWORD, DASHBOARD_ALERTS_RETRIES="1")
    done = subprocess.run([sys.executable, "-m", "dashboard", "alerts", "--db", str(db)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "connection refused" in done.stderr and "after 2 attempt(s)" in done.stderr
    assert SECRET not in done.stdout + done.stderr and PASSWORD not in done.stdout + done.stderr
    assert _logged(db) == []
