"""The weekly review as a self-contained HTML file and a PDF, titled and dated.

HTML: one file, plotly.js inlined (interactive charts with no network access), sparklines as
inline SVG, no external stylesheet, font or image. PDF (fpdf2): the same sections, charts as PNG
images rendered by kaleido through Debian's chromium, sparklines drawn as vector lines.
"""

from __future__ import annotations

import html
import warnings
from datetime import datetime
from pathlib import Path

from dashboard.export import figures, pdf_fonts
from dashboard.export.format import pct, value

CHARTS = 3  # annotated time series of the most unusual metrics
SECTIONS = ("Movements", "Charts", "Alerts", "Decisions", "Launches and events")


def file_stem(review: dict) -> str:
    return f"weekly-review-{review['week']}"


def write_reports(review: dict, out_dir: Path) -> dict[str, Path]:
    """Write <out>/weekly-review-YYYY-Www.html and .pdf (written to a temporary name and renamed,
    so a scheduled job never mails half a file)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"html": out_dir / f"{file_stem(review)}.html", "pdf": out_dir / f"{file_stem(review)}.pdf"}
    for kind, build in (("html", render_html), ("pdf", render_pdf)):
        tmp = paths[kind].with_suffix(paths[kind].suffix + ".tmp")
        data = build(review)
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)
        tmp.replace(paths[kind])
    return paths


def _top_rows(review: dict) -> list[dict]:
    return [r for r in review["metrics"] if r["value"] is not None][:CHARTS]


def _summary(review: dict) -> str:
    moved = [r for r in review["metrics"] if r["status"] in ("worse", "better")]
    if not moved:
        return "No metric moved beyond its usual week-to-week variation."
    parts = [f"{r['name']} {pct(r['wow'])} ({r['status']}; expected {pct(r['expected'])})" for r in moved[:4]]
    return "Beyond their usual range this week: " + "; ".join(parts) + "."


# --- HTML ----------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#111827}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{margin-top:2rem;border-bottom:1px solid #e5e7eb;padding-bottom:.3rem}
.meta{color:#6b7280} table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #f3f4f6} th{background:#f9fafb}
.worse{color:#dc2626;font-weight:600} .better{color:#16a34a;font-weight:600} .usual{color:#6b7280}
.alert{border-left:4px solid #dc2626;padding:.4rem .8rem;margin:.5rem 0;background:#fef2f2}
.alert.medium{border-color:#d97706;background:#fffbeb}
"""


def render_html(review: dict) -> str:
    from plotly.offline import get_plotlyjs

    e = html.escape
    charts = "".join(
        f"<div>{figures.timeseries_figure(review, r).to_html(full_html=False, include_plotlyjs=False)}</div>"
        for r in _top_rows(review))
    rows = "".join(
        f"<tr><td>{e(r['name'])}</td><td>{e(r['level'])}</td><td>{value(r['value'], r.get('unit'))}</td>"
        f"<td class='{r['status']}'>{pct(r['wow'])}</td><td>{pct(r['yoy'])}</td><td>{pct(r['expected'])}</td>"
        f"<td>{figures.sparkline_svg(r['sparkline'], figures.status_colour(r['status']))}</td>"
        f"<td class='{r['status']}'>{e(r['status'])}</td></tr>" for r in review["metrics"])
    alerts = "".join(_html_group(g) for g in review["alert_groups"]) or "<p>No alerts.</p>"
    decisions = "".join(
        f"<tr><td>{e(d['experiment_id'])}</td><td>{e(d['name'])}</td><td>{d['end_date']}</td>"
        f"<td>{e(d['status'])}</td><td><b>{e(d['headline'])}</b><br>{'<br>'.join(e(x) for x in d['reasons'])}</td></tr>"
        for d in review["pending_decisions"])
    events = "".join(f"<tr><td>{a['date']}</td><td>{e(a['category'])}</td><td>{e(a['title'])}</td>"
                     f"<td>{e(a['description'])}</td></tr>" for a in review["annotations"])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(review['title'])}</title>
