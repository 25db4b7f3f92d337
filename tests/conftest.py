"""Shared fixtures: a small demo database built once per test process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "tests" / "artifacts"
DEMO_SCALE = float(os.environ.get("DASHBOARD_TEST_SCALE", "0.05"))


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """The demo company at test scale (same generator and ingest path as `python -m dashboard demo`)."""
    from dashboard.demo.build import build_demo_db

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo_db(path, seed=7, scale=DEMO_SCALE)
    return path


@pytest.fixture
def demo_con(demo_db):
    from dashboard.store.connection import connect

    con = connect(demo_db, read_only=True)
    yield con
    con.close()


@pytest.fixture
def app_env(demo_db, monkeypatch):
    """Point the Streamlit app (AppTest) at the demo database."""
    monkeypatch.setenv("DASHBOARD_DB", str(demo_db))
    return demo_db


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL server for this test process (tests/postgres_server.py); fails, not skips, when it
    cannot start: scripts/test.sh installs Debian's postgresql."""
    from tests.postgres_server import PostgresServer, PostgresUnavailable

    try:
        server = PostgresServer()
        server.start()
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL could not be started for the lake tests: {exc}", pytrace=False)
    try:
        yield server.url
    finally:
        server.stop()
