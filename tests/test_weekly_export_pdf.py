"""The weekly PDF as a reader gets it: Unicode names survive, pages render, headings stay with
their content, charts fit the page and their labels are not cut."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest

from dashboard.export import figures, pdf_fonts
from dashboard.export import weekly as export
from dashboard.services import weekly
from dashboard.store.connection import connect

JAPANESE, EMOJI_MODEL = "東京都", "fraud-🚀-v4"
HEADINGS = ("Movements", "Charts", "Alerts", "Decisions", "Launches and events")


@pytest.fixture(scope="module")
def review(demo_db):
    con = connect(demo_db, read_only=True)
    try:
        r = weekly.week_review(con, None)
    finally:
        con.close()
    # a model and a segment as users name them, in an alert as the drift check writes it
    alert = {**r["alerts"][0], "title": f"{EMOJI_MODEL}: score distribution shifted for region = {JAPANESE} (PSI 0.31)",
             "detail": f"{EMOJI_MODEL} in {JAPANESE}: population stability index 0.31."}
    r["alerts"].insert(0, alert)
    r["alert_groups"].insert(0, {**r["alert_groups"][0], "subject": f"{EMOJI_MODEL} · region={JAPANESE}",
                                 "alerts": [alert], "decision": None})  # the export draws alerts by subject
    return r


@pytest.fixture(scope="module")
def pdf_bytes(review):
    return export.render_pdf(review)


def test_unicode_font_is_installed_and_used(pdf_bytes):
    from pypdf import PdfReader

    assert pdf_fonts.find("DejaVuSans.ttf"), "fonts-dejavu-core is missing (scripts/test.sh installs it)"
    fonts = {str(f["/BaseFont"]) for page in PdfReader(io.BytesIO(pdf_bytes)).pages
             for f in page["/Resources"].get("/Font", {}).values() for f in [f.get_object()]}
    assert any("DejaVuSans" in f for f in fonts), fonts
    assert not any("Helvetica" in f for f in fonts), fonts


def test_japanese_segment_and_emoji_model_are_extracted_as_written(pdf_bytes):
    from pypdf import PdfReader

    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_bytes)).pages)
    assert JAPANESE in text
    assert EMOJI_MODEL in text
    assert "?" not in text.split(EMOJI_MODEL)[1][:60]  # nothing replaced after the name either


def test_pages_render_and_no_heading_ends_a_page(pdf_bytes, tmp_path):
    from pypdf import PdfReader
    from PIL import Image

    exe = shutil.which("pdftoppm")
    assert exe, "pdftoppm is missing (scripts/test.sh installs poppler-utils)"
    (tmp_path / "w.pdf").write_bytes(pdf_bytes)
    subprocess.run([exe, "-r", "40", "-png", str(tmp_path / "w.pdf"), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"))
    reader = PdfReader(io.BytesIO(pdf_bytes))
    assert len(images) == len(reader.pages) >= 2
    for path in images:
        img = Image.open(path).convert("L")
        assert img.width > img.height  # landscape A4
        assert img.getextrema()[0] < 100  # something dark is printed on every page
    for page in reader.pages:
        lines = [x.strip() for x in page.extract_text().splitlines() if x.strip()]
        # a page may end on "Charts" only when its chart (an image, no text) follows on that page
        assert lines or page.images  # no blank page
        assert not lines or lines[-1] not in HEADINGS or lines[-1] == "Charts" and page.images, lines[-3:]


def test_charts_fit_the_page_two_to_a_page(pdf_bytes):
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf_bytes))
    per_page = [len(p.images) for p in reader.pages]
    assert sum(per_page) == export.CHARTS and max(per_page) <= 2
    for page in reader.pages:  # image placed at the text width, never past the page
        for name, obj in page["/Resources"].get("/XObject", {}).items():
            w, h = obj.get_object()["/Width"], obj.get_object()["/Height"]
            assert w / h == pytest.approx(export.CHART_PX[0] / export.CHART_PX[1], rel=0.01)


def test_chart_labels_have_room(review):
    row = next(r for r in review["metrics"] if r["metric"] == "retention_7d")
    fig = figures.timeseries_figure(review, row)
    assert fig.layout.yaxis.automargin and fig.layout.yaxis.tickformat == ".1%"  # 48.0%, not "48" cut from 0.48
    events = [a for a in fig.layout.annotations if a.yref == "paper"]
    assert events and all(a.y >= 1 and a.yanchor == "bottom" for a in events)  # above the plot
    week = [a for a in fig.layout.annotations if a.text == review["week"]]
    assert week and "bottom" in (week[0].yanchor or "bottom")  # at the foot of its band, apart from events
    assert fig.layout.margin.t >= 40 + 22 * min(3, len(events))
