"""The README stays short, its links resolve, and it names every option of the two commands."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def test_short_enough_to_read():
    assert len(README) < 8000


def test_links_and_images_resolve():
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    assert "docs/img/home.png" in targets and "docs/benchmarks.md" in targets
    missing = [t for t in targets if not t.startswith("http") and not (REPO / t).exists()]
    assert missing == []


def test_every_serve_option_is_in_the_start_table():
    out = subprocess.run([sys.executable, "-m", "dashboard", "serve", "--help"], capture_output=True, text=True,
                         cwd=REPO, check=True).stdout
    options = set(re.findall(r"(--[a-z][a-z-]+)", out)) - {"--help"}
    table = README.split("`start.sh` passes its options", 1)[1].split("## Pages", 1)[0]
    assert options and all(f"`{o}" in table for o in options), options
    assert 'serve "$@"' in (REPO / "scripts" / "start.sh").read_text()  # start.sh really passes them on
