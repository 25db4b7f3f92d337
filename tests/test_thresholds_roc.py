"""ROC with a log FPR axis: a 2% base-rate model's operating point (FPR ~0.1%) is readable."""

from __future__ import annotations

import json

import numpy as np

from tests.apptest import run_page


def roc_spec(at) -> dict:
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return next(c for c in charts if c["layout"]["title"]["text"].startswith("ROC"))


def test_log_fpr_by_default_for_rare_positives_and_the_point_is_inside_the_axis(app_env):
    at = run_page("thresholds.py", {"thr.model": "fraud-v3"})
    spec = roc_spec(at)
    axis = spec["layout"]["xaxis"]
    assert axis["type"] == "log"
    point = next(t for t in spec["data"] if t.get("mode") == "markers")
    x = point["x"][0]
    assert 0 < x < 0.01  # a 2% base-rate model at its production threshold
    lo, hi = axis["range"]
    assert lo < np.log10(x) < hi
    assert np.log10(x) - lo > 0.2 * (hi - lo)  # well inside the chart, not on its edge

    at.toggle(key="_w.thr.logfpr").set_value(False).run()
    spec = roc_spec(at)
    assert spec["layout"]["xaxis"].get("type") != "log"
    assert at.query_params["thr.logfpr"] in ("False", ["False"])
