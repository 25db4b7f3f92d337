"""AppTest: the Online vs offline page shows the proxy that tracks retention and the one that does not,
in the metrics' human names, opening on the best-validated proxy; a failing proxy's prediction is
plain text with its interval, not a big number."""

from __future__ import annotations

from tests.apptest import run_page


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_default_view_opens_on_the_best_validated_proxy(app_env):
    at = run_page("alignment.py")
    assert not at.exception
    assert at.selectbox(key="_w.align.target").value == "online:retention_7d"
    assert at.selectbox(key="_w.align.proxy").value == "online:task_success"
    text = " ".join(m.value for m in at.markdown)
    assert "Task success tracks 7-day retention" in text
    assert any(m.label == "Expected 7-day retention lift" for m in at.metric)
    assert any("95% prediction interval [" in c.value for c in at.caption)


def test_offline_proxy_broken_list_and_two_leaderboards(app_env):
    at = run_page("alignment.py", {"align.proxy": "offline:ndcg@10", "align.target": "online:retention_7d"})
    assert _metric(at, "Experiments") == "36"
    headers = [h.value for h in at.subheader]
    assert any(h.startswith("Where the proxy broke") for h in headers)
    broken = at.dataframe[0].value
    assert "E045" in set(broken.experiment)
    offline, online = at.dataframe[1].value, at.dataframe[2].value  # ranked apart
    assert all("(offline)" in p for p in offline.proxy) and not any("(offline)" in p for p in online.proxy)
    assert online.proxy.iloc[0] == "learned composite (out of sample)"  # tests/test_proxy_pages.py
    assert online.proxy.iloc[1] == "Task success"
    assert len(at.get("vega_lite_chart")) == 3 and not at.get("plotly_chart")  # tests/test_vega_pages.py
    assert any("how strongly each child" in h for h in headers)
    edges = at.dataframe[3].value
    latency = edges[edges.child == "Latency"]
    # a lower-is-better child: r and its interval both in the expected direction, never contradicting
    for cell in latency["r [95% CI]"]:
        r, lo, hi = (float(v) for v in cell.replace("[", "").replace("]", "").replace(",", "").split()[:3])
        assert lo <= r <= hi


def test_failing_proxy_prediction_is_plain_text_with_its_interval(app_env):
    at = run_page("alignment.py", {"align.proxy": "online:ctr", "align.target": "online:retention_7d"})
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "Click-through rate does not reliably track 7-day retention" in text
    assert not any(m.label.startswith("Expected") for m in at.metric)  # no big number
    assert "do not show that Click-through rate predicts 7-day retention" in text and "prediction interval [" in text
    assert any("includes 0" in w.value for w in at.warning)


def test_same_metric_twice_gets_a_message_not_a_crash(app_env):
    at = run_page("alignment.py", {"align.proxy": "online:ctr", "align.target": "online:ctr"})
    assert any("trivially predicts itself" in w.value for w in at.warning)
