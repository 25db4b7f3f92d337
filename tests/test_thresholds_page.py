"""AppTest: the Thresholds page on the demo: pickers move the slider, state goes to the URL."""

from __future__ import annotations

import pytest

from dashboard.metrics import classification as clf
from dashboard.services import thresholds as svc
from tests.apptest import run_page


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_precision_floor_moves_slider_to_best_recall(app_env, demo_con):
    at = run_page("thresholds.py", {"thr.model": "fraud-v3", "thr.by": "country"})
    at.number_input(key="_w.thr.floor").set_value(0.8)
    at.button[0].click().run()
    assert not at.exception
    counts = svc.counts(demo_con, "fraud-v3", svc.Filter(), "country")
    expected = float(counts.edges[svc.pick(counts, "precision", precision_floor=0.8)])
    assert at.slider[0].value == pytest.approx(expected)
    assert at.query_params["thr.t"] in (str(expected), [str(expected)])
    point = clf.operating_point(svc.cumulative(counts.overall), svc.threshold_index(counts, expected))
    assert metric(at, "Recall") == f"{point['recall']:.1%}"
    assert float(metric(at, "Precision").rstrip("%")) >= 80.0


def test_capacity_and_cost_pickers(app_env):
    at = run_page("thresholds.py", {"thr.model": "fraud-v2", "thr.mode": "capacity", "thr.budget": "30"})
    at.button[0].click().run()
    assert float(metric(at, "Alerts per day")) <= 30
    at = run_page("thresholds.py", {"thr.model": "fraud-v2", "thr.mode": "cost", "thr.value": "true"})
    at.button[0].click().run()
    assert not at.exception and len(at.get("vega_lite_chart")) == 3  # PR, ROC and the cost curve


def test_url_state_restores_view_and_small_segments_are_marked(app_env):
    at = run_page("thresholds.py", {"thr.model": "fraud-v1", "thr.t": "0.25", "thr.by": "device",
                                    "thr.focus": "country=BR", "thr.compare": "fraud-v3"})
    assert at.slider[0].value == pytest.approx(0.25)
    assert "decide differently" in " ".join(i.value for i in at.info)


def test_segment_precision_collapse_is_visible(app_env):
    at = run_page("thresholds.py", {"thr.model": "fraud-v3", "thr.t": "0.5", "thr.by": "country"})
    table = at.dataframe[0].value  # the segment table (the confusion matrix is a static table)
    br, us = (table[table.country.str.startswith(c)].iloc[0] for c in ("BR", "US"))
    assert float(br.precision.rstrip("%")) < 0.6 * float(us.precision.rstrip("%"))  # fraud-v3's planted regression
    overall = float(next(m.value for m in at.metric if m.label == "Precision").rstrip("%"))
    assert br["low precision"] and not us["low precision"] and float(br.precision.rstrip("%")) < 0.6 * overall
    at = run_page("thresholds.py", {"thr.model": "fraud-v3", "thr.t": "0.97", "thr.by": "country"})
    table = at.dataframe[0].value
    assert (table.flagged == 0).any() and (table[table.flagged == 0].precision == "n/a").all()  # never None/NaN
