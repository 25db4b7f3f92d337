"""Launch review of one experiment: scorecard, guardrails, SRM, segments and a recommendation.

`python -m dashboard report experiment --db PATH --id E045 --json`

Statistics come from the stored sufficient statistics (dashboard.metrics.experiments); levels,
directions, guardrails and the primary metric from the metric tree (data/metric_tree.yaml by
default); the recommendation from dashboard.metrics.decision (rules documented there).
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

import duckdb
import yaml

from dashboard.metrics.decision import (
    Decision,
    DecisionRules,
    GuardrailCheck,
    MetricInput,
    OfflineInput,
    check_guardrail,
    metric_status,
)
from dashboard.metrics.experiments import benjamini_hochberg
from dashboard.services import tree as tree_service
from dashboard.services.launch_evidence import evaluate, metric_inputs, srm_of
from dashboard.store.catalog import segment_columns, table_exists
from dashboard.store.sqlutil import ident
from dashboard.tree import MetricTree

EXPERIMENT_COLUMNS = ("experiment_id", "name", "start_date", "end_date", "control_model",
                      "treatment_model", "owner", "decision", "description")


def list_experiments(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Experiments with results, newest first (by start date, then id)."""
    ids: set[str] = set()
    have = tree_service.present_tables(con)
    for table in ("experiment_results", "offline_results"):
        if table in have:
            ids |= {r[0] for r in con.execute(f"SELECT DISTINCT experiment_id FROM {table}").fetchall()}
    meta = {e["experiment_id"]: e for e in _experiment_rows(con)}
    out = [meta.get(i, {"experiment_id": i, "name": None, "start_date": None}) for i in ids]
    out.sort(key=lambda e: (e.get("start_date") or "", e["experiment_id"]), reverse=True)
    return out


def _experiment_rows(con, experiment_id: str | None = None) -> list[dict]:
    if not table_exists(con, "experiments"):
        return []
    sql = f"SELECT {', '.join(EXPERIMENT_COLUMNS)} FROM experiments"
    params: list = []
    if experiment_id is not None:
        sql += " WHERE experiment_id = ?"
        params.append(experiment_id)
    rows = con.execute(sql + " ORDER BY experiment_id", params).fetchall()
    return [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in zip(EXPERIMENT_COLUMNS, r)}
            for r in rows]


def experiment_report(con: duckdb.DuckDBPyConnection, experiment_id: str,
                      tree_path: str | None = None, rules: Mapping[str, Any] | None = None,
                      primary: str | None = None, expected_control_share: float = 0.5,
                      tree_version: int = 0) -> dict:
    """The full launch review as plain JSON-ready data (see docs/metric_tree.md for every field).

    primary: an online metric to judge the launch on instead of the tree's primary node.
    tree_version: unused here; the app passes the tree file's version so cached results follow
    edits of the file (tree.tree_file_version).
    """
    r = DecisionRules.from_mapping(rules)
    loaded = tree_service.load(con, tree_path)
    tree = loaded.tree
    info = next(iter(_experiment_rows(con, experiment_id)), {"experiment_id": experiment_id})
    overall = tree_service.overall_stats(con, experiment_id)
    offline_raw = tree_service.offline_values(con, experiment_id)
    out: dict[str, Any] = {
        "experiment": info, "decision": None, "headline": None, "reasons": [],
        "metrics": [], "offline": [], "segments": [], "srm": None,
        "tree": {"path": loaded.path, "loaded": tree is not None, "problems": loaded.problems},
        "rules": r.as_dict(), "primary": None,
    }
    if not overall and not offline_raw:
        out["error"] = f"no results for experiment {experiment_id!r}"
        return out

    ev = evaluate(overall, offline_raw, tree, r, primary, expected_control_share)
    inputs, decision_srm, offline, decision = ev.inputs, ev.srm, ev.offline, ev.decision
    out.update(
        decision=decision.verdict, headline=decision.headline, reasons=decision.reason_texts,
        reason_details=[{"rule": x.rule, "severity": x.severity, "text": x.text,
                         "metrics": list(x.metrics)} for x in decision.reasons],
        offline_online_trap=decision.trap, broken=list(decision.broken),
        investigate=list(decision.investigate),
        srm=_srm_dict(decision_srm),
        primary=next((m.metric for m in inputs if m.primary), None),
        multiple_testing=_multiple_testing_note(inputs, r),
        metrics=_metric_rows(inputs, decision, tree, r),
        offline=[_offline_row(tree, o) for o in offline],
        segments=segment_results(con, experiment_id, tree, r, primary, expected_control_share),
    )
    if tree is not None:
        out["levels"] = list(tree.levels)
        out["tree_nodes"] = tree_service.positioned(
            tree, tree_service.experiment_node_states(con, tree, experiment_id, r.alpha, overall, offline_raw, ev),
            decision.broken)
    return out


