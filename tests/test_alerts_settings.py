"""Alert settings: config file < environment < command line; ${NAME} from the environment; clear errors;
and the delivery log's writes are all or nothing."""

from __future__ import annotations

from datetime import datetime

import pytest

from dashboard.delivery.settings import SettingsError, load
from dashboard.store import deliveries
from dashboard.store.connection import connect

CONFIG = """
[alerts]
base_url = "https://dash.example.com"
webhooks = ["${HOOK}"]
email_to = ["team@example.com"]
smtp = "smtp.example.com:587"
smtp_password = "${PW}"
kinds = ["unusual move", "score drift"]
min_severity = "high"
retries = 4
"""


def test_config_file_with_environment_secrets(tmp_path):
    path = tmp_path / "alerts.toml"
    path.write_text(CONFIG)
    s = load(path, environ={"HOOK": "https://hooks.example.com/T/s3cr3t", "PW": "pw"})
    assert s.webhooks == ("https://hooks.example.com/T/s3cr3t",) and s.smtp_password == "pw"
    assert s.kinds == ("unusual move", "score drift") and s.min_severity == "high" and s.retries == 4
    server = s.smtp_server()
    assert (server.host, server.port, server.security) == ("smtp.example.com", 587, "starttls")
    assert "s3cr3t" not in repr(s) and "pw" not in repr(server).replace("smtp", "")


def test_yaml_and_the_config_environment_variable(tmp_path):
    path = tmp_path / "alerts.yaml"
    path.write_text("alerts:\n  webhooks: [https://a.example.com/x]\n  min_severity: medium\n")
    s = load(environ={"DASHBOARD_ALERTS_CONFIG": str(path)})
    assert s.webhooks == ("https://a.example.com/x",)


def test_environment_overrides_file_and_command_line_overrides_both(tmp_path):
    path = tmp_path / "alerts.toml"
    path.write_text(CONFIG)
    env = {"HOOK": "https://h.example.com/1", "PW": "pw",
           "DASHBOARD_ALERTS_WEBHOOKS": "https://e.example.com/1, https://e.example.com/2",
           "DASHBOARD_ALERTS_MIN_SEVERITY": "medium"}
    s = load(path, environ=env)
    assert s.webhooks == ("https://e.example.com/1", "https://e.example.com/2") and s.min_severity == "medium"
    s = load(path, {"webhooks": ["https://c.example.com/1"], "min_severity": None}, environ=env)
    assert s.webhooks == ("https://c.example.com/1",) and s.min_severity == "medium"


@pytest.mark.parametrize("text, env, message", [
    ("[alerts]\nwebhook = 'x'\n", {}, "unknown key(s) in [alerts]: webhook"),
    ("[engine]\nurl = 'duckdb'\n", {}, "expected an [alerts] section"),
    ("[alerts]\nwebhooks = ['${MISSING}']\n", {}, "${MISSING}, which is not set"),
    ("[alerts]\nkinds = ['drift']\n", {}, "alert kinds 'drift' unknown"),
    ("[alerts]\nmin_severity = 'urgent'\n", {}, "min_severity 'urgent'"),
    ("[alerts]\nretries = 'many'\n", {}, "retries = 'many': expected a number"),
    ("[alerts]\nemail_to = ['a@example.com']\n", {}, "no SMTP server"),
    ("[alerts\n", {}, "is not valid TOML"),
])
def test_bad_settings_are_named(tmp_path, text, env, message):
    path = tmp_path / "alerts.toml"
    path.write_text(text)
    with pytest.raises(SettingsError) as err:
        load(path, environ=env)
    assert message in str(err.value)


def _row(subject_key, delivered_at):
    return deliveries.Delivery("2026-W47", "unusual move", subject_key, "webhook", "abc", "https://h/***",
                               "s", "t", "high", delivered_at, 1)


def test_a_failed_write_records_none_of_the_message(tmp_path):
    con = connect(tmp_path / "x.duckdb")
    try:
        with pytest.raises(Exception):
            deliveries.record(con, [_row("metric:a", datetime(2026, 12, 1)), _row("metric:b", "not a time")])
        assert deliveries.delivered_keys(con, ["2026-W47"]) == set()
        deliveries.record(con, [_row("metric:a", datetime(2026, 12, 1))])
        deliveries.record(con, [_row("metric:a", datetime(2026, 12, 2))])  # a re-send updates
        assert [d["delivered_at"] for d in deliveries.for_week(con, "2026-W47")] == [datetime(2026, 12, 2)]
    finally:
        con.close()
