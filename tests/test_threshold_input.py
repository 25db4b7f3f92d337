"""AppTest: the threshold can be typed, and the slider steps by a thousandth of the score range."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from dashboard.services import thresholds as svc
from dashboard.ui import threshold_input
from tests.apptest import run_page


def test_typed_threshold_moves_slider_url_and_numbers(app_env, demo_con):
    at = run_page("thresholds.py", {"thr.model": "fraud-v3", "thr.t": "0.5"})
    counts = svc.counts(demo_con, "fraud-v3", svc.Filter(), "")
    box = at.number_input(key=threshold_input.TYPED)
    assert box.value == pytest.approx(at.slider[0].value)
    box.set_value(0.43217).run()
    assert not at.exception
    edge = float(counts.edges[svc.threshold_index(counts, 0.43217)])
    assert edge <= 0.43217 and at.slider[0].value == pytest.approx(edge)
    assert at.number_input(key=threshold_input.TYPED).value == pytest.approx(edge)
    assert at.query_params["thr.t"] in (str(edge), [str(edge)])
    assert any(f"At threshold {edge:.4f}" in h.value for h in at.subheader)


def test_slider_steps_by_a_thousandth_of_the_range_and_drives_the_box(app_env, demo_con):
    at = run_page("thresholds.py", {"thr.model": "fraud-v2", "thr.t": "0.3"})
    counts = svc.counts(demo_con, "fraud-v2", svc.Filter(), "")
    slider = at.slider[0]
    assert slider.proto.step == pytest.approx((counts.edges[-1] - counts.edges[0]) / 1000)
    slider.set_value(0.25).run()
    assert at.number_input(key=threshold_input.TYPED).value == pytest.approx(0.25)
    assert any("At threshold 0.2500" in h.value for h in at.subheader)


def test_filtered_view_draws_the_exact_quality_when_it_comes_in_time(app_env, demo_con):
    from sklearn.metrics import roc_auc_score

    at = run_page("thresholds.py", {"thr.model": "fraud-v3", "thr.from": "2026-11-09", "thr.to": "2026-11-22",
                                    "thr.by": "country"})
    rows = demo_con.execute("SELECT score, label FROM predictions WHERE model = 'fraud-v3' AND label IS NOT NULL "
                            "AND CAST(ts AS DATE) BETWEEN '2026-11-09' AND '2026-11-22'").df()
    shown = {m.label: m.value for m in at.metric}
    assert "ROC AUC (binned)" not in shown  # replaced in place: the demo's sort takes milliseconds
    assert shown["ROC AUC"] == f"{roc_auc_score(rows.label, rows.score):.3f}"
    assert "AP" in at.dataframe[-1].value.columns


def test_a_slow_exact_quality_never_holds_the_page(app_env, demo_con):
    """The sort for the exact AP/AUC of a filtered view runs in the background: when it is not done
    within the page's short wait, the run ends with the binned values, marked so; the next run shows
    the exact values."""
    from sklearn.metrics import average_precision_score

    from dashboard.ui import background

    flt = svc.Filter(date(2026, 11, 9), date(2026, 11, 21), "", "")  # a range no other test asks for
    asked, busy = [], threading.Event()
    original = background.ask
    background.ask = lambda *a, **k: (asked.append(a), original(*a, **k))[1]
    background._worker.submit(busy.wait, 60)  # the worker is busy: the page's sorts wait behind this
    try:
        at = run_page("thresholds.py", {"thr.model": "fraud-v3", "thr.from": "2026-11-09", "thr.to": "2026-11-21",
                                        "thr.by": "country"})
    finally:
        background.ask = original
        busy.set()
    shown = {m.label: m.value for m in at.metric}
    assert "Average precision (binned)" in shown and "AP (binned)" in at.dataframe[-1].value.columns
    assert any(a[1:3] == ("fraud-v3", flt) for a in asked) and any("background" in c.value for c in at.caption)
    background.wait_for_all()
    at.run()
    rows = demo_con.execute("SELECT score, label FROM predictions WHERE model = 'fraud-v3' AND label IS NOT NULL "
                            "AND CAST(ts AS DATE) BETWEEN '2026-11-09' AND '2026-11-21'").df()
    shown = {m.label: m.value for m in at.metric}
    assert "Average precision (binned)" not in shown
    assert shown["Average precision"] == f"{average_precision_score(rows.label, rows.score):.3f}"
    assert "AP" in at.dataframe[-1].value.columns and not any("background" in c.value for c in at.caption)


def test_curves_are_thinned_for_drawing_only():
    import numpy as np

    from dashboard.ui.charts_thresholds import MAX_POINTS, thin

    curve = {"x": np.arange(10_001.0), "y": np.arange(10_001.0) * 2}
    out = thin(curve)
    assert len(out["x"]) <= MAX_POINTS + 1 and out["x"][0] == 0 and out["x"][-1] == 10_000
    assert (out["y"] == out["x"] * 2).all()
    assert thin({"x": np.arange(5.0)})["x"].tolist() == [0, 1, 2, 3, 4]


def test_compare_mode_pairs_the_models_in_the_background(app_env):
    """The join of two models' rows never holds the page: with the worker busy, the run ends with a
    caption; the next run, once the join is done, shows the disagreement rate."""
    from dashboard.ui import background

    busy = threading.Event()
    background._worker.submit(busy.wait, 60)
    try:
        at = run_page("thresholds.py", {"thr.model": "fraud-v1", "thr.compare": "fraud-v2", "thr.t": "0.41",
                                        "thr.from": "2026-11-10", "thr.to": "2026-11-20"})
    finally:
        busy.set()
    assert any("paired on `id` in the background" in c.value for c in at.caption)
    assert not any("decide differently" in i.value for i in at.info)
    background.wait_for_all()
    at.run()
    assert any("decide differently" in i.value for i in at.info)


def test_a_failed_background_result_is_said_and_asked_again(app_env, monkeypatch):
    """A background computation that fails (a load holding the file, an error) is shown as such
    once, and the next page run asks for it again instead of keeping the failure."""
    from dashboard.services import thresholds as thr
    from dashboard.ui import background

    calls = []

    def broken(con, *args):
        calls.append(args)
        raise RuntimeError("disk went away")

    monkeypatch.setattr(thr, "exact_quality", broken)  # what the background call runs
    flt = svc.Filter(date(2026, 11, 10), date(2026, 11, 19), "", "")
    background.ask(thr.exact_quality_in_background, "fraud-v3", flt, "", False, kept=True)
    background.wait_for_all()
    got = background.ready(thr.exact_quality_in_background, "fraud-v3", flt, "", False, kept=True)
    assert isinstance(got, background.Failed) and "RuntimeError" in got
    assert background.ready(thr.exact_quality_in_background, "fraud-v3", flt, "", False, kept=True) is None
    background.ask(thr.exact_quality_in_background, "fraud-v3", flt, "", False, kept=True)
    background.wait_for_all()
    assert len(calls) == 2
