"""The precision-floor picker's two modes (page, CLI) and the small-segment rule."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from dashboard.metrics import classification as clf
from dashboard.metrics.binning import N_BINS
from dashboard.services import thresholds as svc
from tests.apptest import run_page


def arrays(pos, neg):
    out = {k: np.zeros(N_BINS + 1) for k in ("pos", "neg", "unlabeled", "value_pos", "value_neg")}
    out["pos"][: len(pos)] = pos
    out["neg"][: len(neg)] = neg
    return out


def test_small_segments_count_positives_and_flagged_rows_not_labelled_rows():
    # 200 rows at 2% fraud: 4 positives. Under the old rule (200 labelled rows) it was judged.
    fraud = arrays([0, 4], [150, 46])
    big = arrays([0, 60], [400, 40])
    few_flagged = arrays([40, 10], [500, 5])  # 40+ positives, but 15 rows flagged at edge 1
    c = svc.Counts("m", 0.0, 1.0, 1, arrays([40, 74], [1050, 91]),
                   {"BR": fraud, "US": big, "JP": few_flagged}, "country")
    rows = {r["value"]: r for r in svc.segment_rows(c, 1)}
    assert rows["BR"]["positives"] + rows["BR"]["negatives"] == 200 and rows["BR"]["small"]
    assert not rows["US"]["small"]
    assert rows["JP"]["small"] and rows["JP"]["positives"] == 50


def test_guaranteed_pick_on_the_demo_is_stricter_and_holds_its_lower_bound(demo_con):
    c = svc.counts(demo_con, "fraud-v3", by="country")
    best = svc.pick(c, "precision", precision_floor=0.8)
    sure = svc.pick(c, "precision", precision_floor=0.8, guaranteed=True)
    assert best is not None and sure is not None and sure > best
    cum = svc.cumulative(c.overall)
    assert clf.precision_lower_bound(cum)[sure] >= 0.8 > clf.precision_lower_bound(cum)[best]


def test_cli_picks_on_the_lower_bound_and_says_so(demo_db, demo_con):
    def run(*extra):
        out = subprocess.run([sys.executable, "-m", "dashboard", "report", "thresholds", "--db", str(demo_db),
                              "--model", "fraud-v3", "--precision-floor", "0.8", *extra],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    sure, best = run("--guaranteed"), run()
    c = svc.counts(demo_con, "fraud-v3")
    assert sure["threshold"] == float(c.edges[svc.pick(c, "precision", precision_floor=0.8, guaranteed=True)])
    assert "Wilson lower bound" in sure["picked_by"]["statement"] and sure["picked_by"]["guaranteed"]
    assert "best estimate" in best["picked_by"]["statement"] and best["threshold"] < sure["threshold"]
    lo, _ = clf.wilson_interval(sure["overall"]["tp"], sure["overall"]["tp"] + sure["overall"]["fp"])
    assert lo >= 0.8


def test_page_guaranteed_mode_moves_the_slider_and_says_so(app_env, demo_con):
    at = run_page("thresholds.py", {"thr.model": "fraud-v3", "thr.floor": "0.8", "thr.sure": "true"})
    assert any("Wilson lower bound" in c.value for c in at.caption)
    at.button[0].click().run()
    assert not at.exception
    c = svc.counts(demo_con, "fraud-v3", svc.Filter(), "")
    expected = float(c.edges[svc.pick(c, "precision", precision_floor=0.8, guaranteed=True)])
    assert at.slider[0].value == pytest.approx(expected)
    assert at.query_params["thr.sure"] in ("True", ["True"])
