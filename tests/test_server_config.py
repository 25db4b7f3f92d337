"""The served app's Streamlit settings that speed depends on (.streamlit/config.toml)."""

from __future__ import annotations

import tomllib

from dashboard.paths import REPO_DIR


def test_no_full_garbage_collection_after_every_script_run():
    # Streamlit's default runs gc.collect(2) after every run, a slider's fragment run included:
    # ~80 ms of CPU per move holding the GIL, which every other session waited for (docs/benchmarks.md)
    config = tomllib.loads((REPO_DIR / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
