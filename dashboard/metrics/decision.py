"""Launch decision rules: ship, hold or roll back, with every reason listed.

Pure: takes per-metric comparisons (dashboard.metrics.experiments) plus what the metric tree says
about each metric (level, direction, guardrail bound, primary) and returns a Decision.

The rules, applied in this order (all configurable through `DecisionRules`):

1. Sample-ratio mismatch (chi-square p < srm_threshold) -> hold: the split is broken, so no
   result can be trusted; fix assignment/logging and rerun.
2. A guardrail breached -> roll back. Breached means the *estimate* moved the wrong way by more
   than the bound (e.g. latency +12% against a +10% bound).
3. A metric at a protected level (default: business) significantly worse -> roll back.
4. The primary metric significantly worse -> roll back.
5. guardrail_rule = "interval" (default): a guardrail whose confidence interval reaches past its
   bound is not shown to be safe -> hold (more data needed). With "estimate" only rule 2 applies.
6. The primary metric significantly better -> ship; otherwise hold (inconclusive or missing).

Significance: a metric is "significantly better/worse" when its Welch p-value < alpha in that
direction. False discoveries across many metrics are handled so: the primary metric is declared
before the test, so its own p-value decides; the scorecard's other metrics are marked significant
only when their Benjamini-Hochberg q-value < alpha (correct_secondary). Harm checks (rules 3-4)
use the unadjusted p-value by default (correct_harm = False): a false alarm costs a hold or a
second look, a missed harm costs users.

The offline-online trap is called out (it never changes the verdict by itself): an offline model
metric improved (relative gain > offline_min_gain) while the primary or a protected metric is
worse or flat online. Proxy over-optimisation (an engagement metric significantly better while a
protected metric is significantly worse, e.g. clicks up and retention down) is named too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, Mapping, Sequence

from dashboard import format as fmt
from dashboard.metrics.experiments import Comparison, SRMResult

Verdict = Literal["ship", "hold", "roll back"]
HEADLINES: dict[str, str] = {
    "ship": "Ship",
    "hold": "Hold: do not ship yet",
    "roll back": "Roll back: do not ship",
}


@dataclass(frozen=True)
class DecisionRules:
    alpha: float = 0.05
    srm_threshold: float = 0.001
    protected_levels: tuple[str, ...] = ("business",)
    guardrail_rule: Literal["interval", "estimate"] = "interval"
    correct_secondary: bool = True  # BH across the scorecard's non-primary metrics
    correct_harm: bool = False  # use BH q-values (not raw p) when looking for harm
    offline_min_gain: float = 0.0  # relative offline gain that counts as "offline improved"
    engagement_levels: tuple[str, ...] = ("engagement",)  # proxies checked for over-optimisation

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> "DecisionRules":
        """Rules from a YAML mapping; unknown keys and bad values raise ValueError naming them."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown decision rule(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        for key in ("protected_levels", "engagement_levels"):
            if key in data:
                value = data[key]
                data[key] = (value,) if isinstance(value, str) else tuple(value)
        rules = cls(**data)
        rules.validate()
        return rules

    def validate(self) -> None:
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha!r}")
        if not 0 < self.srm_threshold < 1:
            raise ValueError(f"srm_threshold must be in (0, 1), got {self.srm_threshold!r}")
        if self.guardrail_rule not in ("interval", "estimate"):
            raise ValueError(f"guardrail_rule must be 'interval' or 'estimate', got {self.guardrail_rule!r}")

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


@dataclass(frozen=True)
class MetricInput:
    """One online metric of the experiment, with what the tree says about it."""

    metric: str
    comparison: Comparison
    direction: Literal["higher", "lower"] = "higher"
    level: str = "other"
    name: str = ""
    primary: bool = False
    max_relative_change: float | None = None  # guardrail bounds (worse direction), see tree.Guardrail
    max_absolute_change: float | None = None
    q_value: float | None = None  # BH-adjusted p among the scorecard's metrics

    @property
    def sign(self) -> int:
        return 1 if self.direction == "higher" else -1

    @property
    def label(self) -> str:
        return self.name or self.metric

    @property
    def is_guardrail(self) -> bool:
        return self.max_relative_change is not None or self.max_absolute_change is not None


@dataclass(frozen=True)
class OfflineInput:
    metric: str
    control_value: float
    treatment_value: float
    direction: Literal["higher", "lower"] = "higher"

    @property
    def relative_gain(self) -> float | None:
        """Relative change in the good direction; None when the control value is 0."""
        if self.control_value == 0:
            return None
        sign = 1 if self.direction == "higher" else -1
        return sign * (self.treatment_value - self.control_value) / abs(self.control_value)


