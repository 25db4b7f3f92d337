"""The Thresholds page opens at the model's declared production threshold (`models` kind), else at the
chosen rule's pick, never at an arbitrary 0.5; a model switch re-opens at the new model's."""

from __future__ import annotations

import pytest

from dashboard.services import thresholds as svc
from dashboard.services import thresholds_models as models_svc
from dashboard.store.ingest import ingest_file
from dashboard.store.readers import InputError
from tests.apptest import run_page


def test_demo_declares_production_thresholds(demo_con):
    declared = models_svc.declared(demo_con)
    assert declared["fraud-v3"]["threshold"] == 0.35 and declared["fraud-v2"]["description"] == "in production"


def test_opens_at_the_production_threshold_and_again_on_a_model_switch(app_env):
    at = run_page("thresholds.py", {"thr.model": "fraud-v3"})
    assert at.slider[0].value == pytest.approx(0.35, abs=1e-9)
    assert any("production threshold of fraud-v3" in c.value for c in at.caption)
    at.selectbox(key="_w.thr.model").set_value("fraud-v1").run()
    assert not at.exception
    assert at.slider[0].value == pytest.approx(0.45, abs=1e-9)


def test_a_link_keeps_its_threshold(app_env):
    at = run_page("thresholds.py", {"thr.model": "fraud-v3", "thr.t": "0.6"})
    assert at.slider[0].value == pytest.approx(0.6, abs=1e-9)
    assert any("production threshold of fraud-v3 is 0.3500" in c.value for c in at.caption)


def test_without_a_declaration_it_opens_at_the_rules_pick(tmp_path, monkeypatch, demo_db):
    import shutil

    db = tmp_path / "copy.duckdb"
    shutil.copy(demo_db, db)
    from dashboard.store.connection import connect

    con = connect(db)
    con.execute("DROP TABLE models")
    counts = svc.counts(con, "fraud-v2")
    con.close()
    monkeypatch.setenv("DASHBOARD_DB", str(db))
    at = run_page("thresholds.py", {"thr.model": "fraud-v2", "thr.floor": "0.7"})
    expected = float(counts.edges[svc.pick(counts, "precision", precision_floor=0.7)])
    assert at.slider[0].value == pytest.approx(expected)
    assert any("chosen rule's pick" in c.value for c in at.caption)


def test_models_file_errors_name_file_line_and_column(tmp_path):
    bad = tmp_path / "models.csv"
    bad.write_text("model,production_threshold,description\nfraud-v2,abc,x\nfraud-v2,0.3,dup\n,inf,\n")
    with pytest.raises(InputError) as err:
        ingest_file(tmp_path / "m.duckdb", "models", bad)
    text = "\n".join(err.value.problems)
    assert "models.csv, line 2, column 'production_threshold': found 'abc'" in text
    assert "line 4, column 'model': is empty" in text
    assert "duplicate key (model='fraud-v2')" in text
