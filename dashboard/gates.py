"""Offline gates: block a deployment when a candidate model is worse than its baseline.

`python -m dashboard check --db PATH GATES.yaml [--json]` prints each gate's result and exits
0 when every gate passes, 1 when any gate fails or cannot be evaluated (missing model, metric or
summary: a gate that cannot run must not let a deployment through), 2 when the gates file is
invalid (every problem listed with its line).

Gates file (see data/gates.yaml):

    gates:
      - name: Fraud recall at 95% precision holds   # shown in the output
        metric: recall@precision>=0.95    # classification: auc, average_precision,
                                          #   recall@precision>=X, precision@recall>=X
                                          #   (from prediction_bins);
                                          # ranking: ndcg@K, mrr@K, recall@K, precision@K,
                                          #   map@K, hit@K, map, rprec (per query, from
                                          #   rankings + qrels: dashboard/gates_ranking.py)
        baseline: fraud-v1                # model names as loaded
        candidate: fraud-v2
        max_drop: 0.01                    # fail if candidate < baseline - 0.01 (1 point)
        max_relative_drop: 0.02           # fail if candidate < baseline * (1 - 0.02)
        min_value: 0.5                    # fail if candidate < 0.5
        segments: all                     # also every segment value (or a list of columns)
        min_size: 100                     # segments smaller than this are reported, not judged
        no_significant_drop: true         # ranking only: paired t-test over queries, BH across
        alpha: 0.05                       #   the gate's segments, fail if significantly lower
        relevance_level: 1                # ranking only: grade >= N is relevant (trec_eval -l N)
        all_queries: false                # ranking only: every judged query, missing = 0 (-c)
      - name: Offline NDCG of E045 did not fall
        experiment: E045                  # compare offline_results control vs treatment instead
        metric: ndcg@10
        max_drop: 0.0

All metrics here are higher-is-better. A segment is judged on its own value; the gate passes only
when the overall value and every judged segment pass.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import yaml
from yaml.constructor import SafeConstructor

from dashboard.metrics.experiments import benjamini_hochberg, paired
from dashboard.metrics.gate_stats import classification_metric, parse_classification_metric
from dashboard.store import catalog

GATE_KEYS = ("name", "metric", "baseline", "candidate", "experiment", "max_drop", "max_relative_drop",
             "min_value", "segments", "min_size", "no_significant_drop", "alpha", "relevance_level", "all_queries")
RANKING = re.compile(r"^(ndcg|mrr|recall|precision|p|map|hit)@(\d+)$|^(map|rprec|mrr)$", re.IGNORECASE)


@dataclass
class Gate:
    name: str
    metric: str
    line: int
    baseline: str | None = None
    candidate: str | None = None
    experiment: str | None = None
    max_drop: float | None = None
    max_relative_drop: float | None = None
    min_value: float | None = None
    segments: list[str] | str | None = None  # "all" or column names
    min_size: int = 0
    no_significant_drop: bool = False
    alpha: float = 0.05
    relevance_level: int = 1  # ranking: grade >= this is relevant (trec_eval -l)
    all_queries: bool = False  # ranking: every judged query, a missing one as 0 (trec_eval -c)

    @property
    def family(self) -> str:
        if self.experiment is not None:
            return "offline_results"
        return "ranking" if RANKING.match(self.metric) else "classification"


@dataclass
class Check:
    """One judged slice of a gate: overall or one segment value."""

    segment: str  # "overall" or "column=value"
    baseline: float | None
    candidate: float | None
    size: int | None = None  # labelled examples or queries
    passed: bool | None = None  # None: not judged (too small / undefined)
    why: str = ""
    p_value: float | None = None
    q_value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


@dataclass
class GateResult:
    name: str
    metric: str
    status: str  # PASS / FAIL / ERROR
    summary: str
    checks: list[Check] = field(default_factory=list)
    alpha: float = 0.05

    @property
    def passed(self) -> bool:
        return self.status == "PASS"


# ---------------------------------------------------------------- parsing


class GatesError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid gates file:\n" + "\n".join(f"  - {p}" for p in problems))


def load_gates(path: Path) -> list[Gate]:
    """Every gate, or GatesError listing every problem with its line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise GatesError([f"{path}: cannot read: {exc.strerror or exc}"]) from exc
    return parse_gates(text, str(path))


