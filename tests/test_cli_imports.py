"""The command line imports only the module of the command it runs: `ingest` paid ~1.7 s of CPU per
process importing every report's libraries (scipy.stats, ibis) to build its parser."""

import subprocess
import sys

import pytest

PROBE = """
import sys
from dashboard.cli import build_parser
args = build_parser({argv!r}).parse_args({argv!r})
print(sorted(m for m in ("scipy.stats", "ibis", "dashboard.services.ranking", "dashboard.lake.cli")
             if m in sys.modules))
"""


def _loaded(argv: list[str]) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True, check=True)
    return eval(out.stdout)  # a printed list of module names


def test_ingest_imports_no_report_module():
    assert _loaded(["ingest", "qrels", "qrels.trec"]) == []


def test_a_report_imports_its_own_module_only():
    loaded = _loaded(["report", "ranking", "--model", "a"])
    assert "dashboard.services.ranking" in loaded and "dashboard.lake.cli" not in loaded and "ibis" not in loaded
    # scipy.stats (~1 s) only when a difference is tested: a report without a baseline needs none
    assert "scipy.stats" not in loaded


@pytest.mark.parametrize("argv", [["report", "--help"], ["--help"]])
def test_help_still_lists_every_command_with_its_line(argv):
    out = subprocess.run([sys.executable, "-m", "dashboard", *argv], capture_output=True, text=True)
    assert out.returncode == 0
    assert "Ranking quality by segment" in out.stdout or "Summarise raw logs" in out.stdout
