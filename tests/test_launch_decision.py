"""Decision rules: each rule fires on a hand-built experiment, in the documented order."""

from __future__ import annotations

import pytest

from dashboard.metrics.decision import (
    DecisionRules,
    MetricInput,
    OfflineInput,
    check_guardrail,
    decide,
)
from dashboard.metrics.experiments import SuffStats, compare, srm_test


def stats_of(mean: float, sd: float, n: int) -> SuffStats:
    return SuffStats(n, n * mean, (n - 1) * sd * sd + n * mean * mean)


def cmp(mean_c, mean_t, sd, n=20_000, sd_t=None):
    return compare(stats_of(mean_c, sd, n), stats_of(mean_t, sd if sd_t is None else sd_t, n))


def retention(mean_t, primary=True):
    return MetricInput("retention_7d", cmp(0.40, mean_t, 0.49, n=200_000), "higher", "business",
                       primary=primary)


def latency(mean_t, sd=30.0, n=20_000):
    return MetricInput("latency_ms", cmp(200.0, mean_t, sd, n), "lower", "task", max_relative_change=0.10)


CTR_UP = MetricInput("ctr", cmp(0.10, 0.11, 0.3), "higher", "engagement")
NDCG_UP = OfflineInput("ndcg@10", 0.40, 0.432)


def test_e045_pattern_rolls_back_with_every_reason():
    d = decide([retention(0.394), CTR_UP, latency(224.0)], srm_test(20_000, 20_000), [NDCG_UP])
    assert d.verdict == "roll back" and d.headline == "Roll back: do not ship"
    rules = [r.rule for r in d.reasons]
    assert {"guardrail", "harm", "trap", "proxy"} <= set(rules)
    text = " ".join(d.reason_texts)
    assert "Guardrail breached: latency_ms +12.0% against a limit of 10%" in text
    assert "retention_7d (business) got significantly worse: -1.5%" in text
    assert "Offline-online trap" in text and "ndcg@10 +8.0%" in text
    assert "Proxy over-optimisation: ctr" in text
    assert d.trap and set(d.broken) == {"latency_ms", "retention_7d"}
    assert d.statuses == {"retention_7d": "worse", "ctr": "better", "latency_ms": "worse"}
    (g,) = d.guardrails
    assert g.status == "breached" and not g.passed and g.worse_change == pytest.approx(0.12)


def test_clean_win_ships():
    d = decide([retention(0.41), latency(202.0, sd=10.0)], srm_test(20_000, 20_000), [NDCG_UP])
    assert d.verdict == "ship", d.reason_texts
    assert not d.trap and d.broken == ()
    assert d.statuses["latency_ms"] == "worse"  # significantly slower, but within its bound
    assert d.guardrails[0].status == "pass"
    assert any(r.rule == "primary" and r.severity == "ok" for r in d.reasons)


def test_inconclusive_primary_holds_and_flat_business_with_offline_gain_is_a_trap():
    d = decide([retention(0.4005)], None, [NDCG_UP])
    assert d.verdict == "hold"
    assert any("inconclusive" in t for t in d.reason_texts)
    assert d.trap and any("retention_7d flat" in t for t in d.reason_texts)
    # offline got worse: no trap
    d2 = decide([retention(0.4005)], None, [OfflineInput("ndcg@10", 0.40, 0.39)])
    assert not d2.trap


def test_sample_ratio_mismatch_holds_even_a_winner():
    d = decide([retention(0.41)], srm_test(20_000, 21_000))
    assert d.verdict == "hold"
    assert d.reasons[0].rule == "srm" and "sample ratio mismatch" in d.reasons[0].text


def test_guardrail_interval_rule_vs_estimate_rule():
    noisy = latency(215.0, sd=300.0, n=2_000)  # +7.5%, interval reaches far past +10%
    g = check_guardrail(noisy, DecisionRules())
    assert g.status == "at risk" and g.worst_case > 0.10 and "not yet shown to be safe" in g.detail
    d = decide([retention(0.41), noisy])
    assert d.verdict == "hold" and any("Guardrail at risk" in t for t in d.reason_texts)
    d_est = decide([retention(0.41), noisy], rules=DecisionRules(guardrail_rule="estimate"))
    assert d_est.verdict == "ship"


