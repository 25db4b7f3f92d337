"""Thresholds in a real browser: a slider move reruns only the slider's fragment, and the curves are
not sent again: only the operating points change (read from the server's websocket messages)."""

from __future__ import annotations

import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tests.browser.conftest import open_page, wait_idle

pytestmark = pytest.mark.browser


def messages(frames: list) -> list[ForwardMsg]:
    return [ForwardMsg.FromString(f) for f in frames if isinstance(f, bytes)]


def runs(msgs: list[ForwardMsg]) -> list[list[str]]:
    """The fragment ids of each script run started (an empty list: the whole page ran)."""
    return [list(m.metadata.run.fragment_ids) for m in msgs if m.WhichOneof("type") == "new_session"]


def charts(msgs: list[ForwardMsg]) -> list[tuple[str, dict[str, bytes]]]:
    """(spec, {dataset: bytes}) of each Vega-Lite chart sent."""
    out = []
    for m in msgs:
        if m.WhichOneof("type") == "delta" and m.delta.WhichOneof("type") == "new_element" \
                and m.delta.new_element.WhichOneof("type") == "vega_lite_chart":
            chart = m.delta.new_element.vega_lite_chart
            out.append((chart.spec, {d.name: d.data.data for d in chart.datasets}))
    return out


def texts(msgs: list[ForwardMsg]) -> list[str]:
    out = []
    for m in msgs:
        if m.WhichOneof("type") == "delta" and m.delta.WhichOneof("type") == "new_element":
            element = m.delta.new_element
            kind = element.WhichOneof("type")
            if kind in ("heading", "markdown"):
                out.append(getattr(element, kind).body)
    return out


def test_a_slider_move_reruns_only_the_fragment_and_moves_only_the_points(page, server):
    frames: list = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: frames.append(frame)))
    open_page(page, server, "thresholds?thr.model=fraud-v3&thr.by=country&thr.compare=fraud-v2", "The same threshold by")
    first = messages(frames)
    assert runs(first)[-1] == []  # the page's own full run
    before = charts(first)
    assert len(before) == 2  # PR and ROC

    heading = page.get_by_text("At threshold", exact=False).first
    shown = heading.inner_text()
    seen = len(frames)
    page.locator('[data-testid="stSlider"] input[type="range"]').first.focus()
    page.keyboard.press("ArrowRight")
    wait_idle(page)
    assert heading.inner_text() != shown
    moved = messages(frames[seen:])

    assert runs(moved) and all(ids for ids in runs(moved))  # fragment runs only, never the whole page
    assert "Thresholds" not in texts(moved) and "**Pick the threshold**" not in texts(moved)
    after = charts(moved)
    assert len(after) == 2
    for (spec0, data0), (spec1, data1) in zip(before[-2:], after[-2:]):
        assert spec1 == spec0  # the same chart: the browser updates it in place, no remount
        assert {k: v for k, v in data1.items() if k != "points"} == {k: v for k, v in data0.items() if k != "points"}
        assert data1["points"] != data0["points"]  # the operating point moved