@dataclass(frozen=True)
class GuardrailCheck:
    metric: str
    bound: str  # e.g. "latency_ms may rise by at most 10%"
    status: Literal["pass", "at risk", "breached", "unknown"]
    worse_change: float | None  # estimate of the change in the worse direction (relative if a relative bound)
    worst_case: float | None  # the interval's worse end, same scale
    passed: bool
    detail: str


@dataclass(frozen=True)
class Reason:
    rule: str  # srm, guardrail, harm, primary, trap, proxy, info
    text: str
    metrics: tuple[str, ...] = ()
    severity: Literal["block", "warn", "ok", "info"] = "info"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reasons: tuple[Reason, ...]
    guardrails: tuple[GuardrailCheck, ...]
    statuses: dict[str, str]  # metric -> better / worse / inconclusive / n/a (in its own direction)
    trap: bool
    broken: tuple[str, ...]  # what forced a roll back: breached guardrails, protected metrics harmed
    rules: DecisionRules = field(default_factory=DecisionRules)

    @property
    def headline(self) -> str:
        return HEADLINES[self.verdict]

    @property
    def reason_texts(self) -> list[str]:
        return [r.text for r in self.reasons]


def metric_status(m: MetricInput, rules: DecisionRules, adjusted: bool) -> str:
    """better / worse / inconclusive / n/a in the metric's own good direction."""
    c = m.comparison
    p = m.q_value if adjusted and m.q_value is not None else c.p_value
    if p is None or c.lift is None:
        return "n/a"
    if p >= rules.alpha or c.lift == 0:
        return "inconclusive"
    return "better" if m.sign * c.lift > 0 else "worse"


def check_guardrail(m: MetricInput, rules: DecisionRules) -> GuardrailCheck:
    c = m.comparison
    worse = "rise" if m.sign < 0 else "fall"
    checks: list[tuple[str, float, float | None, float | None]] = []  # (scale, bound, estimate, worst)
    if m.max_relative_change is not None:
        est = None if c.relative_lift is None else -m.sign * c.relative_lift
        worst = _worst_end(m.sign, c.relative_ci_low, c.relative_ci_high)
        checks.append(("relative", m.max_relative_change, est, worst))
    if m.max_absolute_change is not None:
        est = None if c.lift is None else -m.sign * c.lift
        checks.append(("absolute", m.max_absolute_change, est, _worst_end(m.sign, c.ci_low, c.ci_high)))
    bound = " and ".join(_fmt_bound(scale, b) for scale, b, _, _ in checks)
    bound_text = f"{m.label} may {worse} by at most {bound}"
    status, detail = "pass", ""
    first_est = first_worst = None
    for scale, b, est, worst in checks:
        if first_est is None:
            first_est, first_worst = est, worst
        if est is None:
            status, detail = "unknown", f"{scale} change undefined ({c.note or 'no data'})"
            break
        change = _fmt_change(scale, -m.sign * est)
        if est > b:
            status, detail = "breached", f"{m.label} {change} against a limit of {_fmt_bound(scale, b)}"
            break
        if rules.guardrail_rule == "interval" and (worst is None or worst > b):
            status = "at risk"
            detail = (f"{m.label} {change}, but the {1 - rules.alpha:.0%} interval reaches "
                      + (f"{_fmt_change(scale, -m.sign * worst)}" if worst is not None else "an unknown value")
                      + f" (limit {_fmt_bound(scale, b)}): not yet shown to be safe")
        elif status == "pass":
            detail = f"{m.label} {change}, within {_fmt_bound(scale, b)}"
    return GuardrailCheck(m.metric, bound_text, status, first_est, first_worst, status == "pass", detail)