def test_guardrail_with_zero_control_mean_is_unknown_and_holds():
    zero = MetricInput("errors", compare(SuffStats(100, 0.0, 0.0), SuffStats(100, 3.0, 3.0)),
                       "lower", "task", max_relative_change=0.05)
    g = check_guardrail(zero, DecisionRules())
    assert g.status == "unknown" and "control mean is 0" in g.detail
    assert decide([retention(0.41), zero]).verdict == "hold"


def test_absolute_guardrail_on_a_higher_is_better_metric():
    m = MetricInput("task_success", cmp(0.60, 0.585, 0.49, n=200_000), "higher", "task",
                    max_absolute_change=0.01)
    g = check_guardrail(m, DecisionRules())
    assert g.status == "breached" and g.worse_change == pytest.approx(0.015)
    assert "task_success may fall by at most 0.01 (absolute)" == g.bound


def test_guardrail_estimate_past_the_limit_but_not_shown_is_investigated_not_rolled_back():
    # -0.015 against a 0.01 limit, but the 95% interval reaches back to about -0.005: not shown
    m = MetricInput("task_success", cmp(0.60, 0.585, 0.49), "higher", "task", max_absolute_change=0.01)
    g = check_guardrail(m, DecisionRules())
    assert g.status == "at risk" and g.over_limit and "the breach is not shown" in g.detail
    d = decide([retention(0.41), m])
    assert d.verdict == "hold" and d.headline == "Hold: investigate" and d.investigate == ("task_success",)
    assert d.broken == ()
    # the estimate rule keeps the old meaning: the estimate past the limit is a breach
    d_est = decide([retention(0.41), m], rules=DecisionRules(guardrail_rule="estimate"))
    assert d_est.verdict == "roll back" and d_est.broken == ("task_success",)


def test_secondary_metrics_use_bh_q_values():
    c = cmp(1.0, 1.065, 1.0, n=2_000)  # p ~ 0.04 on its own
    assert 0.03 < c.p_value < 0.05
    secondary = MetricInput("session_length", c, "higher", "engagement", q_value=0.12)
    d = decide([retention(0.41), secondary])
    assert d.statuses["session_length"] == "inconclusive"
    d_raw = decide([retention(0.41), secondary], rules=DecisionRules(correct_secondary=False))
    assert d_raw.statuses["session_length"] == "better"


def test_harm_on_a_non_protected_metric_does_not_roll_back_but_is_marked_broken():
    worse_ctr = MetricInput("ctr", cmp(0.10, 0.09, 0.3), "higher", "engagement")
    d = decide([retention(0.41), worse_ctr])
    assert d.verdict == "ship" and d.broken == () and d.statuses["ctr"] == "worse"
    d2 = decide([retention(0.41), worse_ctr], rules=DecisionRules(protected_levels=("business", "engagement")))
    assert d2.verdict == "roll back"


def test_no_primary_metric_holds():
    d = decide([retention(0.41, primary=False)])
    assert d.verdict == "hold" and any("No primary metric" in t for t in d.reason_texts)


def test_rules_from_mapping():
    r = DecisionRules.from_mapping({"alpha": 0.01, "protected_levels": "business", "guardrail_rule": "estimate"})
    assert r.alpha == 0.01 and r.protected_levels == ("business",)
    assert r.as_dict()["protected_levels"] == ["business"]
    with pytest.raises(ValueError, match="unknown decision rule"):
        DecisionRules.from_mapping({"alpah": 0.1})
    with pytest.raises(ValueError, match="guardrail_rule"):
        DecisionRules.from_mapping({"guardrail_rule": "vibes"})
    with pytest.raises(ValueError, match="alpha"):
        DecisionRules.from_mapping({"alpha": 5})


def test_click_optimised_ranker_is_named_proxy_over_optimisation():
    session = MetricInput("session_length", cmp(12.0, 11.6, 8.0), "higher", "engagement")
    d = decide([retention(0.4005), CTR_UP, session], None, [NDCG_UP])
    assert d.verdict == "hold"
    proxy = [r for r in d.reasons if r.rule == "proxy"]
    assert proxy and proxy[0].text.startswith("Proxy over-optimisation: ctr +10.0%")
    assert "session_length -3.3%" in proxy[0].text
    assert d.trap  # offline up, primary flat


# ---------------------------------------------------------------- corrected harm (issue 15)


def revenue(mean_t, n=20_000):
    return MetricInput("revenue_per_user", cmp(1.80, mean_t, 9.0, n=n), "higher", "business")