def parse_gates(text: str, source: str = "<string>") -> list[Gate]:
    problems: list[str] = []
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise GatesError([f"{source}:{mark.line + 1 if mark else '?'}: not valid YAML"]) from exc
    construct = SafeConstructor().construct_object
    items = None
    if isinstance(root, yaml.MappingNode):
        items = next((v for k, v in root.value if getattr(k, "value", None) == "gates"), None)
    if not isinstance(items, yaml.SequenceNode) or not items.value:
        raise GatesError([f"{source}: expected `gates:` with a non-empty list of gates"])
    gates = []
    for item in items.value:
        line = item.start_mark.line + 1
        where = f"{source}:{line}"
        if not isinstance(item, yaml.MappingNode):
            problems.append(f"{where}: a gate must be a mapping (name:, metric:, baseline:...)")
            continue
        data = {k.value: construct(v, deep=True) for k, v in item.value}
        before = len(problems)
        gate = _gate(data, line, where, problems)
        if gate is not None and len(problems) == before:
            gates.append(gate)
    if problems:
        raise GatesError(problems)
    return gates


def _whole(value, label: str, problems: list[str]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        problems.append(f"{label}: `relevance_level:` must be a whole number >= 1, got {value!r}")
        return 1
    return value


def _gate(d: dict, line: int, where: str, problems: list[str]) -> Gate | None:
    label = f"{where}: gate {d.get('name') or d.get('metric') or '?'!r}"
    for key in d:
        if key not in GATE_KEYS:
            problems.append(f"{label}: unknown field {key!r}; allowed: {', '.join(GATE_KEYS)}")
    if not isinstance(d.get("metric"), str):
        problems.append(f"{label}: `metric:` is required")
        return None
    numbers = {}
    for key in ("max_drop", "max_relative_drop", "min_value", "alpha"):
        if key in d:
            try:
                numbers[key] = float(d[key])
            except (TypeError, ValueError):
                problems.append(f"{label}: `{key}:` must be a number, got {d[key]!r}")
    if not any(k in d for k in ("max_drop", "max_relative_drop", "min_value", "no_significant_drop")):
        problems.append(f"{label}: give at least one rule: max_drop, max_relative_drop, min_value "
                        "or no_significant_drop")
    if "alpha" in numbers and not 0 < numbers["alpha"] < 1:
        problems.append(f"{label}: `alpha:` must be in (0, 1)")
    gate = Gate(name=str(d.get("name") or d["metric"]), metric=d["metric"], line=line,
                baseline=d.get("baseline"), candidate=d.get("candidate"), experiment=d.get("experiment"),
                segments=d.get("segments"), min_size=int(d.get("min_size", 0) or 0),
                no_significant_drop=bool(d.get("no_significant_drop", False)),
                relevance_level=_whole(d.get("relevance_level", 1), label, problems),
                all_queries=bool(d.get("all_queries", False)), **numbers)
    if gate.experiment is None and not (isinstance(gate.baseline, str) and isinstance(gate.candidate, str)):
        problems.append(f"{label}: needs `baseline:` and `candidate:` model names (or `experiment:`)")
    if gate.family == "classification":
        try:
            parse_classification_metric(gate.metric)
        except ValueError as exc:
            problems.append(f"{label}: {exc}; ranking metrics are ndcg@K, mrr@K, recall@K, "
                            "precision@K, map@K, hit@K, map, rprec")
        if gate.no_significant_drop:
            problems.append(f"{label}: no_significant_drop needs per-query values (ranking metrics); "
                            "use max_drop for classification metrics")
    if gate.segments not in (None, "all") and not (
            isinstance(gate.segments, list) and all(isinstance(s, str) for s in gate.segments)):
        problems.append(f"{label}: `segments:` must be 'all' or a list of segment columns")
    return gate


# ---------------------------------------------------------------- evaluation


def evaluate(con: duckdb.DuckDBPyConnection, gate: Gate) -> GateResult:
    try:
        if gate.family == "offline_results":
            checks = _offline_checks(con, gate)
        elif gate.family == "classification":
            checks = _classification_checks(con, gate)
        else:
            checks = _ranking_checks(con, gate)
    except LookupError as exc:
        return GateResult(gate.name, gate.metric, "ERROR", str(exc), alpha=gate.alpha)
    for c in checks:
        _judge(gate, c)
    if gate.no_significant_drop:
        _significance(gate, checks)
    return _result(gate, checks)


def _judge(gate: Gate, c: Check) -> None:
    if c.size is not None and c.segment != "overall" and c.size < gate.min_size:
        c.passed, c.why = None, f"not judged: {c.size} < min_size {gate.min_size}"
        return
    relative_rules = gate.max_drop is not None or gate.max_relative_drop is not None
    if c.candidate is None or (c.baseline is None and relative_rules):
        which = "candidate" if c.candidate is None else "baseline"
        c.passed, c.why = False, f"{which} value undefined here (no positives or no rows)"
        return
    fails = []
    if gate.max_drop is not None and c.candidate < c.baseline - gate.max_drop - 1e-12:
        fails.append(f"dropped {c.baseline - c.candidate:.4f} > max_drop {gate.max_drop:g}")
    if gate.max_relative_drop is not None and c.baseline and \
            c.candidate < c.baseline * (1 - gate.max_relative_drop) - 1e-12:
        fails.append(f"dropped {(c.baseline - c.candidate) / abs(c.baseline):.2%} > "
                     f"max_relative_drop {gate.max_relative_drop:.2%}")
    if gate.min_value is not None and c.candidate < gate.min_value:
        fails.append(f"{c.candidate:.4f} < min_value {gate.min_value:g}")
    c.passed = not fails
    c.why = "; ".join(fails)


def _significance(gate: Gate, checks: list[Check]) -> None:
    """BH across the gate's judged slices; a significant drop fails the slice."""
    judged = [c for c in checks if c.passed is not None and c.p_value is not None]
    for c, q in zip(judged, benjamini_hochberg([c.p_value for c in judged])):
        c.q_value = q
        drop = c.candidate is not None and c.baseline is not None and c.candidate < c.baseline
        if drop and q < gate.alpha:
            c.passed = False
            c.why = "; ".join(x for x in (c.why, f"significant drop (q = {q:.2g} < {gate.alpha:g})") if x)


def _result(gate: Gate, checks: list[Check]) -> GateResult:
    if not checks:
        return GateResult(gate.name, gate.metric, "ERROR", "no data for this gate", checks, gate.alpha)
    failed = [c for c in checks if c.passed is False]
    skipped = [c for c in checks if c.passed is None]
    overall = next((c for c in checks if c.segment == "overall"), checks[0])
    head = f"{gate.metric}: candidate {_fmt(overall.candidate)}"
    if overall.baseline is not None:
        head += f" vs baseline {_fmt(overall.baseline)} ({_delta(overall)})"
    n_seg = len(checks) - 1
    if n_seg:
        head += f"; {n_seg} segment(s) checked"
        if skipped:
            head += f", {len(skipped)} too small to judge"
    if failed:
        head += f"; failed in {len(failed)}: " + ", ".join(c.segment for c in failed)
    return GateResult(gate.name, gate.metric, "FAIL" if failed else "PASS", head, checks, gate.alpha)


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.4f}"