<style>{_CSS}</style><script type="text/javascript">{get_plotlyjs()}</script></head>
<body><h1>{e(review['title'])}</h1>
<p class="meta">Generated {datetime.now():%Y-%m-%d %H:%M}. Weekly value = mean of the daily values;
changes are relative; expected = the change the same week had a year ago (or the usual weekly change without a
year of history); a reading is better/worse when the change leaves its usual range (an unchanged metric does so
in 5% of weeks; {review.get('expected_false', {}).get('verdicts', 0):.1f} of this review's metrics a week by chance).</p>
<p>{e(_summary(review))}</p>
<h2>Movements</h2><table><tr><th>metric</th><th>level</th><th>this week</th><th>vs last week</th>
<th>vs a year ago</th><th>expected</th><th>last 12 weeks</th><th>reading</th></tr>{rows}</table>
<h2>Charts</h2>{charts}
<h2>Alerts</h2>{alerts}
<h2>Decisions</h2>{('<table><tr><th>experiment</th><th>name</th><th>ended</th><th>status</th><th>recommendation</th></tr>' + decisions + '</table>') if decisions else '<p>No experiment ended or awaits a decision.</p>'}
<h2>Launches and events</h2><table><tr><th>date</th><th>kind</th><th>title</th><th>note</th></tr>{events}</table>
</body></html>"""


def _html_group(g: dict) -> str:
    """One subject's alerts (and its experiment's pending decision) in one box."""
    e = html.escape
    items = "".join(f"<li><b>{e(a['kind'])}</b>: {e(a['title'])}. {e(a['detail'])}</li>" for a in g["alerts"])
    d = g.get("decision")
    if d:
        items += (f"<li><b>decision waiting</b> ({e(d['status'])}, ended {d['end_date']}): {e(d['headline'])}<br>"
                  + "<br>".join(e(x) for x in d["reasons"]) + "</li>")
    return (f"<div class='alert {g['severity']}'><b>{e(g['subject'])}</b><ul>{items}</ul>"
            f"<i>(in the app: {e(g['link']['label'])})</i></div>")


# --- PDF -----------------------------------------------------------------------------------


def chart_png(fig, width: int = 900, height: int = 340) -> bytes:
    """PNG through kaleido; one server is started and reused (~0.2 s a chart instead of ~4 s)."""
    import kaleido

    global _KALEIDO_STARTED
    if not _KALEIDO_STARTED:
        kaleido.start_sync_server(mathjax=False, silence_warnings=True)
        _KALEIDO_STARTED = True
    with warnings.catch_warnings():  # plotly warns that per-call options are ignored by a server
        warnings.simplefilter("ignore", UserWarning)
        return fig.to_image(format="png", width=width, height=height, scale=2)


_KALEIDO_STARTED = False


def _document(**kwargs):
    """An fpdf2 document with the export's font (DejaVu and its fallbacks when installed):
    `pdf.family` to set it, `pdf.t(text)` for text the font can print."""
    from fpdf import FPDF

    pdf = FPDF(**kwargs)
    unicode = pdf_fonts.use_unicode_fonts(pdf)
    pdf.family = pdf_fonts.FAMILY if unicode else "Helvetica"
    pdf.t = (lambda text: text) if unicode else pdf_fonts.latin
    return pdf


CHART_PX = (1200, 380)  # rendered size; placed at the page's full text width, two to a page


def render_pdf(review: dict) -> bytes:
    pdf = _document(orientation="landscape", format="A4")
    pdf.set_title(pdf.t(review["title"]))
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.set_font(pdf.family, "B", 16)
    pdf.cell(0, 9, pdf.t(review["title"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.family, "", 9)
    pdf.set_text_color(100)
    pdf.cell(0, 5, f"Generated {datetime.now():%Y-%m-%d %H:%M}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    pdf.set_font(pdf.family, "", 10)
    pdf.multi_cell(0, 5, pdf.t(_summary(review)), new_x="LMARGIN", new_y="NEXT")
    _pdf_movements(pdf, review)
    chart_h = pdf.epw * CHART_PX[1] / CHART_PX[0]
    _pdf_heading(pdf, "Charts", keep=chart_h)
    for r in _top_rows(review):
        png = chart_png(figures.timeseries_figure(review, r, height=CHART_PX[1]), *CHART_PX)
        if pdf.get_y() + chart_h > pdf.page_break_trigger:
            pdf.add_page()
        pdf.image(png, w=pdf.epw, h=chart_h)
        pdf.ln(2)
    _pdf_alerts(pdf, review)
    _pdf_decisions(pdf, review)
    _pdf_events(pdf, review)
    return bytes(pdf.output())


def _pdf_heading(pdf, text: str, keep: float = 20) -> None:
    """A section heading, on a new page unless `keep` mm of its content fit under it."""
    if pdf.get_y() + 11 + keep > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font(pdf.family, "B", 13)
    pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.family, "", 9)


_COLS = ((62, "metric"), (28, "level"), (30, "this week"), (28, "vs last week"), (30, "vs a year ago"),
         (18, "expected"), (40, "last 12 weeks"), (24, "reading"))


def _pdf_movements(pdf, review: dict) -> None:
    _pdf_heading(pdf, "Movements")
    pdf.set_font(pdf.family, "B", 9)
    for w, title in _COLS:
        pdf.cell(w, 6, title, border="B")
    pdf.ln()
    pdf.set_font(pdf.family, "", 9)
    for r in review["metrics"]:
        colour = {"worse": (220, 38, 38), "better": (22, 163, 74)}.get(r["status"], (60, 60, 60))
        cells = [r["name"], r["level"], value(r["value"], r.get("unit")), pct(r["wow"]), pct(r["yoy"]),
                 pct(r["expected"]), "", r["status"]]
        y = pdf.get_y()
        for (w, _), text in zip(_COLS, cells):
            x = pdf.get_x()
            if text == "" and w == 40:
                _pdf_sparkline(pdf, r["sparkline"], x + 1, y + 0.8, w - 4, 4.4, colour)
            pdf.set_text_color(*(colour if _ in ("vs last week", "reading") else (0, 0, 0)))
            pdf.cell(w, 6, pdf.t(str(text)))
        pdf.set_text_color(0)
        pdf.ln()


def _pdf_sparkline(pdf, values, x, y, w, h, colour) -> None:
    pts = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(pts) < 2:
        return
    lo, hi = min(v for _, v in pts), max(v for _, v in pts)
    span, n = (hi - lo) or 1.0, max(len(values) - 1, 1)
    xy = [(x + w * i / n, y + h - h * (v - lo) / span) for i, v in pts]
    pdf.set_draw_color(*colour)
    pdf.set_line_width(0.35)
    pdf.polyline(xy)
    pdf.set_draw_color(0)


def _pdf_alerts(pdf, review: dict) -> None:
    _pdf_heading(pdf, "Alerts")
    if not review["alert_groups"]:
        pdf.cell(0, 6, "No alerts.", new_x="LMARGIN", new_y="NEXT")
    for g in review["alert_groups"]:
        pdf.set_font(pdf.family, "B", 10)
        pdf.set_text_color(*((220, 38, 38) if g["severity"] == "high" else (217, 119, 6)))
        pdf.multi_cell(0, 5.5, pdf.t(f"{g['subject']} (in the app: {g['link']['label']})"),
                       new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0)
        for a in g["alerts"]:
            pdf.set_font(pdf.family, "B", 9)
            pdf.multi_cell(0, 4.5, pdf.t(f"[{a['kind']}] {a['title']}"), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font(pdf.family, "", 9)
            pdf.multi_cell(0, 4.5, pdf.t(a["detail"]), new_x="LMARGIN", new_y="NEXT")
        d = g.get("decision")
        if d:
            pdf.set_font(pdf.family, "B", 9)
            pdf.multi_cell(0, 4.5, pdf.t(f"[decision waiting] {d['headline']} ({d['status']}, ended {d['end_date']})"),
                           new_x="LMARGIN", new_y="NEXT")
            pdf.set_font(pdf.family, "", 9)
            for reason in d["reasons"]:
                pdf.multi_cell(0, 4.5, pdf.t(f"- {reason}"), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)


def _pdf_decisions(pdf, review: dict) -> None:
    _pdf_heading(pdf, "Decisions")
    if not review["pending_decisions"]:
        pdf.cell(0, 6, "No other experiment ended or awaits a decision (see the alerts).", new_x="LMARGIN",
                 new_y="NEXT")
    for d in review["pending_decisions"]:
        pdf.set_font(pdf.family, "B", 10)
        pdf.multi_cell(0, 5.5, pdf.t(f"{d['experiment_id']} {d['name']} (ended {d['end_date']}, {d['status']}): "
                                      f"{d['headline']}"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(pdf.family, "", 9)
        for reason in d["reasons"]:
            pdf.multi_cell(0, 4.5, pdf.t(f"- {reason}"), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)


def _pdf_events(pdf, review: dict) -> None:
    _pdf_heading(pdf, "Launches and events")
    for a in review["annotations"]:
        pdf.multi_cell(0, 5, pdf.t(f"{a['date']}  [{a['category']}]  {a['title']}"
                                    + (f" - {a['description']}" if a["description"] else "")),
                       new_x="LMARGIN", new_y="NEXT")