def test_harm_at_raw_p_only_reads_hold_investigate():
    r = revenue(1.62)  # -10%, p ~ 0.045 on its own; BH over the 2-metric roll-back family: q ~ 0.045
    assert 0.04 < r.comparison.p_value < 0.05
    d = decide([retention(0.41), r])
    assert d.verdict == "hold" and d.headline == "Hold: investigate"
    assert d.investigate == ("revenue_per_user",) and d.broken == ()
    (reason,) = [x for x in d.reasons if x.rule == "investigate"]
    assert reason.severity == "warn" and reason.text.startswith("Investigate: revenue_per_user (business) looks worse")
    assert "BH q = 0.046" in reason.text and "needs q < 0.01" in reason.text
    assert d.harms["revenue_per_user"].status == "investigate"
    # the old rule (roll back on raw p) is still available, and says so
    old = decide([retention(0.41), r], rules=DecisionRules(correct_harm=False))
    assert old.verdict == "roll back" and "unadjusted p-value" in " ".join(old.reason_texts)


def test_harm_that_survives_the_correction_rolls_back():
    r = revenue(1.50)  # -17%, p ~ 0.0009
    d = decide([retention(0.41), r])
    assert d.verdict == "roll back" and d.broken == ("revenue_per_user",) and d.investigate == ()
    (reason,) = [x for x in d.reasons if x.rule == "harm"]
    assert "survives the correction for the 2 metric(s) that can force a roll back" in reason.text
    h = d.harms["revenue_per_user"]
    assert h.status == "shown" and h.family_size == 2 and h.q_value < 0.01


def test_primary_worse_at_its_own_p_only_is_investigated():
    d = decide([retention(0.3968)])  # -0.8%, p ~ 0.04
    assert 0.01 < d.harms["retention_7d"].q_value < 0.05
    assert d.statuses["retention_7d"] == "worse"  # its own p-value colours it, as before
    assert d.verdict == "hold" and d.headline == "Hold: investigate"


def test_engagement_harm_joins_the_family_without_loosening_it():
    ctr_down = MetricInput("ctr", cmp(0.10, 0.0935, 0.3), "higher", "engagement")  # p ~ 0.03
    strict = DecisionRules(protected_levels=("business", "engagement"))
    d = decide([retention(0.41), revenue(1.80), ctr_down], rules=strict)
    assert d.harms["ctr"].family_size == 3 and d.harms["ctr"].status == "investigate"
    assert d.verdict == "hold"
    assert "ctr" not in decide([retention(0.41), revenue(1.80), ctr_down]).harms  # default: not in the family


def test_material_harm_declared_per_metric_rolls_back_when_the_interval_is_past_it():
    r = revenue(1.62)  # -10%, interval about [-19.8%, -0.2%]: not past 5%, past 0.1%
    assert decide([retention(0.41), r], rules=DecisionRules(material_harm={"revenue_per_user": 0.05})).verdict == "hold"
    d = decide([retention(0.41), r], rules=DecisionRules(material_harm={"revenue_per_user": 0.001}))
    assert d.verdict == "roll back" and d.harms["revenue_per_user"].material == 0.001
    assert "past the declared material harm of 0.1%" in " ".join(d.reason_texts)
    d2 = decide([retention(0.41), r], rules=DecisionRules(default_material_harm=0.001))
    assert d2.verdict == "roll back"


def test_new_rule_keys_from_mapping_and_their_errors():
    r = DecisionRules.from_mapping({"rollback_alpha": 0.005, "material_harm": {"revenue_per_user": 0.02},
                                    "default_material_harm": 0.05, "correct_harm": False})
    assert r.rollback_alpha == 0.005 and r.material_threshold("revenue_per_user") == 0.02
    assert r.material_threshold("retention_7d") == 0.05 and not r.correct_harm
    assert r.as_dict()["material_harm"] == {"revenue_per_user": 0.02}
    assert DecisionRules().as_dict()["rollback_alpha"] == 0.01 and DecisionRules().correct_harm
    with pytest.raises(ValueError, match="rollback_alpha"):
        DecisionRules.from_mapping({"rollback_alpha": 1.5})
    with pytest.raises(ValueError, match="material_harm revenue_per_user"):
        DecisionRules.from_mapping({"material_harm": {"revenue_per_user": 2}})
    with pytest.raises(ValueError, match="material_harm must be a mapping"):
        DecisionRules.from_mapping({"material_harm": 0.02})
