"""Data shown as text: the markdown escape, URL parameters that fall back, strict report JSON, serve
warnings and the upload switch."""

from __future__ import annotations

import json
import re

import pytest

from dashboard.cli import finite_json, main, serve_warnings
from dashboard.ui.text import bullets, code, md
from tests.apptest import run_page
from tests.visible_text import SCIENTIFIC, page_texts

HOSTILE = "![x](http://198.51.100.7/beacon.png) [link](http://198.51.100.7/) **bold** :red[x] $x$ <img src=x> &lt; `c`"


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text).replace("\u2060", "")


def test_md_escapes_everything_that_starts_markup_and_keeps_the_characters():
    out = md(HOSTILE)
    unescaped = re.compile(r"(?<!\\)([\[\]*$`]|<(?=[a-z])|&(?=[a-z])|:(?=[a-z/]))")
    assert not unescaped.findall(out), out
    assert unescape(out) == HOSTILE
    assert md("user_tier=power, p < 0.001, 2026-W47: ok") == "user_tier=power, p < 0.001, 2026-W47: ok"
    assert md("_x_") == r"\_x\_"
    assert md("# title") == r"\# title" and md("1. item") == r"1\. item" and md("- item") == r"\- item"
    assert md("two\nlines") == "two lines"
    assert code("a`b") == "`` a`b ``" and code("m") == "`m`"
    assert bullets(["**a**"]) == r"- \*\*a\*\*"


@pytest.mark.parametrize("script,query", [
    ("thresholds.py", {"thr.t": "nan"}),
    ("thresholds.py", {"thr.t": "inf"}),
    ("thresholds.py", {"thr.cfp": "-inf", "thr.cfn": "nan"}),
    ("thresholds.py", {"thr.floor": "nan", "thr.budget": "-1e308", "thr.from": "9999-99-99"}),
    ("ranking.py", {"rank.k": "nan", "rank.min": "1e30"}),
    ("alignment.py", {"align.candidate": "1e308"}),
    ("launch_review.py", {"alpha": "nan", "exp": "![x](http://198.51.100.7/b.png)"}),
    ("metric_tree.py", {"days": "1e30"}),
])
def test_bad_url_parameters_fall_back_with_a_notice(app_env, script, query):
    at = run_page(script, query)  # fails on any exception shown
    assert not at.exception
    notices = " ".join(t.proto.body for t in at.toast) if hasattr(at, "toast") else ""
    if hasattr(at, "toast"):
        assert "Ignored" in notices


def test_report_json_has_no_nan_or_infinity():
    value, notes = finite_json({"a": [1.0, float("nan")], "b": {"c": float("-inf")}})
    assert value == {"a": [1.0, None], "b": {"c": None}}
    assert [n["path"] for n in notes] == ["$.a[1]", "$.b.c"]
    json.dumps(value, allow_nan=False)


def test_serve_warns_on_a_shared_address_without_login():
    assert serve_warnings("127.0.0.1", True, False) == []
    warnings = serve_warnings("0.0.0.0", True, False)
    assert any("without a login" in w for w in warnings) and any("--allow-uploads" in w for w in warnings)
    assert not any("without a login" in w for w in serve_warnings("0.0.0.0", False, True))


def test_serve_has_the_upload_switch():
    with pytest.raises(SystemExit):
        main(["serve", "--help"])


def test_upload_form_is_off_unless_allowed(app_env, monkeypatch):
    monkeypatch.delenv("DASHBOARD_ALLOW_UPLOADS", raising=False)
    at = run_page("data.py")
    assert not at.get("file_uploader") and "Loading from the browser is off" in " ".join(c.value for c in at.caption)
    monkeypatch.setenv("DASHBOARD_ALLOW_UPLOADS", "1")
    at = run_page("data.py")
    assert at.get("file_uploader")


def test_data_page_shows_no_server_paths(app_env, tmp_path):
    from dashboard.store.ingest import ingest_file
    from dashboard.store.readers import InputError

    bad = tmp_path / "secret_dir" / "refused.csv"
    bad.parent.mkdir()
    bad.write_text(f'model,score,label\n"{HOSTILE}",nan,1\n')
    with pytest.raises(InputError):
        ingest_file(app_env, "predictions", bad)
    at = run_page("data.py")
    shown = " ".join(e.value for e in at.error) + " ".join(m.value for m in at.markdown) + " ".join(
        c.value for c in at.caption)
    assert "refused.csv" in shown
    assert str(tmp_path) not in shown and "secret_dir" not in shown and str(app_env.parent) not in shown
    assert "![" not in shown and "](http" not in shown
    everything = " ".join(text for _, text in page_texts(at))
    assert "refused.csv" in everything and not SCIENTIFIC.search(everything)  # the limit reads ±10^15


def test_addresses_are_not_links_but_metric_cutoffs_stay_as_written():
    assert md("ops@example.org") == "ops@\u2060example.org"  # GFM would make a mailto: link
    assert md("ndcg@10") == "ndcg@10" and md("recall@1000 · mrr@10") == "recall@1000 · mrr@10"