def _metric_rows(inputs: list[MetricInput], decision: Decision, tree, rules: DecisionRules) -> list[dict]:
    guard = {g.metric: g for g in decision.guardrails}
    rows = []
    for m in inputs:
        h = decision.harms.get(m.metric)
        row = metric_row(m, decision.statuses[m.metric], guard.get(m.metric), tree)
        node = tree.by_data("online", m.metric) if tree else None
        row.update({
            "primary": m.primary, "in_tree": node is not None,
            "harm": h.status if h else None, "harm_q_value": h.q_value if h else None,
            "max_relative_change": m.max_relative_change,
            "max_absolute_change": m.max_absolute_change,
            "broken": m.metric in decision.broken,
        })
        rows.append(row)
    return rows


def metric_row(m: MetricInput, status: str, g: GuardrailCheck | None, tree) -> dict:
    """One scorecard row, overall or in a segment. The row's own numbers stay unadjusted; with
    pre-period statistics the CUPED-adjusted ones (which decide the status and the guardrail) are
    in "cuped", with the variance reduction achieved."""
    c = m.cuped.unadjusted if m.cuped else m.comparison
    node = tree.by_data("online", m.metric) if tree else None
    return {
        "metric": m.metric, "name": m.label, "level": m.level, "direction": m.direction,
        "unit": node.unit if node else "",
        "n_control": c.n_control, "n_treatment": c.n_treatment,
        "control_mean": c.control_mean, "treatment_mean": c.treatment_mean,
        "lift": c.lift, "relative_lift": c.relative_lift,
        "ci_low": c.ci_low, "ci_high": c.ci_high,
        "relative_ci_low": c.relative_ci_low, "relative_ci_high": c.relative_ci_high,
        "p_value": c.p_value, "q_value": m.q_value, "status": status,
        "relative_ci_method": "fieller", "control_relative_se": c.control_relative_se,
        "noisy_control": c.noisy_control, "in_tree": node is not None,
        "guardrail": g.bound if g else None,
        "guardrail_status": g.status if g else None,
        "passed": g.passed if g else None,
        "cuped": m.cuped.as_dict() if m.cuped else None,
        "note": c.note + ("" if node or tree is None else
                          ("; " if c.note else "") + "not in the metric tree: direction assumed higher"),
    }


def _offline_row(tree, o: OfflineInput) -> dict:
    node = tree.by_data("offline", o.metric) if tree else None
    change = o.treatment_value - o.control_value
    sign = 1 if o.direction == "higher" else -1
    status = "inconclusive" if change == 0 else ("better" if sign * change > 0 else "worse")
    return {"metric": o.metric, "name": node.name if node else o.metric,
            "level": node.level if node else "model", "direction": o.direction,
            "control_value": o.control_value, "treatment_value": o.treatment_value,
            "change": change, "relative_change": change / abs(o.control_value) if o.control_value else None,
            "status": status}


def _srm_dict(s) -> dict | None:
    if s is None:
        return None
    return {"n_control": s.n_control, "n_treatment": s.n_treatment,
            "expected_control_share": s.expected_control_share,
            "observed_control_share": s.observed_control_share, "chi2": s.chi2,
            "p_value": s.p_value, "threshold": s.threshold, "mismatch": s.mismatch,
            "message": s.message}


def _multiple_testing_note(inputs: list[MetricInput], rules: DecisionRules) -> str:
    k = sum(1 for m in inputs if not m.primary and m.comparison.p_value is not None)
    family = [m for m in inputs if m.primary or m.level in rules.protected_levels]
    text = (f"The primary metric is judged on its own p-value (declared before the test). The other "
            f"{k} metrics are marked significant only when their Benjamini-Hochberg q-value is below "
            f"{rules.alpha:g}, which keeps the expected share of false discoveries among them at or "
            f"below {rules.alpha:.0%}; the tree is coloured by the same statuses. ")
    if rules.correct_harm:
        text += (f"A roll back needs harm shown: a BH q-value below {rules.rollback_alpha:g} across the "
                 f"{len(family)} metric(s) that can force one (the primary and the "
                 f"{', '.join(rules.protected_levels)} level), or an interval past a declared material "
                 "harm; harm seen at the raw p-value only reads \"Hold: investigate\". ")
    else:
        text += "Harm checks use the unadjusted p-value (correct_harm is off). "
    return text + "Segments are corrected together as one family."


