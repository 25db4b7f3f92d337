"""AppTest: the Online vs offline page shows the proxy that tracks retention and the one that does not."""

from __future__ import annotations

from tests.apptest import run_page


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_default_view_draws_scatter_broken_list_leaderboard_and_edges(app_env):
    at = run_page("alignment.py", {"align.proxy": "offline:ndcg@10", "align.target": "online:retention_7d"})
    assert _metric(at, "Experiments") == "36"
    headers = [h.value for h in at.subheader]
    assert any(h.startswith("Where the proxy broke") for h in headers)
    broken = at.dataframe[0].value
    assert "E045" in set(broken.experiment)
    offline, online = at.dataframe[1].value, at.dataframe[2].value  # ranked apart
    assert all("(offline)" in p for p in offline.proxy) and all("(online)" in p for p in online.proxy)
    assert online.proxy.iloc[0] == "Task success (online)"  # the tree's name, not its id
    assert len(at.get("plotly_chart")) == 3
    assert any("how strongly each child" in h for h in headers)


def test_good_and_bad_proxy_read_differently(app_env):
    at = run_page("alignment.py", {"align.proxy": "online:task_success", "align.target": "online:retention_7d"})
    text = " ".join(m.value for m in at.markdown)
    assert "Task success (online) tracks 7-day retention (online)" in text
    at.selectbox(key="_w.align.proxy").set_value("online:ctr").run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "Click-through rate (online) does not reliably track" in text
    assert at.query_params["align.proxy"] in ("online:ctr", ["online:ctr"])
    assert any("includes 0" in w.value for w in at.warning)  # the prediction is not trusted


def test_same_metric_twice_gets_a_message_not_a_crash(app_env):
    at = run_page("alignment.py", {"align.proxy": "online:ctr", "align.target": "online:ctr"})
    assert any("trivially predicts itself" in w.value for w in at.warning)
