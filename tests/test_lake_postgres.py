"""`summarize --engine postgres://...` on a real PostgreSQL server: the URL's password is used to
connect but never printed, in refusals or in success, and never stored in the dashboard's database.
(Parity with the ingest path on PostgreSQL: tests/test_lake_parity.py, test_lake_covariances.py.)"""

from __future__ import annotations

from dashboard.cli import main
from dashboard.store.connection import connect
from tests import lake_data
from tests.postgres_server import PASSWORD, load_frames


def test_the_password_is_never_printed_nor_stored(postgres_url, tmp_path, capfd):
    load_frames(postgres_url, {"secret_preds": lake_data.predictions_frame(n=200)})
    db = tmp_path / "lake.duckdb"
    redacted = postgres_url.replace(PASSWORD, "***")
    assert main(["summarize", "predictions", "--source", "table:secret_preds", "--partition-by", "day",
                 "--db", str(db), "--engine", postgres_url]) == 0
    out, err = capfd.readouterr()
    assert f"on {redacted}" in out and "summary rows written" in out

    wrong = postgres_url.replace(PASSWORD, "wr0ng-pw-42")
    assert main(["summarize", "predictions", "--source", "table:secret_preds", "--db", str(db),
                 "--engine", wrong]) == 2
    refused = capfd.readouterr()
    assert "cannot connect" in refused.err and "password authentication failed" in refused.err
    assert redacted in refused.err and "wr0ng-pw-42" not in refused.out + refused.err

    assert main(["summarize", "rankings", "--source", "table:no_such_runs", "--db", str(db),
                 "--engine", postgres_url]) == 2
    missing = capfd.readouterr()
    assert "no such table" in missing.err
    for text in (out, err, missing.out, missing.err):
        assert PASSWORD not in text

    con = connect(db, read_only=True)
    try:
        stored = [row for table in ("load_log", "lake_partitions", "model_score_range")
                  for row in con.execute(f"SELECT * FROM {table}").fetchall()]
    finally:
        con.close()
    assert stored and not [row for row in stored if PASSWORD in repr(row)]
