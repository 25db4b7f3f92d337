"""`serve` warms from the server's start (ui/launch.py): once Streamlit's runtime exists, not before."""

from __future__ import annotations

import threading

import streamlit.runtime

from dashboard.ui import warm


def test_warming_starts_once_the_runtime_exists(monkeypatch):
    monkeypatch.setenv(warm.WARM_ENV, "1")
    started, delays = threading.Event(), []
    monkeypatch.setattr(warm, "start", lambda delay=warm.START_DELAY_SECONDS: (delays.append(delay), started.set()))
    exists = threading.Event()
    monkeypatch.setattr(streamlit.runtime, "exists", exists.is_set)
    warm.start_when_served()
    assert not started.wait(0.3)  # no runtime yet: the disk cache is the runtime's
    exists.set()
    assert started.wait(10) and delays == [0.0]


def test_no_warming_unless_served(monkeypatch):
    monkeypatch.delenv(warm.WARM_ENV, raising=False)
    monkeypatch.setattr(streamlit.runtime, "exists", lambda: True)
    calls = []
    monkeypatch.setattr(warm, "start", lambda delay=0.0: calls.append(delay))
    warm.start_when_served()
    assert not [t for t in threading.enumerate() if t.name == "dashboard-warm-start"] and calls == []


def test_serve_runs_the_launcher(monkeypatch, tmp_path):
    from dashboard import cli

    seen = {}
    monkeypatch.setattr(cli.os, "execve", lambda exe, cmd, env: seen.update(cmd=cmd, env=env))
    monkeypatch.setattr(cli.os, "chdir", lambda path: None)
    monkeypatch.setattr("dashboard.store.ingest.clean_stale_scratch", lambda: [])
    monkeypatch.delenv(warm.WARM_ENV, raising=False)
    db = tmp_path / "x.duckdb"
    db.write_bytes(b"")  # only its existence is checked before the exec
    cli.main(["serve", "--db", str(db), "--port", "8999"])
    assert seen["cmd"][1:4] == ["-m", "dashboard.ui.launch", "run"] and seen["env"][warm.WARM_ENV] == "1"
