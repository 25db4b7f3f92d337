"""Launch decision rules: ship, hold or roll back, with every reason listed.

Pure: takes per-metric comparisons (dashboard.metrics.experiments) plus what the metric tree says
about each metric (level, direction, guardrail bound, primary) and returns a Decision.

The roll-back family is the metrics that can force a roll back: the primary metric and every
metric at a protected level (default: business; "engagement harm also rolls back" adds the
engagement level). The rules, applied in this order (all configurable through `DecisionRules`):

1. Sample-ratio mismatch (chi-square p < srm_threshold) -> hold: the split is broken, so no
   result can be trusted; fix assignment/logging and rerun.
2. A guardrail breached -> roll back. Breached means the whole confidence interval lies past the
   bound (e.g. latency +12%, interval [+11%, +13%], against a +10% bound): the harm is shown.
   With guardrail_rule "estimate" the estimate alone decides (pass and breach).
3. Harm shown in the roll-back family -> roll back. Shown means either
   a. it survives the multiple-testing correction: Benjamini-Hochberg q-value, over the
      roll-back family's two-sided p-values, below rollback_alpha (default 0.01); or
   b. its relative-lift interval lies wholly beyond a declared material harm (material_harm per
      metric, default_material_harm for the others; none declared by default).
4. Harm not shown -> "Hold: investigate": a roll-back family metric worse at the raw p-value
   only (p < alpha, not confirmed after correction), or a guardrail whose estimate is past its
   bound while its interval reaches back inside. Look at segments and data before deciding.
5. guardrail_rule = "interval" (default): a guardrail whose confidence interval reaches past its
   bound is not shown to be safe -> hold (more data needed).
6. The primary metric significantly better -> ship; otherwise hold (inconclusive or missing).

Why these levels: in simulated A/A experiments with the demo tree, roll back on raw p fired in
4.8% (9.5% when engagement harm also rolls back). BH over the roll-back family at 0.01 keeps a
false roll back at or below 1% however many metrics the family holds (Simes' bound), and a
harm seen only at raw p still stops the launch, as a hold. docs/statistics.md has the measured
rates; `benchmarks/calib/experiments.py` measures them.

Significance of a metric's status (better / worse / inconclusive, the tree's colours and the
scorecard): the primary metric is declared before the test, so its own p-value decides; the
scorecard's other metrics are marked significant only when their Benjamini-Hochberg q-value <
alpha (correct_secondary). correct_harm = false restores roll back on raw p (not calibrated).

The offline-online trap is called out (it never changes the verdict by itself): an offline model
metric improved (relative gain > offline_min_gain) while the primary or a protected metric is
worse or flat online. Proxy over-optimisation (an engagement metric significantly better while a
protected metric is shown worse, e.g. clicks up and retention down) is named too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, Mapping, Sequence

from dashboard import format as fmt
from dashboard.metrics.cuped import CupedResult
from dashboard.metrics.experiments import Comparison, SRMResult, benjamini_hochberg

Verdict = Literal["ship", "hold", "roll back"]
HEADLINES: dict[str, str] = {
    "ship": "Ship",
    "hold": "Hold: do not ship yet",
    "roll back": "Roll back: do not ship",
}
INVESTIGATE_HEADLINE = "Hold: investigate"


@dataclass(frozen=True)
class DecisionRules:
    alpha: float = 0.05
    srm_threshold: float = 0.001
    protected_levels: tuple[str, ...] = ("business",)
    guardrail_rule: Literal["interval", "estimate"] = "interval"
    correct_secondary: bool = True  # BH across the scorecard's non-primary metrics
    correct_harm: bool = True  # roll back only on harm that survives BH over the roll-back family
    rollback_alpha: float = 0.01  # level of that correction (a false roll back is costly)
    material_harm: tuple[tuple[str, float], ...] = ()  # metric -> relative harm that is material
    default_material_harm: float | None = None  # for roll-back family metrics not in material_harm
    offline_min_gain: float = 0.0  # relative offline gain that counts as "offline improved"
    engagement_levels: tuple[str, ...] = ("engagement",)  # proxies checked for over-optimisation

    def __post_init__(self) -> None:
        if isinstance(self.material_harm, Mapping):  # a YAML mapping {metric: 0.02}
            object.__setattr__(self, "material_harm", tuple(sorted(
                (str(k), v) for k, v in self.material_harm.items())))

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
        if "material_harm" in data:
            value = data["material_harm"] or {}
            if not isinstance(value, Mapping):
                raise ValueError("material_harm must be a mapping of metric to relative harm, "
                                 f"e.g. {{revenue_per_user: 0.02}}; got {value!r}")
            data["material_harm"] = value
        rules = cls(**data)
        rules.validate()
        return rules

    def validate(self) -> None:
        for key in ("alpha", "srm_threshold", "rollback_alpha"):
            value = getattr(self, key)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < 1:
                raise ValueError(f"{key} must be in (0, 1), got {value!r}")
        if self.guardrail_rule not in ("interval", "estimate"):
            raise ValueError(f"guardrail_rule must be 'interval' or 'estimate', got {self.guardrail_rule!r}")
        thresholds = [(f"material_harm {k}", v) for k, v in self.material_harm]
        if self.default_material_harm is not None:
            thresholds.append(("default_material_harm", self.default_material_harm))
        for key, value in thresholds:
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < 1:
                raise ValueError(f"{key} must be a relative harm in (0, 1) (0.02 = a 2% drop), got {value!r}")

    def material_threshold(self, metric: str) -> float | None:
        return dict(self.material_harm).get(metric, self.default_material_harm)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        out = {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}
        out["material_harm"] = dict(self.material_harm)
        return out


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
    # with pre-period statistics: the CUPED result; comparison is then its adjusted comparison
    cuped: CupedResult | None = None

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
    over_limit: bool = False  # the estimate is past the bound but the interval is not (investigate)


@dataclass(frozen=True)
class Harm:
    """What the roll-back family's evidence says about one metric's harm."""

    metric: str
    status: Literal["shown", "investigate", "none"]
    q_value: float | None  # BH over the roll-back family (None outside it)
    family_size: int
    material: float | None = None  # the material harm it was shown beyond, when that rule fired


@dataclass(frozen=True)
class Reason:
    rule: str  # srm, guardrail, harm, investigate, primary, trap, proxy, info
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
    broken: tuple[str, ...]  # what forced a roll back: breached guardrails, harm shown
    rules: DecisionRules = field(default_factory=DecisionRules)
    investigate: tuple[str, ...] = ()  # harm seen but not shown: why the verdict is "investigate"
    harms: dict[str, Harm] = field(default_factory=dict)  # roll-back family metrics

    @property
    def headline(self) -> str:
        if self.verdict == "hold" and self.investigate and not any(r.rule == "srm" for r in self.reasons):
            return INVESTIGATE_HEADLINE
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


def statuses_of(metrics: Sequence[MetricInput], rules: DecisionRules) -> dict[str, str]:
    """Each metric's status as the scorecard, the tree and the reasons show it: the primary on its
    own p-value, the others on their BH q-value (correct_secondary)."""
    return {m.metric: metric_status(m, rules, adjusted=rules.correct_secondary and not m.primary)
            for m in metrics}


def in_rollback_family(m: MetricInput, rules: DecisionRules) -> bool:
    return m.primary or m.level in rules.protected_levels


def harm_evidence(metrics: Sequence[MetricInput], rules: DecisionRules) -> dict[str, Harm]:
    """Harm of every roll-back family metric: shown (rolls back), investigate (raw p only) or none."""
    family = [m for m in metrics if in_rollback_family(m, rules)]
    q = benjamini_hochberg([m.comparison.p_value for m in family])
    out = {}
    for m, q_m in zip(family, q):
        c = m.comparison
        harmful = c.lift is not None and m.sign * c.lift < 0
        p = c.p_value
        status, material = "none", None
        if harmful and p is not None:
            confirmed = (q_m is not None and q_m < rules.rollback_alpha) if rules.correct_harm else p < rules.alpha
            threshold = rules.material_threshold(m.metric)
            best = _best_end(m.sign, c.relative_ci_low, c.relative_ci_high)  # change at the better end
            if confirmed:
                status = "shown"
            elif threshold is not None and best is not None and best > threshold:
                status, material = "shown", threshold
            elif p < rules.alpha:
                status = "investigate"
        out[m.metric] = Harm(m.metric, status, q_m, len(family), material)
    return out


def check_guardrail(m: MetricInput, rules: DecisionRules) -> GuardrailCheck:
    c = m.comparison
    worse = "rise" if m.sign < 0 else "fall"
    # (scale, bound, estimate, worst end, best end), all as changes in the worse direction
    checks: list[tuple[str, float, float | None, float | None, float | None]] = []
    if m.max_relative_change is not None:
        est = None if c.relative_lift is None else -m.sign * c.relative_lift
        checks.append(("relative", m.max_relative_change, est,
                       _worst_end(m.sign, c.relative_ci_low, c.relative_ci_high),
                       _best_end(m.sign, c.relative_ci_low, c.relative_ci_high)))
    if m.max_absolute_change is not None:
        est = None if c.lift is None else -m.sign * c.lift
        checks.append(("absolute", m.max_absolute_change, est, _worst_end(m.sign, c.ci_low, c.ci_high),
                       _best_end(m.sign, c.ci_low, c.ci_high)))
    bound = " and ".join(_fmt_bound(scale, b) for scale, b, _, _, _ in checks)
    bound_text = f"{m.label} may {worse} by at most {bound}"
    status, detail, over = "pass", "", False
    first_est = first_worst = None
    level = f"{1 - rules.alpha:.0%} interval"
    for scale, b, est, worst, best in checks:
        if first_est is None:
            first_est, first_worst = est, worst
        if est is None:
            status, detail = "unknown", f"{scale} change undefined ({c.note or 'no data'})"
            break
        change = _fmt_change(scale, -m.sign * est) + _basis(m, scale)
        limit = _fmt_bound(scale, b)
        if est > b and (rules.guardrail_rule == "estimate" or (best is not None and best > b)):
            status = "breached"
            detail = f"{m.label} {change} against a limit of {limit}" + (
                "" if rules.guardrail_rule == "estimate" else
                f"; the whole {level} is past it, from {_fmt_change(scale, -m.sign * best)}")
            break
        if est > b:
            status, over = "at risk", True
            detail = (f"{m.label} {change}, past its limit of {limit}, but the {level} reaches back to "
                      + (_fmt_change(scale, -m.sign * best) if best is not None else "an unknown value")
                      + ": the breach is not shown; investigate")
            break
        if rules.guardrail_rule == "interval" and (worst is None or worst > b):
            status = "at risk"
            detail = (f"{m.label} {change}, but the {level} reaches "
                      + (f"{_fmt_change(scale, -m.sign * worst)}" if worst is not None else "an unknown value")
                      + f" (limit {limit}): not yet shown to be safe")
        elif status == "pass":
            detail = f"{m.label} {change}, within {limit}"
    return GuardrailCheck(m.metric, bound_text, status, first_est, first_worst, status == "pass", detail, over)


def decide(metrics: Sequence[MetricInput], srm: SRMResult | None = None,
           offline: Sequence[OfflineInput] = (), rules: DecisionRules | None = None) -> Decision:
    rules = rules or DecisionRules()
    rules.validate()
    statuses = statuses_of(metrics, rules)
    harms = harm_evidence(metrics, rules)
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
    harmed = [m for m in metrics if m.metric in harms and harms[m.metric].status == "shown"]
    for m in harmed:
        reasons.append(Reason("harm", _harm_text(m, harms[m.metric], rules), (m.metric,), "block"))
    if verdict is None and (breached or harmed):
        verdict = "roll back"

    unsure = [m for m in metrics if m.metric in harms and harms[m.metric].status == "investigate"]
    for m in unsure:
        reasons.append(Reason("investigate", _investigate_text(m, harms[m.metric], rules), (m.metric,), "warn"))
    over = [g for g in guardrails if g.over_limit]
    investigate = tuple(dict.fromkeys([m.metric for m in unsure] + [g.metric for g in over]))
    if verdict is None and investigate:
        verdict = "hold"

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
        elif state != "worse":  # worse was reported as harm (shown or to investigate) above
            text = (f"Primary metric {primary.label} is inconclusive: {_effect(primary)}."
                    if state == "inconclusive" else
                    f"Primary metric {primary.label} cannot be tested: {primary.comparison.note}.")
            reasons.append(Reason("primary", text, (primary.metric,), "warn"))
            verdict = verdict or "hold"
    verdict = verdict or "hold"

    harm_state = {m: ("worse" if h.status == "shown" else statuses[m]) for m, h in harms.items()}
    trap_reasons = _offline_online_trap(metrics, offline, statuses, harm_state, rules, primary)
    reasons.extend(trap_reasons)
    proxy = _proxy_overoptimisation(metrics, statuses, harm_state, rules)
    reasons.extend(proxy)
    broken = tuple(dict.fromkeys([g.metric for g in breached] + [m.metric for m in harmed]))
    return Decision(verdict, tuple(reasons), guardrails, statuses,
                    any(r.rule == "trap" for r in trap_reasons), broken, rules, investigate, harms)


def _harm_text(m: MetricInput, h: Harm, rules: DecisionRules) -> str:
    head = f"{m.label} ({m.level}) got significantly worse: {_effect(m)}"
    if h.material is not None:
        c = m.comparison
        return (f"{head}; its whole {1 - rules.alpha:.0%} interval [{fmt.change(c.relative_ci_low)}, "
                f"{fmt.change(c.relative_ci_high)}] is past the declared material harm of {h.material:.1%}.")
    if not rules.correct_harm:
        return head + " (unadjusted p-value: correct_harm is off)."
    return (f"{head}; the harm survives the correction for the {h.family_size} metric(s) that can "
            f"force a roll back (BH {fmt.p_is(h.q_value, 'q')}, below the roll-back level {rules.rollback_alpha:g}).")


def _investigate_text(m: MetricInput, h: Harm, rules: DecisionRules) -> str:
    return (f"Investigate: {m.label} ({m.level}) looks worse ({_effect(m)}) but the harm is not "
            f"confirmed after correcting for the {h.family_size} metric(s) that can force a roll back "
            f"(BH {fmt.p_is(h.q_value, 'q')}; a roll back needs q < {rules.rollback_alpha:g}"
            + (f" or an interval past the material harm of {rules.material_threshold(m.metric):.1%}"
               if rules.material_threshold(m.metric) is not None else "")
            + "). Check segments and data quality before shipping.")


def _offline_online_trap(metrics, offline, statuses, harm, rules, primary) -> list[Reason]:
    gains = [o for o in offline if o.relative_gain is not None and o.relative_gain > rules.offline_min_gain]
    if not gains:
        return []
    watched = [m for m in metrics if in_rollback_family(m, rules)]
    down = [m for m in watched if harm.get(m.metric) == "worse"]
    flat = [m for m in watched if m not in down and statuses[m.metric] != "better"]
    if primary is not None and statuses[primary.metric] == "better" and not down:
        return []
    if not down and not flat:
        return []
    offline_text = ", ".join(f"{o.metric} {o.relative_gain:+.1%}" for o in gains)
    online_parts = [f"{m.label} {_effect(m)} (significantly worse)" for m in down]
    online_parts += [f"{m.label} {'worse, not confirmed' if statuses[m.metric] == 'worse' else 'flat'} "
                     f"({_effect(m)})" for m in flat if statuses[m.metric] != "n/a"]
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
    down = [m for m in metrics if (m.level in rules.protected_levels and harm.get(m.metric) == "worse")
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


def _best_end(sign: int, low: float | None, high: float | None) -> float | None:
    """Worse-direction change at the interval's better end: > bound means the whole interval is past it."""
    if low is None or high is None:
        return None
    return -high if sign > 0 else low


def _effect(m: MetricInput) -> str:
    c = m.comparison
    if c.lift is None:
        return "no estimate"
    change = fmt.change(c.relative_lift) if c.relative_lift is not None else f"{fmt.delta(c.lift)} (absolute)"
    return change + (" CUPED-adjusted" if m.cuped else "") + (f", {fmt.p_is(c.p_value)}" if c.p_value is not None else "")


def _basis(m: MetricInput, scale: str) -> str:
    """Which numbers a guardrail sentence used: with pre-period statistics the CUPED-adjusted ones,
    the unadjusted change beside them."""
    if m.cuped is None:
        return ""
    u = m.cuped.unadjusted
    plain = u.relative_lift if scale == "relative" else u.lift
    shown = "n/a" if plain is None else _fmt_change(scale, plain)
    return f" (CUPED-adjusted; unadjusted {shown})"


def _fmt_change(scale: str, value: float) -> str:
    return fmt.change(value) if scale == "relative" else fmt.delta(value)


def _fmt_bound(scale: str, bound: float) -> str:
    return f"{bound * 100:g}%" if scale == "relative" else f"{bound:g} (absolute)"
