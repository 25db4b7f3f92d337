"""One experiment's evidence and decision from its sufficient statistics: the single path behind
the Launch review scorecard, its tree colours, the Metric tree's experiment mode, `report
experiment`, the weekly review's decisions and the calibration benchmark.

No queries here: callers read the statistics (dashboard.services.tree.overall_stats /
offline_values) and pass them in, so simulations can run the same path without a database.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.metrics.cuped import cuped_compare, has_pre
from dashboard.metrics.decision import Decision, DecisionRules, MetricInput, OfflineInput, decide
from dashboard.metrics.experiments import SRMResult, SuffStats, benjamini_hochberg, compare, srm_test
from dashboard.tree import MetricTree

Stats = dict[str, tuple[SuffStats, SuffStats]]  # metric -> (control, treatment)


@dataclass(frozen=True)
class Evaluation:
    inputs: list[MetricInput]  # ordered by tree level, primary first
    srm: SRMResult | None
    offline: list[OfflineInput]
    decision: Decision

    def input(self, metric: str) -> MetricInput | None:
        return next((m for m in self.inputs if m.metric == metric), None)


def evaluate(stats: Stats, offline_raw: dict[str, tuple[float, float]], tree: MetricTree | None,
             rules: DecisionRules, primary: str | None = None,
             expected_control_share: float = 0.5) -> Evaluation:
    inputs = metric_inputs(stats, tree, rules, primary)
    srm = srm_of(stats, expected_control_share, rules.srm_threshold)
    offline = [offline_input(tree, m, c, t) for m, (c, t) in offline_raw.items()]
    return Evaluation(inputs, srm, offline, decide(inputs, srm, offline, rules))


def metric_inputs(stats: Stats, tree: MetricTree | None, rules: DecisionRules,
                  primary: str | None) -> list[MetricInput]:
    """Comparisons with what the tree says, and BH q-values over the non-primary metrics."""
    adjusted = {m: cuped_compare(c, t, rules.alpha) for m, (c, t) in stats.items() if has_pre(c, t)}
    adjusted = {m: r for m, r in adjusted.items() if r is not None}
    # the decision (and BH) use the CUPED-adjusted comparison where the pre-period is loaded
    comparisons = {m: adjusted[m].adjusted if m in adjusted else compare(c, t, rules.alpha)
                   for m, (c, t) in stats.items()}
    tree_primary = tree.primary() if tree else None
    primary_metric = primary or (tree_primary.data.online if tree_primary else None)
    secondary = [m for m in comparisons if m != primary_metric]
    q = dict(zip(secondary, benjamini_hochberg([comparisons[m].p_value for m in secondary])))
    inputs = []
    for metric, c in comparisons.items():
        node = tree.by_data("online", metric) if tree else None
        g = node.guardrail if node else None
        inputs.append(MetricInput(
            metric=metric, comparison=c,
            direction=node.direction if node else "higher",
            level=node.level if node else "other",
            name=node.name if node else metric,
            primary=metric == primary_metric,
            max_relative_change=g.max_relative_change if g else None,
            max_absolute_change=g.max_absolute_change if g else None,
            q_value=q.get(metric),
            cuped=adjusted.get(metric),
        ))
    levels = list(tree.levels) if tree else []
    inputs.sort(key=lambda m: (levels.index(m.level) if m.level in levels else len(levels),
                               not m.primary, m.metric))
    return inputs


def srm_of(stats: Stats, expected_control_share: float, threshold: float) -> SRMResult | None:
    """SRM on the unit counts of the metric with the most units (every user counts there)."""
    if not stats:
        return None
    c, t = max(stats.values(), key=lambda pair: pair[0].n + pair[1].n)
    return srm_test(c.n, t.n, expected_control_share, threshold)


def offline_input(tree: MetricTree | None, metric: str, control: float, treatment: float) -> OfflineInput:
    node = tree.by_data("offline", metric) if tree else None
    return OfflineInput(metric, control, treatment, node.direction if node else "higher")
