"""Home, Weekly review, Online vs offline, Launch review and Thresholds' drift view in a real browser
load no Plotly: their charts are Vega-Lite, so Streamlit never fetches its 4.7 MB Plotly chunk
(PlotlyChart.*.js) in a new tab. Screenshots at 1440 px and at a narrow width."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, open_page, running_server, screenshot

pytestmark = pytest.mark.browser

DRIFT = "thresholds?thr.model=fraud-v3&thr.focus=device%3Dandroid&thr.view=drift&thr.week=2026-W47"
PAGES = {  # url -> text that says the page is drawn
    "": "Every page",
    "weekly": "Decisions of the week",
    "alignment?align.proxy=offline:ndcg@10&align.target=online:retention_7d": "Which proxy does the history support",
    "launch?exp=E045": "Roll back: do not ship",
    DRIFT: "Score drift of fraud-v3, device = android",  # where the Weekly review's drift alerts link
}
CHARTS = {"": 0, "weekly": 1, "alignment": 3, "launch": 2,  # Launch review: the tree and the lift chart
          "launch?exp=CHK-12": 1,  # no tree metric measured: no tree
          DRIFT: 2}  # PSI by week, scores by tenth of the baseline


def _charts(path: str) -> int:
    return CHARTS[path] if path in CHARTS else CHARTS[path.split("?")[0]]


def _visit(browser, url: str, path: str, text: str, width: int, name: str) -> tuple[list[str], object]:
    """Open `path` in a new tab; wait for its Vega-Lite charts to draw; the script URLs it fetched."""
    context = browser.new_context(viewport={"width": width, "height": 1200})
    page = context.new_page()
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    open_page(page, url, path, text)
    n = _charts(path)
    # whatever draws them (on the old code: Plotly), wait for the page's charts, so a script they need is fetched
    drawn = page.locator('[data-testid="stVegaLiteChart"] svg.marks, [data-testid="stPlotlyChart"] .js-plotly-plot')
    for i in range(n):  # charts mount lazily after the run ends
        drawn.nth(i).scroll_into_view_if_needed(timeout=30_000)
        drawn.nth(i).wait_for(timeout=30_000)
    page.wait_for_timeout(1000)  # anything fetched late (a lazily loaded chunk) is fetched by now
    charts = page.locator('[data-testid="stVegaLiteChart"] svg.marks')
    for i in range(charts.count()):  # each chart on its own, to look at
        charts.nth(i).screenshot(path=str(ARTIFACTS / f"{name}-chart{i}.png"))
    screenshot(page, name)
    return scripts, page


@pytest.mark.parametrize("path", list(PAGES))
def test_page_loads_no_plotly(browser, server, path):
    scripts, page = _visit(browser, server, path, PAGES[path], 1440, f"vega-{path.split('?')[0] or 'home'}-1440")
    try:
        assert any("/static/js/" in s for s in scripts)  # the recorder saw the app's own scripts
        plotly = page.locator('[data-testid="stPlotlyChart"]').count()
        assert not [s for s in scripts if "PlotlyChart" in s or "plotly" in s.lower()]
        assert plotly == 0
        assert page.locator('[data-testid="stVegaLiteChart"] svg.marks').count() == _charts(path)
    finally:
        page.context.close()


@pytest.mark.parametrize("path", ["weekly", "alignment?align.proxy=offline:ndcg@10&align.target=online:retention_7d",
                                  "launch?exp=E045", DRIFT])
def test_narrow_screenshot(browser, server, path):
    _, page = _visit(browser, server, path, PAGES[path], 600, f"vega-{path.split('?')[0]}-600")
    try:
        for chart in page.locator('[data-testid="stVegaLiteChart"]').all():
            box = chart.bounding_box()
            assert box and box["x"] + box["width"] <= 600 + 1  # no chart wider than the screen
    finally:
        page.context.close()


@pytest.fixture(scope="module")
def checkout_server(tmp_path_factory):
    """An experiment that changes no model and measures no tree metric: Launch review draws its lift
    chart and no tree, so the page must load no Plotly at all."""
    from dashboard.cli import main

    tmp = tmp_path_factory.mktemp("checkout")
    (tmp / "e.csv").write_text("experiment_id,name,start_date,end_date,control_model,treatment_model\n"
                               "CHK-12,New checkout flow,2026-11-02,2026-11-29,,\n")
    (tmp / "r.csv").write_text(
        "experiment_id,variant,metric,n,sum,sum_sq\n"
        "CHK-12,control,conversion,50210,2410,2410\nCHK-12,treatment,conversion,50022,2551,2551\n"
        "CHK-12,control,<b>order</b>_value,50210,180000.5,9.8e6\nCHK-12,treatment,<b>order</b>_value,50022,183000.25,1.01e7\n")
    db = tmp / "x.duckdb"
    assert main(["ingest", "experiments", str(tmp / "e.csv"), "--db", str(db)]) == 0
    assert main(["ingest", "results", str(tmp / "r.csv"), "--db", str(db)]) == 0
    with running_server(db, "checkout-server") as url:
        yield url


def test_launch_review_without_a_tree_loads_no_plotly_and_shows_names_as_text(browser, checkout_server):
    scripts, page = _visit(browser, checkout_server, "launch?exp=CHK-12", "None of the metric tree's metrics",
                           1440, "vega-launch-no-tree")
    try:
        assert page.locator('[data-testid="stPlotlyChart"]').count() == 0
        assert not [s for s in scripts if "PlotlyChart" in s]
        chart = page.locator('[data-testid="stVegaLiteChart"] svg.marks').first
        described = page.locator('[data-testid="stVegaLiteChart"]').first.get_attribute("aria-label")
        assert described.startswith("Relative lift of each metric")  # the chart's name for screen readers
        labels = chart.locator("text").all_text_contents()
        assert any("<b>order</b>_value" in t for t in labels), labels  # the name as typed, not bold markup
        assert chart.locator("b").count() == 0
        # each point is labelled for screen readers, and its hover text is text too
        point = chart.locator('g.mark-symbol path[aria-label*="order"]').first
        assert "relative lift: +" in point.get_attribute("aria-label")
        point.hover(force=True)
        tip = page.locator("#vg-tooltip-element")
        tip.wait_for(state="visible", timeout=10_000)
        assert "<b>order</b>_value" in tip.inner_text() and tip.locator("b").count() == 0
        screenshot(page, "vega-launch-no-tree-hover")
    finally:
        page.context.close()