# ---------------------------------------------------------------- segments


def segment_results(con: duckdb.DuckDBPyConnection, experiment_id: str, tree: MetricTree | None,
                    rules: DecisionRules, primary: str | None = None,
                    expected_control_share: float = 0.5) -> list[dict]:
    """Per segment column and value (other segment columns empty): the same scorecard rows,
    with BH q-values over every segment x metric test of the experiment."""
    cols = segment_columns(con, "experiment_results")  # [] when nothing is loaded
    groups: list[tuple[str, str, dict]] = []
    for col in cols:
        others = " AND ".join(f"{ident(o)} IS NULL" for o in cols if o != col) or "TRUE"
        rows = con.execute(
            f"""SELECT {ident(col)}, metric, lower(variant), sum(n), sum("sum"), sum(sum_sq),
                       {tree_service.pre_period_sql(con)}
                FROM experiment_results
                WHERE experiment_id = ? AND {ident(col)} IS NOT NULL AND {others}
                GROUP BY ALL ORDER BY 1, 2""",
            [experiment_id],
        ).fetchall()
        by_value: dict[str, list] = {}
        for value, *rest in rows:
            by_value.setdefault(value, []).append(tuple(rest))
        for value, value_rows in by_value.items():
            groups.append((col, value, tree_service._pairs(value_rows)))
    if not groups:
        return []
    flat_inputs = [(col, value, metric_inputs(stats, tree, rules, primary), stats)
                   for col, value, stats in groups]
    all_p = [m.comparison.p_value for _, _, inputs, _ in flat_inputs for m in inputs]
    q_all = iter(benjamini_hochberg(all_p))
    out = []
    for col, value, inputs, stats in flat_inputs:
        inputs = [_with_q(m, next(q_all)) for m in inputs]
        srm = srm_of(stats, expected_control_share, rules.srm_threshold)
        statuses = {m.metric: metric_status(m, rules, adjusted=True) for m in inputs}
        guards = {m.metric: check_guardrail(m, rules) for m in inputs if m.is_guardrail}
        rows = [metric_row(m, statuses[m.metric], guards.get(m.metric), tree) for m in inputs]
        out.append({"column": col, "value": value, "srm": _srm_dict(srm), "metrics": rows})
    return out


def _with_q(m: MetricInput, q: float | None) -> MetricInput:
    return replace(m, q_value=q)


# ---------------------------------------------------------------- CLI report


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--id", required=True, dest="experiment_id", help="experiment id, e.g. E045")
    parser.add_argument("--tree", default=None,
                        help="metric tree YAML (default: $DASHBOARD_TREE or data/metric_tree.yaml)")
    parser.add_argument("--rules", type=Path, default=None,
                        help="YAML mapping of decision rules (alpha, rollback_alpha, material_harm, "
                             "default_material_harm, guardrail_rule, protected_levels...; "
                             "docs/statistics.md)")
    parser.add_argument("--alpha", type=float, default=None, help="significance level (default 0.05)")
    parser.add_argument("--primary", default=None, help="online metric to decide on instead of the tree's primary")
    parser.add_argument("--control-share", type=float, default=0.5,
                        help="designed share of units in control, for the SRM check (default 0.5)")


def report(con: duckdb.DuckDBPyConnection, args: argparse.Namespace) -> dict:
    rules: dict[str, Any] = {}
    if args.rules is not None:
        try:
            loaded = yaml.safe_load(Path(args.rules).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"cannot read decision rules {args.rules}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ValueError(f"decision rules {args.rules} must be a YAML mapping")
        rules.update(loaded)
    if args.alpha is not None:
        rules["alpha"] = args.alpha
    result = experiment_report(con, args.experiment_id, args.tree, rules, args.primary, args.control_share)
    if not result["tree"]["loaded"]:
        problems = "\n".join(f"  - {p['text']}" for p in result["tree"]["problems"])
        raise ValueError(f"the metric tree cannot be used:\n{problems}")
    if "error" in result:
        known = ", ".join(e["experiment_id"] for e in list_experiments(con)[:10])
        raise ValueError(f"{result['error']} (experiments with results include: {known or 'none'})")
    return _json_safe(result)


def _json_safe(value: Any) -> Any:
    """inf/NaN never reach JSON (strict parsers reject them): they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def to_json(result: dict) -> str:
    return json.dumps(_json_safe(result), indent=2)
