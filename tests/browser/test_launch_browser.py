"""Launch review and Metric tree in headless Chromium against the real server.

The hand-made experiment database (tests/launch_fixture.py) has the E045 pattern as X1: an
offline NDCG win that lost retention and breached the latency guardrail.
"""

from __future__ import annotations


import pytest

from dashboard.ui.charts_tree import SELECTED_BORDER
from tests import launch_fixture as lf
from tests.browser.conftest import open_page, running_server, screenshot, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def launch_server(tmp_path_factory):
    with running_server(lf.launch_db(tmp_path_factory), "launch-server") as url:
        yield url


# A tree node in Vega's SVG: its bold name, the lines inside its box, the box's border colour and place.
_NODE = """name => {
    for (const chart of document.querySelectorAll('[data-testid="stVegaLiteChart"]')) {
        const texts = [...chart.querySelectorAll('.mark-text text')];
        const head = texts.find(t => t.textContent === name && t.getAttribute('font-weight') === 'bold');
        if (!head) continue;
        const h = head.getBoundingClientRect(), cx = h.x + h.width / 2, cy = h.y + h.height / 2;
        const inside = (r, x, y) => r.x < x && x < r.x + r.width && r.y < y && y < r.y + r.height;
        const box = [...chart.querySelectorAll('.mark-rect path[stroke]')].find(p => inside(p.getBoundingClientRect(), cx, cy));
        if (!box) continue;
        const r = box.getBoundingClientRect();
        const lines = texts.filter(t => { const b = t.getBoundingClientRect(); return inside(r, b.x + b.width / 2, b.y + b.height / 2); });
        return {text: lines.map(t => t.textContent).join('\\n'), stroke: box.getAttribute('stroke'),
                x: r.x + r.width / 2, y: r.y + r.height / 2};
    }
    return null;
}"""


def _tree_box(page, name: str) -> tuple[dict, str]:
    """A tree node drawn by Vega-Lite: where its box is, its border colour and its text (name first)."""
    for _ in range(60):  # charts mount lazily after the run ends: the tree may come after another chart
        node = page.evaluate(_NODE, name)
        if node:
            return node, node["text"]
        page.wait_for_timeout(500)
    raise AssertionError(f"no tree node {name!r} drawn")


def _border(page, name: str) -> str:
    """The colour of a node's box border."""
    return _tree_box(page, name)[0]["stroke"]


def test_launch_review_says_do_not_ship_and_lights_the_tree(page, launch_server):
    open_page(page, launch_server, "launch?exp=X1", "Roll back: do not ship")
    alert = page.locator('[data-testid="stAlert"]').first.inner_text()
    assert "Guardrail breached: Latency +13.8% against a limit of 10%" in alert
    assert "7-day retention (business) got significantly worse" in alert
    assert "Offline-online trap" in alert
    latency, text = _tree_box(page, "Latency")
    assert "BROKE" in text
    assert _border(page, "Latency") == "#7f0000"  # the dark-red border of what forced the roll back
    _, ndcg = _tree_box(page, "NDCG@10")
    assert "+8.0%" in ndcg and "improving" in ndcg
    screenshot(page, "launch-review-X1")


def test_hold_investigate_with_its_reason_and_a_noisy_control_warning(page, launch_server):
    open_page(page, launch_server, "launch?exp=X4", "Hold: investigate")
    alert = page.locator('[data-testid="stAlert"]').first.inner_text()
    assert "Investigate: Revenue per user (business) looks worse" in alert
    assert "a roll back needs q < 0.01" in alert
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "complaints: the control mean's standard error is" in body  # not in the tree: its id
    _, revenue = _tree_box(page, "Revenue per user")
    assert "inconclusive" in revenue  # the tree says what the scorecard says, not the raw p
    screenshot(page, "launch-review-X4-investigate")


