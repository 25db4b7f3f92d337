"""AppTest: the threshold can be typed, and the slider steps by a thousandth of the score range."""

from __future__ import annotations

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


def test_filtered_view_ends_with_the_exact_quality(app_env, demo_con):
    from sklearn.metrics import average_precision_score

    at = run_page("thresholds.py", {"thr.model": "fraud-v3", "thr.from": "2026-11-09", "thr.to": "2026-11-22",
                                    "thr.by": "country"})
    rows = demo_con.execute("SELECT score, label FROM predictions WHERE model = 'fraud-v3' AND label IS NOT NULL "
                            "AND CAST(ts AS DATE) BETWEEN '2026-11-09' AND '2026-11-22'").df()
    shown = {m.label: m.value for m in at.metric}
    assert "Average precision (binned)" not in shown  # replaced in place once the exact value came
    assert shown["Average precision"] == f"{average_precision_score(rows.label, rows.score):.3f}"
    assert "AP" in at.dataframe[-1].value.columns


def test_curves_are_thinned_for_drawing_only():
    import numpy as np

    from dashboard.ui.charts_thresholds import MAX_POINTS, thin

    curve = {"x": np.arange(10_001.0), "y": np.arange(10_001.0) * 2}
    out = thin(curve)
    assert len(out["x"]) <= MAX_POINTS + 1 and out["x"][0] == 0 and out["x"][-1] == 10_000
    assert (out["y"] == out["x"] * 2).all()
    assert thin({"x": np.arange(5.0)})["x"].tolist() == [0, 1, 2, 3, 4]
