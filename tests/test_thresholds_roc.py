"""ROC with a log FPR axis: a 2% base-rate model's operating point (FPR ~0.1%) is readable."""

from __future__ import annotations

import numpy as np

from tests.apptest import run_page
from tests.vega import chart


def roc(at) -> tuple[dict, dict]:
    return chart(at, "ROC")


def x_scale(spec: dict) -> dict:
    return next(layer["encoding"]["x"]["scale"] for layer in spec["layer"] if layer["data"]["name"] == "points")


def test_log_fpr_by_default_for_rare_positives_and_the_point_is_inside_the_axis(app_env):
    at = run_page("thresholds.py", {"thr.model": "fraud-v3"})
    spec, data = roc(at)
    scale = x_scale(spec)
    assert scale["type"] == "log"
    x = float(data["points"]["fpr"].iloc[0])
    assert 0 < x < 0.01  # a 2% base-rate model at its production threshold
    lo, hi = np.log10(scale["domain"])
    assert lo < np.log10(x) < hi
    assert np.log10(x) - lo > 0.2 * (hi - lo)  # well inside the chart, not on its edge
    assert (data["curves"]["fpr"] > 0).all()  # FPR 0 has no place on a log axis

    at.toggle(key="_w.thr.logfpr").set_value(False).run()
    spec, data = roc(at)
    assert x_scale(spec).get("type") != "log"
    assert at.query_params["thr.logfpr"] in ("False", ["False"])