def _delta(c: Check) -> str:
    if c.candidate is None or c.baseline is None:
        return "n/a"
    d = c.candidate - c.baseline
    return f"{d:+.4f}" + (f", {d / abs(c.baseline):+.2%}" if c.baseline else "")


def _offline_checks(con, gate: Gate) -> list[Check]:
    if not catalog.table_exists(con, "offline_results"):
        raise LookupError("no offline_results loaded")
    row = con.execute("SELECT control_value, treatment_value FROM offline_results "
                      "WHERE experiment_id = ? AND metric = ?", [gate.experiment, gate.metric]).fetchone()
    if row is None:
        raise LookupError(f"no offline result {gate.metric!r} for experiment {gate.experiment!r}")
    return [Check("overall", float(row[0]), float(row[1]))]


def _segment_columns(gate: Gate, available: list[str]) -> list[str]:
    if gate.segments is None:
        return []
    if gate.segments == "all":
        return available
    missing = [s for s in gate.segments if s not in available]
    if missing:
        raise LookupError(f"unknown segment column(s) {', '.join(missing)}; "
                          f"loaded: {', '.join(available) or 'none'}")
    return list(gate.segments)


def _classification_checks(con, gate: Gate) -> list[Check]:
    if not catalog.table_exists(con, "prediction_bins"):
        raise LookupError("no predictions loaded (prediction_bins is missing)")
    models = catalog.prediction_models(con)
    for m in (gate.baseline, gate.candidate):
        if m not in models:
            raise LookupError(f"model {m!r} has no predictions; loaded: {', '.join(models) or 'none'}")
    seg_cols = _segment_columns(gate, catalog.segment_columns(con, "predictions"))
    values = {m: _bin_metrics(con, gate.metric, m, seg_cols) for m in (gate.baseline, gate.candidate)}
    base, cand = values[gate.baseline], values[gate.candidate]
    checks = []
    for key in [k for k in cand if k in base or k == "overall"]:
        b, c = base.get(key, (None, 0)), cand[key]
        checks.append(Check(key, b[0], c[0], size=c[1]))
    return checks