def decide(metrics: Sequence[MetricInput], srm: SRMResult | None = None,
           offline: Sequence[OfflineInput] = (), rules: DecisionRules | None = None) -> Decision:
    rules = rules or DecisionRules()
    rules.validate()
    statuses = {m.metric: metric_status(m, rules, adjusted=rules.correct_secondary and not m.primary)
                for m in metrics}
    harm = {m.metric: metric_status(m, rules, adjusted=rules.correct_harm) for m in metrics}
    guardrails = tuple(check_guardrail(m, rules) for m in metrics if m.is_guardrail)
    primary = next((m for m in metrics if m.primary), None)
    reasons: list[Reason] = []
    verdict: Verdict | None = None

    if srm is not None and srm.mismatch:
        verdict = "hold"
        reasons.append(Reason("srm", srm.message, (), "block"))

    breached = [g for g in guardrails if g.status == "breached"]
    for g in breached:
        reasons.append(Reason("guardrail", f"Guardrail breached: {g.detail}.", (g.metric,), "block"))
    harmed = [m for m in metrics if harm[m.metric] == "worse"
              and (m.level in rules.protected_levels or m.primary)]
    for m in harmed:
        reasons.append(Reason("harm", f"{m.label} ({m.level}) got significantly worse: "
                                      f"{_effect(m)}.", (m.metric,), "block"))
    if verdict is None and (breached or harmed):
        verdict = "roll back"

    risky = [g for g in guardrails if g.status in ("at risk", "unknown")]
    for g in risky:
        reasons.append(Reason("guardrail", f"Guardrail {g.status}: {g.detail}.", (g.metric,), "warn"))
    for g in guardrails:
        if g.status == "pass":
            reasons.append(Reason("guardrail", f"Guardrail passed: {g.detail}.", (g.metric,), "ok"))

    if primary is None:
        reasons.append(Reason("primary", "No primary metric in this experiment: mark one in the "
                                         "metric tree (`primary: true`) to allow a ship decision.",
                              (), "warn"))
        verdict = verdict or "hold"
    else:
        state = statuses[primary.metric]
        if state == "better":
            text = f"Primary metric {primary.label} improved significantly: {_effect(primary)}."
            reasons.append(Reason("primary", text, (primary.metric,), "ok"))
            if verdict is None and risky:
                verdict = "hold"
            verdict = verdict or "ship"
        elif state != "worse":  # worse was reported as harm above
            text = (f"Primary metric {primary.label} is inconclusive: {_effect(primary)}."
                    if state == "inconclusive" else
                    f"Primary metric {primary.label} cannot be tested: {primary.comparison.note}.")
            reasons.append(Reason("primary", text, (primary.metric,), "warn"))
            verdict = verdict or "hold"
    verdict = verdict or "hold"

    trap_reasons = _offline_online_trap(metrics, offline, statuses, harm, rules, primary)
    reasons.extend(trap_reasons)
    proxy = _proxy_overoptimisation(metrics, statuses, harm, rules)
    reasons.extend(proxy)
    broken = tuple(dict.fromkeys([g.metric for g in breached] + [m.metric for m in harmed]))
    return Decision(verdict, tuple(reasons), guardrails, statuses,
                    any(r.rule == "trap" for r in trap_reasons), broken, rules)


def _offline_online_trap(metrics, offline, statuses, harm, rules, primary) -> list[Reason]:
    gains = [o for o in offline if o.relative_gain is not None and o.relative_gain > rules.offline_min_gain]
    if not gains:
        return []
    watched = [m for m in metrics if m.primary or m.level in rules.protected_levels]
    down = [m for m in watched if harm[m.metric] == "worse"]
    flat = [m for m in watched if m not in down and statuses[m.metric] != "better"]
    if primary is not None and statuses[primary.metric] == "better" and not down:
        return []
    if not down and not flat:
        return []
    offline_text = ", ".join(f"{o.metric} {o.relative_gain:+.1%}" for o in gains)
    online_parts = [f"{m.label} {_effect(m)} (significantly worse)" for m in down]
    online_parts += [f"{m.label} flat ({_effect(m)})" for m in flat if statuses[m.metric] != "n/a"]
    if not online_parts:
        return []
    text = (f"Offline-online trap: the model improved offline ({offline_text}) but the business "
            f"did not: {'; '.join(online_parts)}. An offline gain is not a launch reason on its own.")
    return [Reason("trap", text, tuple(o.metric for o in gains) + tuple(m.metric for m in down + flat),
                   "warn")]


def _proxy_overoptimisation(metrics, statuses, harm, rules) -> list[Reason]:
    """An engagement proxy significantly up while an outcome (protected level) or another
    engagement metric is significantly down: the proxy is being optimised, not the product."""
    up = [m for m in metrics if m.level in rules.engagement_levels and statuses[m.metric] == "better"]
    down = [m for m in metrics if (m.level in rules.protected_levels and harm[m.metric] == "worse")
            or (m.level in rules.engagement_levels and statuses[m.metric] == "worse")]
    if not up or not down:
        return []
    text = (f"Proxy over-optimisation: {', '.join(f'{m.label} {_effect(m)}' for m in up)} rose while "
            f"{', '.join(f'{m.label} {_effect(m)}' for m in down)} fell: the proxy no longer tracks "
            "the outcome.")
    return [Reason("proxy", text, tuple(m.metric for m in up + down), "warn")]


def _worst_end(sign: int, low: float | None, high: float | None) -> float | None:
    """Worse-direction change at the interval's worse end (positive = worse)."""
    if low is None or high is None:
        return None
    return -low if sign > 0 else high


def _effect(m: MetricInput) -> str:
    c = m.comparison
    if c.lift is None:
        return "no estimate"
    change = fmt.change(c.relative_lift) if c.relative_lift is not None else f"{fmt.delta(c.lift)} (absolute)"
    return change + (f", {fmt.p_is(c.p_value)}" if c.p_value is not None else "")


def _fmt_change(scale: str, value: float) -> str:
    return fmt.change(value) if scale == "relative" else fmt.delta(value)


def _fmt_bound(scale: str, bound: float) -> str:
    return f"{bound * 100:g}%" if scale == "relative" else f"{bound:g} (absolute)"
