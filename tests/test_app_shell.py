"""AppTest: the shell, the home page and the Data page render on the demo without exceptions."""

from __future__ import annotations

import re

import pytest

from dashboard.ui.app_pages import available_pages
from tests.apptest import run_page


def test_home_lists_every_available_page(app_env):
    at = run_page("home.py")
    assert at.title[0].value.startswith("This week")  # the demo has daily metrics: Home opens on its week
    links = {p.proto.label.split("**")[1] for p in at.get("page_link") if " — " in p.proto.label}
    expected = {title for script, title, *_ in available_pages() if script != "home.py"}
    assert links == expected


def test_data_page_shows_tables_and_last_refusal(app_env, tmp_path):
    from dashboard.store.ingest import ingest_file
    from dashboard.store.readers import InputError

    bad = tmp_path / "bad_results.csv"
    bad.write_text("experiment_id,variant,metric,n,sum,sum_sq\nE1,control,ctr,-1,0,0\n")
    with pytest.raises(InputError):
        ingest_file(app_env, "results", bad)
    at = run_page("data.py")
    tables = at.table[0].value
    names = {t.split(" (")[0] for t in tables["table (kind)"]}
    assert {"predictions", "rankings", "experiments", "experiment_results", "daily_metrics"} <= names
    assert all(r and r != "0" for r in tables["rows"])
    errors = " ".join(e.value for e in at.error)
    assert "bad_results.csv" in errors
    problems = re.sub(r"\\(.)", r"\1", " ".join(m.value for m in at.markdown))  # shown literally: escaped
    assert "line 2, column 'n': found '-1'" in problems


@pytest.mark.parametrize("script", [p[0] for p in available_pages()])
def test_every_page_renders_without_exception(app_env, script):
    run_page(script)


def test_importing_the_app_layer_before_the_server_logs_no_warning():
    """`serve` and the launcher import the cached layer before Streamlit's runtime exists; the
    harmless "No runtime found" warning per cache must not reach the user's terminal."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "import dashboard.ui.warm, dashboard.ui.db"],
                         capture_output=True, text=True, check=True)
    assert "WARNING" not in out.stderr + out.stdout, out.stderr