def _bin_metrics(con, metric: str, model: str, seg_cols: list[str]) -> dict[str, tuple[float | None, int]]:
    """slice -> (metric value, labelled rows) for the whole model and each segment value."""
    cols = [""] + seg_cols
    data = con.execute(
        f"""SELECT segment_column, segment_value, bin, sum(n_pos)::DOUBLE AS p, sum(n_neg)::DOUBLE AS n
            FROM prediction_bins
            WHERE model = ? AND segment_column IN ({', '.join('?' * len(cols))})
            GROUP BY ALL ORDER BY 1, 2, 3""",
        [model, *cols],
    ).fetchnumpy()  # columns as arrays: no Python tuple per bin
    col, val = data["segment_column"].astype(str), data["segment_value"].astype(str)
    pos, neg = np.asarray(data["p"], dtype=np.float64), np.asarray(data["n"], dtype=np.float64)
    starts = np.flatnonzero(np.r_[True, (col[1:] != col[:-1]) | (val[1:] != val[:-1])])
    ends = np.r_[starts[1:], col.size]
    out: dict[str, tuple[float | None, int]] = {}
    for a, b in zip(starts, ends):
        key = "overall" if col[a] == "" else f"{col[a]}={val[a]}"
        out[key] = (classification_metric(metric, pos[a:b], neg[a:b]), int(pos[a:b].sum() + neg[a:b].sum()))
    return out


def _ranking_checks(con, gate: Gate) -> list[Check]:
    from dashboard.gates_ranking import per_query_pairs  # kept apart: it follows the ranking summary

    seg_cols = _segment_columns(gate, catalog.segment_columns(con, "queries"))
    checks = []
    for key, stats in per_query_pairs(con, gate.metric, gate.baseline, gate.candidate, seg_cols,
                                      level=gate.relevance_level, all_queries=gate.all_queries).items():
        base_stats, cand_stats, diff = stats
        test = paired(diff, gate.alpha)
        checks.append(Check(key, base_stats.mean, cand_stats.mean, size=diff.n, p_value=test.p_value,
                            ci_low=test.ci_low, ci_high=test.ci_high))
    return checks


# ---------------------------------------------------------------- command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("gates", type=Path, help="gates YAML file (see data/gates.yaml)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")


def run(args: argparse.Namespace) -> int:
    from dashboard.store.connection import connect

    try:
        gates = load_gates(args.gates)
    except GatesError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if not Path(args.db).exists():
        print(f"no database at {args.db}", file=sys.stderr)
        return 2
    con = connect(args.db, read_only=True)
    try:
        results = [evaluate(con, g) for g in gates]
    finally:
        con.close()
    if getattr(args, "json", False):
        print(json.dumps([asdict(r) for r in results], indent=2))
    else:
        print(format_results(results))
    return 0 if all(r.passed for r in results) else 1


def format_results(results: list[GateResult]) -> str:
    lines = []
    for r in results:
        lines.append(f"{r.status:5} {r.name}: {r.summary}")
        for c in r.checks:
            if c.passed is not False:
                continue
            extra = (f", {1 - r.alpha:.0%} CI of the change {c.ci_low:+.4f}..{c.ci_high:+.4f}"
                     if c.ci_low is not None else "")
            lines.append(f"        {c.segment}: {_fmt(c.candidate)} vs {_fmt(c.baseline)}{extra}: {c.why}")
    n_fail = sum(not r.passed for r in results)
    lines.append(f"{len(results) - n_fail} gate(s) passed, {n_fail} failed.")
    return "\n".join(lines)
