"""Every alert link on the demo's Weekly review carries its context in the URL and lands on a view
showing the alert's subject, even when the session remembers another view of that page."""

from __future__ import annotations

from urllib.parse import parse_qsl

from dashboard.paths import PAGES_DIR
from dashboard.services import weekly as svc
from dashboard.ui.app_pages import PAGES
from tests.apptest import run_page
from tests.visible_text import page_texts

SCRIPTS = {url: script for script, _, _, _, url in PAGES}


def _follow(at, link):
    """Navigate like a click on the link: same session, the link's query string in the URL."""
    at.query_params.clear()
    for key, value in parse_qsl(link.proto.query_string):
        at.query_params[key] = value
    at.switch_page(str(PAGES_DIR / SCRIPTS[link.proto.page]))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return " ".join(text for _, text in page_texts(at))


def _seed_other_views(at):
    """Visit every target page on another subject first, so the session has something to forget."""
    for script, query in (("metric_tree.py", {"node": "ctr"}), ("launch_review.py", {"exp": "E001"}),
                          ("thresholds.py", {"thr.model": "fraud-v1", "thr.view": "threshold"})):
        for k, v in query.items():
            at.query_params[k] = v
        at.switch_page(str(PAGES_DIR / script))
        at.run()
        at.query_params.clear()
    at.switch_page(str(PAGES_DIR / "weekly.py"))
    at.run()


def test_every_alert_link_lands_on_its_subject(app_env, demo_con):
    review = svc.week_review(demo_con, "2026-W47")
    groups = review["alert_groups"]
    assert {g["link"]["page"] for g in groups} == {"metric_tree.py", "launch_review.py", "thresholds.py"}
    at = run_page("weekly.py")
    _seed_other_views(at)
    links = [p for p in at.get("page_link") if p.proto.label.startswith("Open ")]
    assert len(links) == len(groups)
    for group in groups:
        at.switch_page(str(PAGES_DIR / "weekly.py"))
        at.run()
        link = next(p for p in at.get("page_link") if p.proto.label == f"Open {group['subject']} on "
                    f"{group['link']['label']}")
        params = dict(parse_qsl(link.proto.query_string))
        assert {k: v for k, v in params.items() if k != "via"} == group["link"]["params"]
        text = _follow(at, link)
        state = at.session_state
        if group["link"]["page"] == "metric_tree.py":
            metric = group["alerts"][0]["metric"]
            assert at.subheader[0].value == group["subject"]
            assert state["node"] == metric and state["week"] == "2026-W47" and state["mode"] == "period"
            assert "2026-11-16..2026-11-22" in text  # the alert's week, not another
        elif group["link"]["page"] == "launch_review.py":
            eid = group["subject"].split(" · ")[0]
            assert state["exp"] == eid and group["subject"].split(" · ")[1] in text
        else:
            alert = group["alerts"][0]
            assert state["thr.model"] == alert["model"]
            assert state["thr.focus"] == f"{alert['segment_column']}={alert['segment_value']}"
            if alert["kind"] == "score drift":  # the drift view, on the alert's week
                assert state["thr.view"] == "drift" and state["thr.week"] == "2026-W47"
                assert at.subheader[0].value == (f"Score drift of {alert['model']}, {alert['segment_column']} = "
                                                 f"{alert['segment_value']}")
            else:
                assert str(state["thr.from"]) == "2026-11-16" and str(state["thr.to"]) == "2026-11-22"
            assert alert["model"] in text and f"{alert['segment_column']}={alert['segment_value']}" in text
        assert "via" not in at.query_params  # the marker is dropped: later reruns keep the user's choices


def test_a_pasted_alert_link_opens_the_same_view(app_env):
    at = run_page("metric_tree.py", {"mode": "period", "days": "7", "week": "2026-W46", "node": "latency_ms"})
    assert at.subheader[0].value == "Latency"
    assert at.session_state["week"] == "2026-W46"
