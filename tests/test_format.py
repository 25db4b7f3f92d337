"""dashboard/format.py: one way to write numbers on pages, in reports and in exports."""

import math
import re

import pytest

from dashboard import format as fmt
from dashboard.tree.loader import load_tree
from dashboard.paths import DATA_DIR

SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")


@pytest.mark.parametrize("v, unit, text", [
    (0.4591, "share of users", "45.9%"),
    (0.404, "share of sessions", "40.4%"),
    (0.01019, "share of orders", "1.02%"),
    (0.00145, "%", "0.145%"),
    (2.512, "$", "$2.51"),
    (-0.4, "$", "-$0.40"),
    (12345.6, "€", "€12,346"),
    (191.4, "ms", "191 ms"),
    (4.25, "min", "4.25 min"),
    (379115, "users", "379,115"),
    (0.41234, "", "0.412"),
    (None, "ms", "n/a"),
    (float("nan"), "$", "n/a"),
])
def test_value_in_the_unit_of_the_tree(v, unit, text):
    assert fmt.value(v, unit) == text


def test_units_of_the_demo_tree_are_all_known_kinds():
    tree = load_tree(DATA_DIR / "metric_tree.yaml").tree
    kinds = {n.id: fmt.unit_kind(n.unit) for n in tree.nodes}
    assert kinds["retention_7d"] == kinds["ctr"] == kinds["fraud_alert_rate"] == "rate"
    assert kinds["revenue_per_user"] == "money"
    assert kinds["latency_ms"] == kinds["session_length"] == "duration"
    assert kinds["dau"] == "count"
    assert kinds["ndcg_10"] == "score"


@pytest.mark.parametrize("v, text", [(0.0066, "+0.66%"), (-0.0183, "-1.8%"), (0.1234, "+12.3%"),
                                     (0.0, "+0.0%"), (-0.00035, "-0.035%"), (None, "n/a")])
def test_relative_change(v, text):
    assert fmt.change(v) == text


@pytest.mark.parametrize("v, unit, text", [(0.004, "share of users", "+0.40 pp"), (-0.25, "$", "-$0.25"),
                                           (19.14, "ms", "+19.1 ms"), (-1234.0, "users", "-1,234"),
                                           (0.0123, "", "+0.0123")])
def test_absolute_change(v, unit, text):
    assert fmt.delta(v, unit) == text


@pytest.mark.parametrize("p, text", [(1.1e-45, "< 0.001"), (0.00099, "< 0.001"), (0.001, "0.001"),
                                     (0.0432, "0.043"), (0.5, "0.500"), (1.0, "1.000"), (None, "n/a")])
def test_p_and_q_values(p, text):
    assert fmt.p_value(p) == text


def test_one_interval_style():
    assert fmt.interval(-0.003, 0.027, fmt.change) == "[-0.30%, +2.7%]"
    assert fmt.interval(0.41, 0.45, fmt.score) == "[0.410, 0.450]"
    assert fmt.with_interval(0.012, -0.003, 0.027, fmt.change) == "+1.2% [-0.30%, +2.7%]"
    assert fmt.with_interval(0.012, None, None, fmt.change) == "+1.2%"
    assert fmt.interval(None, 1.0) == "n/a"


def test_counts_have_thousands_separators():
    assert fmt.count(379115) == "379,115"
    assert fmt.count(1234567.4) == "1,234,567"
    assert fmt.number(2_500_000.0) == "2,500,000"


@pytest.mark.parametrize("v", [1.1e-45, -3e-12, 2.5e-7, 1e-4, 0.5, 3.0, 12.5, 999.9, 1e6, 1e15, -7.7e20])
def test_nothing_is_ever_scientific(v):
    outs = [fmt.number(v), fmt.score(v), fmt.percent(v), fmt.change(v), fmt.money(v), fmt.count(v),
            fmt.duration(v), fmt.p_value(abs(v)), fmt.delta(v, ""), fmt.delta(v, "share of users")]
    outs += [fmt.value(v, u) for u in ("", "share of users", "$", "ms", "users")]
    for text in outs:
        assert not SCIENTIFIC.search(text), text


def test_tiny_numbers_read_zero_not_a_long_string():
    assert fmt.number(1.1e-45) == "0"
    assert fmt.number(-0.00012345) == "-0.000123"
    assert math.isclose(float(fmt.number(0.000123)), 0.000123)


def test_axis_and_hover_formats_are_d3_not_si():
    for unit in ("", "share of users", "$", "ms", "users"):
        ax = fmt.axis(unit)
        assert "s" not in ax["tickformat"]  # d3 's' is SI (0.48 -> 480m)
        assert "e" not in fmt.hover(unit)
    assert fmt.axis("share of users")["tickformat"] == ".1%"
    assert fmt.axis("ms")["ticksuffix"] == " ms"
    assert fmt.axis("$")["tickprefix"] == "$"


def test_weekly_export_formats_use_the_shared_module():
    from dashboard.export import format as legacy

    assert legacy.pct(-0.0183) == fmt.change(-0.0183)
    assert legacy.value(0.4591, "share of users") == "45.9%"


def test_p_in_a_sentence():
    assert fmt.p_is(2.3e-05) == "p < 0.001"
    assert fmt.p_is(0.0432, "q") == "q = 0.043"


def test_a_tree_nodes_q_value_reads_as_the_scorecard_writes_it():
    from types import SimpleNamespace

    from dashboard.services.tree import _evidence_note
    note = lambda q: _evidence_note(SimpleNamespace(primary=False, q_value=q))  # noqa: E731
    assert note(0.0).startswith("q < 0.001 (")  # was "q = 0"
    assert note(0.04321).startswith("q = 0.043 (")
