"""The bins summed over days (`prediction_bin_totals`, built at load) answer a whole-range view with
the same counts as summing `prediction_bins`, and are not trusted once the bins changed without them."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from dashboard.services import thresholds as svc
from dashboard.store import bin_totals
from dashboard.store.connection import connect


class Recording:
    """A connection that remembers the SQL it ran."""

    def __init__(self, con) -> None:
        self.con, self.sql = con, []

    def execute(self, sql, *args):
        self.sql.append(sql)
        return self.con.execute(sql, *args)


def summed_bins(con, model, flt, by, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(bin_totals, "usable", lambda con, model: False)
        return svc.counts(con, model, flt, by)


def same(a: svc.Counts, b: svc.Counts) -> None:
    assert (a.lo, a.hi, a.days) == (b.lo, b.hi, b.days) and a.segments.keys() == b.segments.keys()
    for k in svc._FIELDS:
        assert np.array_equal(a.overall[k], b.overall[k]), k
        for v in a.segments:
            assert np.array_equal(a.segments[v][k], b.segments[v][k]), (v, k)


@pytest.mark.parametrize("model,by", [("fraud-v1", "country"), ("fraud-v3", "device"), ("fraud-v2", "")])
def test_whole_range_reads_the_totals_and_they_equal_the_summed_bins(demo_con, monkeypatch, model, by):
    opts = svc.options(demo_con)
    first, last = opts["model_dates"][model]
    for flt in (svc.Filter(first, last), svc.Filter(), svc.Filter(first, last, "country", "BR")):
        rec = Recording(demo_con)
        got = svc.counts(rec, model, flt, by)
        assert any(bin_totals.TABLE in q for q in rec.sql)
        assert not any("FROM prediction_bins WHERE" in q and "GROUP BY segment_value" in q for q in rec.sql)
        same(got, summed_bins(demo_con, model, flt, by, monkeypatch))
    # and against the raw rows, at a few edges
    c = svc.counts(demo_con, model, svc.Filter(first, last), by)
    cum = svc.cumulative(c.overall)
    for i in (0, 2500, 5000, 9000):
        tp, fp = demo_con.execute("SELECT count(*) FILTER (WHERE label = 1), count(*) FILTER (WHERE label = 0) "
                                  "FROM predictions WHERE model = ? AND score >= ?", [model, c.edges[i]]).fetchone()
        assert (cum.tp[i], cum.fp[i]) == (tp, fp)


def test_a_part_of_the_range_sums_the_bins(demo_con):
    opts = svc.options(demo_con)
    first, last = opts["model_dates"]["fraud-v3"]
    rec = Recording(demo_con)
    svc.counts(rec, "fraud-v3", svc.Filter(first.replace(day=first.day + 1), last), "country")
    assert not any(bin_totals.TABLE in q and "ORDER BY" in q for q in rec.sql)


def test_bins_changed_without_the_totals_are_summed_instead(demo_db, tmp_path, monkeypatch):
    """As `summarize` of a lake does: it writes prediction_bins alone."""
    db = tmp_path / "changed.duckdb"
    shutil.copy(demo_db, db)
    con = connect(db)
    try:
        day = con.execute("SELECT max(day) FROM prediction_bins WHERE model = 'fraud-v3'").fetchone()[0]
        con.execute("DELETE FROM prediction_bins WHERE model = 'fraud-v3' AND day = ?", [day])
        assert not bin_totals.usable(con, "fraud-v3") and bin_totals.usable(con, "fraud-v2")
        rec = Recording(con)
        got = svc.counts(rec, "fraud-v3", svc.Filter(), "country")
        assert not any(bin_totals.TABLE in q and "ORDER BY" in q for q in rec.sql)
        same(got, summed_bins(con, "fraud-v3", svc.Filter(), "country", monkeypatch))
        con.execute(f"DROP TABLE {bin_totals.TABLE}")  # a database from before the table
        assert not bin_totals.usable(con, "fraud-v2")
        svc.counts(con, "fraud-v2", svc.Filter(), "country")
    finally:
        con.close()


def test_options_read_the_small_tables_and_say_what_the_bins_say(demo_db, tmp_path):
    from dashboard.store import catalog

    db = tmp_path / "options.duckdb"
    shutil.copy(demo_db, db)
    con = connect(db)
    try:
        for totals_usable in (True, False):  # the second time: bins changed without the totals
            opts = svc.options(con)
            assert opts["segments"] == catalog.segment_values(con)
            assert opts["date_range"] == con.execute("SELECT min(day), max(day) FROM prediction_bins").fetchone()
            dates = dict((m, (a, b)) for m, a, b in con.execute(
                "SELECT model, min(day), max(day) FROM prediction_bins GROUP BY model").fetchall())
            assert opts["model_dates"] == {m: dates.get(m, (None, None)) for m in opts["models"]}
            assert all(bin_totals.usable(con, m) for m in opts["models"]) == totals_usable
            con.execute("DELETE FROM prediction_bins WHERE model = 'fraud-v1' AND segment_value = 'BR'")
            con.execute("DELETE FROM prediction_bins WHERE model = 'fraud-v1' AND segment_column = '' AND bin < 100")
    finally:
        con.close()
