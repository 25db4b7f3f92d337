"""What a reader sees on a page run in AppTest, as plain strings (for format and naming scans).

Text elements, metrics, alerts, widget labels and their displayed options, expander and link
labels, table headers and cells (a Styler's display values when the page formats its table),
and chart text (titles, axis titles, legend names, annotations). Hover text is not visible
until pointed at and is left out.
"""

from __future__ import annotations

import io
import json
import re
from typing import Iterator

import pyarrow as pa
from streamlit.testing.v1.element_tree import Block, Widget

# scientific notation as printed by Python or d3 ("1.1e-45", "2E+03"), not inside a word
SCIENTIFIC = re.compile(r"(?<![\w.])[-+]?\d+(\.\d+)?[eE][-+]?\d+(?![\w])")
RAW_KIND_ID = re.compile(r"\b(online|offline|daily):[a-z0-9_@.>=]+")
CODE_SPAN = re.compile(r"`[^`]*`")
DOUBLE_RELATION = re.compile(r"=\s*[<>]")  # "q = < 0.001": a p or q pasted after its own "="


def page_texts(at) -> Iterator[tuple[str, str]]:
    """(where, text) pairs for everything visible on the page."""
    seen = set()
    for item in (*_walk(at.main, "main"), *_walk(at.sidebar, "sidebar")):
        if item not in seen:
            seen.add(item)
            yield item


def _walk(root, where: str) -> Iterator[tuple[str, str]]:
    for node in root:  # a Block iterates over itself and everything inside it
        if isinstance(node, Block):
            if node.type in ("expander", "tab") and getattr(node, "label", ""):
                yield f"{where}/{node.type}", node.label
            continue
        yield from _element(node, where)


def _element(e, where: str) -> Iterator[tuple[str, str]]:
    kind = getattr(e, "type", type(e).__name__)
    proto = getattr(e, "proto", None)
    tag = f"{where}/{kind}"
    if kind in ("dataframe", "table"):  # both carry arrow_data (and a Styler's display values)
        yield from ((tag, t) for t in _table_texts(proto))
        return
    if kind == "plotly_chart":
        yield from ((tag, t) for t in _chart_texts(json.loads(proto.spec)))
        return
    if kind == "vega_lite_chart":
        yield from ((tag, t) for t in _vega_texts(json.loads(proto.spec)))
        yield from ((tag, t) for t in _vega_drawn_texts(json.loads(proto.spec), proto))
        return
    if kind == "metric":
        for t in (proto.label, proto.body, proto.delta):
            if t:
                yield tag, t
        return
    for attr in ("label", "body", "value"):
        v = getattr(proto, attr, None) if attr != "value" else None
        if isinstance(v, str) and v:
            yield tag, v
    options = getattr(e, "options", None)
    if options:
        yield from ((tag, str(o)) for o in options)
    if isinstance(e, Widget):  # a widget shows its label and its formatted options, not its raw value
        return
    try:
        v = e.value
    except Exception:  # elements without a value
        v = None
    if isinstance(v, str) and v:
        yield tag, v


def _table_texts(proto) -> list[str]:
    arrow = proto.arrow_data
    shown = arrow.styler.display_values if arrow.HasField("styler") and arrow.styler.display_values else arrow.data
    if not shown:
        return []
    table = pa.ipc.open_stream(io.BytesIO(shown)).read_all()
    out = [str(c) for c in table.column_names if not str(c).startswith("__index_level")]
    for col in table.columns:
        for v in col.to_pylist():
            if isinstance(v, float):
                out.append(repr(v))  # what a grid without a format prints: raw digits
            elif v is not None and not isinstance(v, (list, dict, bytes)):
                out.append(str(v))
    return out


def _chart_texts(spec: dict) -> list[str]:
    out: list[str] = []
    layout = spec.get("layout", {})
    for trace in spec.get("data", []):
        if trace.get("showlegend", True) and trace.get("name"):
            out.append(str(trace["name"]))
        for t in trace.get("text", []) if isinstance(trace.get("text"), list) else [trace.get("text")]:
            if isinstance(t, str) and trace.get("mode", "").find("text") >= 0:
                out.append(t)
    for a in layout.get("annotations", []):
        if a.get("text"):
            out.append(str(a["text"]))
    title = layout.get("title")
    if title:
        out.append(str(title.get("text", "") if isinstance(title, dict) else title))
    for key, ax in layout.items():
        if key.startswith(("xaxis", "yaxis")) and isinstance(ax, dict):
            t = ax.get("title")
            t = t.get("text") if isinstance(t, dict) else t
            if t:
                out.append(str(t))
            out += [str(v) for v in ax.get("ticktext", []) or []]
    return out


def _vega_texts(spec: dict) -> list[str]:
    """A Vega-Lite chart's title, axis titles, legend entries (a colour scale's domain, a layer's datum) and
    fixed text marks."""
    out: list[str] = []
    title = spec.get("title")
    if title:
        out.append(str(title.get("text", "") if isinstance(title, dict) else title))
    for layer in [spec, *spec.get("layer", [])]:
        for channel, enc in (layer.get("encoding") or {}).items():
            if not isinstance(enc, dict):
                continue
            axis_title = (enc.get("axis") or {}).get("title") if isinstance(enc.get("axis"), dict) else None
            axis_title = axis_title or enc.get("title")
            if channel in ("x", "y") and axis_title:
                out.append(str(axis_title))
            legend = enc.get("legend", {})
            if channel in ("color", "strokeDash", "fill", "stroke") and legend is not None:
                out += [str(v) for v in (enc.get("scale") or {}).get("domain", [])]
                if isinstance(enc.get("datum"), str):  # a layer's own legend entry
                    out.append(enc["datum"])
        mark = layer.get("mark")
        if isinstance(mark, dict) and mark.get("type") == "text" and isinstance(mark.get("text"), str):
            out.append(mark["text"])
    return list(dict.fromkeys(out))


def _vega_drawn_texts(spec: dict, proto) -> list[str]:
    """The text a text mark draws from a field of a named dataset (a metric tree box's lines)."""
    datasets = {d.name: d.data.data for d in proto.datasets}
    out: list[str] = []
    for layer in spec.get("layer", []):
        mark, field = layer.get("mark"), ((layer.get("encoding") or {}).get("text") or {}).get("field")
        name = (layer.get("data") or {}).get("name")
        if isinstance(mark, dict) and mark.get("type") == "text" and field and name in datasets:
            table = pa.ipc.open_stream(io.BytesIO(datasets[name])).read_all()
            if field in table.column_names:
                out += [str(v) for v in table.column(field).to_pylist() if v is not None]
    return list(dict.fromkeys(out))


def problems(texts: list[tuple[str, str]], raw_ids: set[str]) -> list[str]:
    """Scientific notation or 'q = < 0.001' anywhere; 'online:task_success' or a tree id outside a `code span`."""
    id_word = re.compile(r"(?<![\w@`/.])(" + "|".join(map(re.escape, sorted(raw_ids))) + r")(?![\w`])") if raw_ids else None
    found = []
    for where, text in texts:
        if SCIENTIFIC.search(text):
            found.append(f"{where}: scientific notation in {text[:160]!r}")
        if DOUBLE_RELATION.search(text):
            found.append(f"{where}: '= <' in {text[:160]!r}")
        prose = CODE_SPAN.sub("", text)
        if RAW_KIND_ID.search(prose) or (id_word and id_word.search(prose)):
            found.append(f"{where}: raw id in {text[:160]!r}")
    return found
