"""AppTest: the weekly page opens on the last complete week with the planted regression on top."""

from __future__ import annotations

from tests.apptest import run_page


def test_opens_on_last_week_with_retention_first_and_alerts_linked(app_env):
    at = run_page("weekly.py")
    assert at.title[0].value.startswith("Weekly metric review 2026-W47")
    table = at.dataframe[0].value
    assert table.metric.iloc[0] == "7-day retention" and table.reading.iloc[0] == "worse"
    errors = " ".join(e.value for e in at.error)
    assert "Latency" in errors and "E045" in errors and "guardrail" not in errors
    assert "alerts a week by chance alone" in " ".join(c.value for c in at.caption)
    links = [p.proto.label for p in at.get("page_link")]
    assert "Open E045 · Search ranker v3 (LambdaMART, NDCG-tuned) on Launch review" in links


def test_week_picker_and_url_state(app_env):
    at = run_page("weekly.py", {"week": "2026-W40"})
    assert at.title[0].value.startswith("Weekly metric review 2026-W40")
    at.selectbox(key="_w.week").set_value("2026-W46").run()
    assert not at.exception
    assert at.title[0].value.startswith("Weekly metric review 2026-W46")
    assert at.query_params["week"] in ("2026-W46", ["2026-W46"])


def test_decision_button_opens_launch_review_on_the_experiment(app_env):
    at = run_page("weekly.py", {"week": "2026-W43"})
    buttons = [b for b in at.button if b.key and b.key.startswith("open-E")]
    assert buttons, "a week with a decision waiting and no alert about it"
    eid = buttons[0].key.removeprefix("open-")
    buttons[0].click().run()
    assert not at.exception
    assert at.session_state["exp"] == eid
