"""Thresholds with a model without timestamps beside one with them (the README's minimal file),
and comparing models that share no ids."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from dashboard.services import thresholds as svc
from dashboard.store.connection import connect
from dashboard.store.ingest import ingest_file
from tests.apptest import run_page


@pytest.fixture(scope="module")
def mixed_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("mixed")
    rng = np.random.default_rng(2)
    n = 600
    label = (rng.random(n) < 0.3).astype(int)
    score = np.clip(rng.normal(0.3 + 0.4 * label, 0.2), 0, 1)
    dated = pd.DataFrame({"model": "dated", "score": score, "label": label, "id": [f"a{i}" for i in range(n)],
                          "ts": pd.date_range("2026-11-01", periods=n, freq="h")})
    plain = pd.DataFrame({"model": "plain", "score": score[::-1], "label": label})  # model, score, label only
    dated.to_csv(path / "dated.csv", index=False)
    plain.to_csv(path / "plain.csv", index=False)
    db = path / "mixed.duckdb"
    ingest_file(db, "predictions", path / "dated.csv")
    ingest_file(db, "predictions", path / "plain.csv")
    return db


@pytest.fixture
def mixed_env(mixed_db, monkeypatch):
    monkeypatch.setenv("DASHBOARD_DB", str(mixed_db))
    return mixed_db


def test_a_model_without_ts_is_shown_beside_a_dated_one(mixed_env):
    at = run_page("thresholds.py", {"thr.model": "plain", "thr.t": "0.5"})
    assert not at.warning, [w.value for w in at.warning]
    assert any("no timestamps" in c.value for c in at.caption)
    labelled = next(c.value for c in at.caption if "positives and" in c.value)
    pos, neg = map(int, re.findall(r"(\d+) (?:positives|negatives)", labelled.replace(",", "")))
    assert pos + neg == 600  # every row of the model, none dated away


def test_compare_with_a_model_sharing_no_ids_says_so(mixed_env, mixed_db):
    at = run_page("thresholds.py", {"thr.model": "dated", "thr.compare": "plain", "thr.t": "0.5"})
    assert not at.exception
    assert any("share no ids" in c.value for c in at.caption)
    con = connect(mixed_db, read_only=True)
    try:
        d = svc.disagreement(con, "dated", 0.5, "plain", 0.5)
    finally:
        con.close()
    assert d == {"available": False, "reason": "dated and plain share no ids in this view"}


def test_switching_between_dated_and_undated_models(mixed_env):
    at = run_page("thresholds.py", {"thr.model": "dated", "thr.from": "2026-11-10"})
    at.selectbox(key="_w.thr.model").set_value("plain").run()
    assert not at.exception and not at.warning
    at.selectbox(key="_w.thr.model").set_value("dated").run()
    assert not at.exception and not at.warning
