"""Data shown as text, never markup: the one escape for every place a value from the data (model,
segment, experiment, metric names, refused values, file names) meets Streamlit markdown.

Streamlit renders markdown in st.markdown, st.caption, st.info/warning/error/success, st.toast,
st.subheader, st.metric labels, expander and tab labels and `help=` tooltips: a value holding
`![x](http://host/beacon.png)` would make every viewer's browser fetch that address, `**x**`,
`:red[x]` or `$x$` would restyle it. CommonMark lets any ASCII punctuation be escaped with a
backslash; `md(value)` escapes what could start markup (and `:` before a letter, for Streamlit's
directives), so the characters of `value` are shown as written. Streamlit links bare `http://`,
`www.` and `name@host` after escapes are read, so those get an invisible word joiner (U+2060). Tables (st.dataframe)
and widget options are plain text already and need nothing.
"""

from __future__ import annotations

import re
from typing import Any

_ALWAYS = re.compile(r"([\\`*\[\]~$|])")  # code, emphasis, links/images/directives, strike, maths, tables
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")  # intraword _ never emphasises
_TAG = re.compile(r"<(?=[A-Za-z/!?])")  # HTML and <autolinks>
_ENTITY = re.compile(r"&(?=[A-Za-z#])")  # &lt; would show as <
_DIRECTIVE = re.compile(r":(?=[A-Za-z])")  # :red[x], :red alone, :material/icon:, :smile:
# Streamlit turns bare http://... and www. into links after escapes are read: an invisible word joiner
# (U+2060) inside the prefix keeps them text (the only character added to what is shown)
_URL = re.compile(r"(?<=[A-Za-z]):(?=//)|(?i:(?<=www))\.")
# name@host.tld becomes a mailto: link the same way (only with a dotted host: ndcg@10 stays as written)
_EMAIL = re.compile(r"@(?=[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.[A-Za-z0-9])")
JOINER = "\u2060"
_LEAD = re.compile(r"^(\s*)([#>+=-]|\d+[.)])")  # a heading, quote or list when it starts a line
_SPACE = re.compile(r"[\r\n\t\x0b\x0c]+")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def md(value: Any) -> str:
    """`value` as literal text inside markdown: what could start markup is backslash-escaped (the rest,
    such as `user_tier`, `p < 0.001` or `2026-W47`, stays as written), line breaks become spaces."""
    text = _CONTROL.sub("", _SPACE.sub(" ", str(value)))
    text = _ALWAYS.sub(r"\\\1", text)
    text = _UNDERSCORE.sub(r"\\_", text)
    text = _TAG.sub(r"\\<", text)
    text = _ENTITY.sub(r"\\&", text)
    text = _URL.sub(lambda m: m.group(0) + JOINER if m.group(0) == ":" else JOINER + m.group(0), text)
    text = _EMAIL.sub("@" + JOINER, text)
    text = _DIRECTIVE.sub(r"\\:", text)
    return _LEAD.sub(_lead, text)


def _lead(m: re.Match) -> str:
    mark = m.group(2)  # backslash before punctuation only: "1." becomes "1\."
    return m.group(1) + (mark[:-1] + "\\" + mark[-1] if mark[0].isdigit() else "\\" + mark)


def code(value: Any) -> str:
    """`value` as an inline code span (monospace, never markup), whatever backticks it holds."""
    text = _CONTROL.sub("", _SPACE.sub(" ", str(value)))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}" if longest else f"`{text}`"


def md_list(values) -> str:
    """Several values, each literal, joined by commas."""
    return ", ".join(md(v) for v in values)


def bullets(lines) -> str:
    """A markdown list whose items are literal text (e.g. a refusal's problems)."""
    return "\n".join(f"- {md(line)}" for line in lines)