def test_switching_experiment_in_the_sidebar(page, launch_server):
    open_page(page, launch_server, "launch?exp=X1", "Roll back")
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="X2 · Better snippets").click()
    wait_idle(page, "Primary metric 7-day retention improved significantly")
    assert page.get_by_text("Ship", exact=True).count() >= 1
    assert "exp=X2" in page.url


def test_clicking_a_tree_node_shows_its_history(page, launch_server):
    open_page(page, launch_server, "tree?mode=experiment&exp=X1", "Children")
    box, _ = _tree_box(page, "Latency")
    assert _border(page, "Latency") != SELECTED_BORDER
    page.mouse.click(box["x"], box["y"])
    wait_idle(page, "Guardrail: Latency may rise by at most 10%")
    assert page.locator("h3", has_text="Latency").count() == 1
    assert "node=latency_ms" in page.url
    assert _border(page, "Latency") == SELECTED_BORDER  # the box clicked is drawn selected
    screenshot(page, "metric-tree-latency")
    # picked in the list, then clicked again: the click selects it again, and the list follows
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Node").click()
    page.get_by_role("option", name="Task success (task)").click()
    wait_idle(page, "Drives")
    assert page.locator("h3", has_text="Task success").count() == 1 and _border(page, "Task success") == SELECTED_BORDER
    box, _ = _tree_box(page, "Latency")
    page.mouse.click(box["x"], box["y"] + 20)  # on its text
    wait_idle(page, "Guardrail: Latency may rise by at most 10%")
    assert page.locator("h3", has_text="Latency").count() == 1
    assert page.locator('[data-testid="stSelectbox"]').filter(has_text="Node").locator("input").input_value() == \
        "Latency (task)"


def test_the_tree_page_loads_no_plotly(page, launch_server):
    """Every chart of the Metric tree is Vega-Lite: the page never fetches Plotly's 4.7 MB script."""
    open_page(page, launch_server, "tree?node=retention_7d", "Children")
    _tree_box(page, "7-day retention")
    page.locator('[data-testid="stVegaLiteChart"] svg').nth(1).wait_for()  # the history
    scripts = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert any("ArrowVegaLiteChart" in s for s in scripts), scripts  # the list is the page's scripts
    assert not [s for s in scripts if "plotly" in s.lower()]
    assert page.locator(".js-plotly-plot").count() == 0


def test_a_new_tab_draws_the_tree_charts_after_its_first_paint_without_a_click(page, launch_server):
    """The first run sends placeholders and the paint signal; the browser's signal brings the charts
    (dashboard/ui/deferred.py). Fails when the signal never fires: the placeholders would stay."""
    page.goto(f"{launch_server}/tree?node=retention_7d")
    page.locator('[data-testid="stMetricValue"]').first.wait_for()
    page.locator('[data-testid="stVegaLiteChart"] svg').nth(1).wait_for(timeout=20_000)  # the tree and the history
    wait_idle(page, "Children")
    assert page.locator('[class*="st-key-deferred-pending"]').count() == 0
    assert page.get_by_text("Drawing the").count() == 0
    _tree_box(page, "7-day retention")


def test_demo_e045_do_not_ship_with_the_tree_lit(page, server):
    """The issue's done criterion: on the demo, the NDCG win that lost retention says do not ship."""
    open_page(page, server, "launch?exp=E045", "Roll back: do not ship")
    # md() puts an invisible word joiner after "@" (ndcg@10 never becomes a mailto: link)
    alert = page.locator('[data-testid="stAlert"]').first.inner_text().replace("\u2060", "")
    assert "Guardrail breached: Latency" in alert
    assert "7-day retention (business) got significantly worse" in alert
    assert "Offline-online trap" in alert and "ndcg@10" in alert
    for name in ("7-day retention", "Latency"):
        box, text = _tree_box(page, name)
        assert "BROKE" in text
        assert _border(page, name) == "#7f0000"
    _, ndcg = _tree_box(page, "NDCG@10")
    assert "improving" in ndcg
    screenshot(page, "launch-review-E045")
