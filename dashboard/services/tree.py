"""Metric tree service: load the tree against the data, and each node's value and movement.

A node's movement is either
- in an experiment: online nodes get the experiment's lift (Welch / Fieller, see
  dashboard.metrics.experiments) coloured by the launch decision's statuses (BH-corrected, see
  dashboard.services.launch_evidence); offline nodes the model metric of treatment vs control; or
- over a period: the mean of the daily series over whole ISO weeks (1, 2 or 4) ending with a week
  against as many weeks before, judged by the one week verdict the Weekly review uses
  (dashboard.metrics.week_verdict; dashboard.services.week_verdicts reads the series).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterable

import duckdb

from dashboard import format as fmt
from dashboard.metrics.decision import DecisionRules
from dashboard.metrics.cuped import CupedStats
from dashboard.metrics.experiments import Comparison, SuffStats
from dashboard.metrics.weekly import last_complete_week
from dashboard.paths import DATA_DIR
from dashboard.services import week_verdicts
from dashboard.services.launch_evidence import Evaluation, evaluate
from dashboard.store.catalog import segment_columns, table_columns, table_exists
from dashboard.store.sqlutil import ident
from dashboard.tree import MetricTree, Problem, check_tree
from dashboard.tree.layout import draw
from dashboard.tree.model import DATA_KINDS, MetricNode

TREE_ENV = "DASHBOARD_TREE"
DEFAULT_TREE = DATA_DIR / "metric_tree.yaml"


def default_tree_path() -> Path:
    return Path(os.environ.get(TREE_ENV) or DEFAULT_TREE)


def tree_file_version(path: str | Path | None = None) -> int:
    """The tree file's modification time (ns), 0 when missing: part of the app's cache keys, so an
    edited tree shows without a restart."""
    try:
        return Path(path or default_tree_path()).stat().st_mtime_ns
    except OSError:
        return 0


@dataclass
class TreeLoad:
    path: str
    tree: MetricTree | None
    problems: list[dict] = field(default_factory=list)  # {severity, line, node, message, text}

    @property
    def errors(self) -> list[dict]:
        return [p for p in self.problems if p["severity"] == "error"]


def present_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Tables of the main schema, in one query (cheaper than one existence check per table)."""
    return {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()}


def available_metrics(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Data kind -> metric names with at least one row."""
    have = present_tables(con)
    parts = [f"SELECT '{kind}' AS kind, metric FROM {table}" for kind, table in DATA_KINDS.items()
             if table in have]  # kind and table are literals from DATA_KINDS
    out: dict[str, list[str]] = {kind: [] for kind in DATA_KINDS}
    if parts:
        sql = "SELECT DISTINCT kind, metric FROM (" + " UNION ALL ".join(parts) + ") ORDER BY 1, 2"
        for kind, metric in con.execute(sql).fetchall():
            out[kind].append(metric)
    return out


def load(con: duckdb.DuckDBPyConnection, path: str | None = None) -> TreeLoad:
    """The tree (None when its structure has errors) and every problem, missing data included.

    Missing data does not stop the tree from being used (a node without rows is drawn as "no
    data"), but it is reported as an error so the file gets fixed.
    """
    p = Path(path) if path else default_tree_path()
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        problem = Problem(f"cannot read the metric tree: {exc.strerror or exc}", source=str(p))
        return TreeLoad(str(p), None, [_problem_dict(problem)])
    result = check_tree(text, source=str(p), available=available_metrics(con), data_blocks=False)
    return TreeLoad(str(p), result.tree, [_problem_dict(x) for x in result.problems])


def _problem_dict(p: Problem) -> dict:
    return {"severity": p.severity, "line": p.line, "node": p.node, "message": p.message, "text": str(p)}


# ---------------------------------------------------------------- node states


@dataclass
class NodeState:
    id: str
    name: str
    level: str
    direction: str
    unit: str
    owner: str
    parents: list[str]
    children: list[str]
    guardrail: str | None
    primary: bool
    source: str | None  # where the movement comes from: online / offline / daily, None = no data
    value: float | None  # current value: treatment mean / treatment offline value / last period mean
    baseline: float | None  # control mean / control offline value / previous period mean
    change: float | None  # absolute
    relative_change: float | None
    ci_low: float | None  # relative-change interval when defined, else absolute
    ci_high: float | None
    ci_scale: str | None  # "relative" or "absolute"
    p_value: float | None
    status: str  # better / worse / inconclusive / no data / n/a
    note: str = ""
    broken: bool = False  # set by the launch review: this node forced the decision

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def status_of(c: Comparison | None, sign: int, alpha: float) -> str:
    """better / worse / inconclusive in the node's own direction; n/a without a test."""
    if c is None or c.lift is None or c.p_value is None:
        return "n/a"
    if c.p_value >= alpha or c.lift == 0:
        return "inconclusive"
    return "better" if sign * c.lift > 0 else "worse"


def _state(node: MetricNode, tree: MetricTree, source: str | None, value, baseline,
           c: Comparison | None, alpha: float, note: str = "") -> NodeState:
    change = rel = lo = hi = p = None
    scale = None
    status = "no data" if source is None else "n/a"
    if c is not None:
        change, rel, p = c.lift, c.relative_lift, c.p_value
        if c.relative_ci_low is not None:
            lo, hi, scale = c.relative_ci_low, c.relative_ci_high, "relative"
        elif c.ci_low is not None:
            lo, hi, scale = c.ci_low, c.ci_high, "absolute"
        status = status_of(c, node.sign, alpha)
        note = "; ".join(x for x in (note, c.note) if x)
    elif value is not None and baseline is not None:
        change = value - baseline
        rel = change / abs(baseline) if baseline != 0 else None
    return NodeState(
        node.id, node.name, node.level, node.direction, node.unit, node.owner, list(node.parents),
        [ch.id for ch in tree.children(node.id)],
        node.guardrail.describe(node.direction) if node.guardrail else None, node.primary, source,
        value, baseline, change, rel, lo, hi, scale, p, status, note,
    )


def experiment_node_states(con: duckdb.DuckDBPyConnection, tree: MetricTree, experiment_id: str,
                           alpha: float = 0.05, online: dict | None = None,
                           offline: dict | None = None, evaluation: Evaluation | None = None) -> list[NodeState]:
    """Every node's movement in one experiment (overall rows, no segment); pass `online` /
    `offline` when already read (overall_stats / offline_values).

    Online nodes are coloured by the launch decision's own statuses (`evaluation`, default: the
    default decision rules at `alpha`): the primary on its p-value, the others on their BH
    q-value, exactly as the Launch review's scorecard and reasons say it."""
    online = overall_stats(con, experiment_id) if online is None else online
    offline = offline_values(con, experiment_id) if offline is None else offline
    if evaluation is None:
        evaluation = evaluate(online, offline, tree, DecisionRules(alpha=alpha))
    statuses = evaluation.decision.statuses
    states = []
    for node in tree.nodes:
        m = evaluation.input(node.data.online) if node.data.online else None
        if m is not None:
            c = m.comparison
            harm = evaluation.decision.harms.get(m.metric)
            note = _evidence_note(m) + ("; investigate: worse at the raw p-value, not confirmed"
                                        if harm is not None and harm.status == "investigate" else "")
            st = _state(node, tree, "online", c.treatment_mean, c.control_mean, c, alpha, note)
            st.status = statuses[m.metric]
            states.append(st)
        elif node.composite is not None:
            states.append(_composite_state(con, tree, node, experiment_id, alpha))
        elif node.data.offline and node.data.offline in offline:
            ctl, trt = offline[node.data.offline]
            st = _state(node, tree, "offline", trt, ctl, None, alpha,
                        "offline metric: one value per model, no interval")
            st.status = _offline_status(ctl, trt, node.sign)
            states.append(st)
        else:
            states.append(_state(node, tree, None, None, None, None, alpha,
                                 "not measured in this experiment"))
    return states


def _composite_state(con, tree: MetricTree, node: MetricNode, experiment_id: str, alpha: float) -> NodeState:
    """A composite node (a learned or declared combination of other nodes' lifts): its relative lift
    with interval, coloured on its own p-value (it predicts; it does not decide)."""
    from dashboard.services import proxy  # proxy reads the tree through this module

    got = proxy.composite_node_lift(con, tree, node, experiment_id, 1 - alpha)
    st = _state(node, tree, None, None, None, None, alpha, f"composite: {got['note']}")
    if "lift" not in got:
        return st
    st.source, st.relative_change = "composite", got["lift"]
    st.ci_low, st.ci_high, st.ci_scale, st.p_value = got["ci_low"], got["ci_high"], "relative", got["p_value"]
    if got["p_value"] is None or got["p_value"] >= alpha or got["lift"] == 0:
        st.status = "inconclusive"
    else:
        st.status = "better" if node.sign * got["lift"] > 0 else "worse"
    return st


def _evidence_note(m) -> str:
    """Which evidence coloured an online node: the primary's own p, or the BH q-value."""
    if m.primary:
        return "primary metric: judged on its own p-value"
    if m.q_value is not None:
        return f"{fmt.p_is(m.q_value, 'q')} (Benjamini-Hochberg over the experiment's other metrics)"
    return ""


def _offline_status(control: float, treatment: float, sign: int) -> str:
    if treatment == control:
        return "inconclusive"
    return "better" if sign * (treatment - control) > 0 else "worse"


def period_node_states(con: duckdb.DuckDBPyConnection, tree: MetricTree, days: int = 7,
                       end: str | None = None, alpha: float = 0.05, week: str | None = None) -> list[NodeState]:
    """Every node's daily series over the `days // 7` whole ISO weeks ending with `week` (default:
    the last complete week on or before `end`, or in the data) against as many weeks before,
    judged by the Weekly review's verdict (dashboard.metrics.week_verdict: autocorrelation,
    weekly cycle and the same period last year accounted for; its own calibrated level, so
    `alpha` is not used here). Nodes with no daily series are 'no data'."""
    w = period_windows(con, days, end, week)
    signs = {n.data.daily: n.sign for n in tree.nodes if n.data.daily}
    found = week_verdicts.metric_verdicts(con, w["week"], w["weeks"], signs) if w else {}
    states = []
    for node in tree.nodes:
        metric = node.data.daily
        if not (metric and metric in found):
            states.append(_state(node, tree, None, None, None, None, alpha, "no daily series"))
            continue
        r = found[metric]
        v = r["verdict"]
        st = _state(node, tree, "daily", r["value"], r["previous"], None, alpha, _period_note(w, v))
        st.relative_change, st.p_value, st.status = v.change, v.p_value, v.verdict
        if v.usual_low is not None:
            st.ci_low, st.ci_high, st.ci_scale = v.usual_low, v.usual_high, "relative"
        states.append(st)
    return states


def _period_note(w: dict, v) -> str:
    text = f"{w['cur_start']}..{w['end']} vs {w['prev_start']}..{w['prev_end']}"
    if v.expected is None:
        return text + (f"; only {v.reference} past periods to compare with" if v.verdict != "no data" else "")
    return (text + f"; expected {v.expected:+.1%} ({v.baseline}), usual range {v.usual_low:+.1%} to "
            f"{v.usual_high:+.1%} over {v.reference} past periods")


def period_windows(con: duckdb.DuckDBPyConnection, days: int, end: str | None = None,
                   week: str | None = None) -> dict | None:
    """The compared whole weeks: {week, weeks, end, cur_start, prev_end, prev_start} (ISO dates)."""
    if days % 7 or days // 7 not in week_verdicts.PERIOD_WEEKS:
        raise ValueError(f"a period is 7, 14 or 28 days (whole weeks, so the weekday cycle cancels), not {days}")
    if week is None:
        weeks = week_verdicts.available_weeks(con)
        if end is not None:
            week = last_complete_week(date.fromisoformat(end))
        elif not weeks:
            return None
        else:
            week = weeks[0]
    return week_verdicts.window(week, days // 7)


def daily_series(con: duckdb.DuckDBPyConnection, metric: str) -> list[tuple[str, float]]:
    if not table_exists(con, "daily_metrics"):
        return []
    overall = _overall_filter(con, "daily_metrics")
    rows = con.execute(
        f"SELECT date, value FROM daily_metrics WHERE metric = ? AND {overall} ORDER BY date", [metric]
    ).fetchall()
    return [(d.isoformat(), float(v)) for d, v in rows]


def offline_history(con: duckdb.DuckDBPyConnection, metric: str) -> list[dict]:
    """The offline metric in every experiment that reports it, oldest first."""
    have = present_tables(con)
    if "offline_results" not in have:
        return []
    join = "experiments" in have
    sql = ("SELECT o.experiment_id, " + ("e.name, e.start_date" if join else "NULL, NULL")
           + ", o.control_value, o.treatment_value FROM offline_results o "
           + ("LEFT JOIN experiments e USING (experiment_id) " if join else "")
           + "WHERE o.metric = ? ORDER BY 3 NULLS LAST, 1")
    return [{"experiment_id": e, "name": n, "start_date": str(d) if d else None,
             "control_value": float(c), "treatment_value": float(t)}
            for e, n, d, c, t in con.execute(sql, [metric]).fetchall()]


def node_detail(con: duckdb.DuckDBPyConnection, tree_path: str | None, node_id: str,
                tree_version: int = 0) -> dict:
    """History of one node (daily series and offline values across experiments) and its children.
    tree_version: cache key only (see tree_file_version)."""
    loaded = load(con, tree_path)
    if loaded.tree is None or node_id not in loaded.tree:
        return {"node": node_id, "found": False}
    tree = loaded.tree
    node = tree.node(node_id)
    return {
        "node": node_id, "found": True, "name": node.name, "level": node.level,
        "direction": node.direction, "unit": node.unit, "owner": node.owner,
        "description": node.description,
        "data": dict(node.data.items()),
        "guardrail": node.guardrail.describe(node.direction) if node.guardrail else None,
        "parents": [{"id": p, "name": tree.node(p).name} for p in node.parents],
        "children": [{"id": c.id, "name": c.name, "level": c.level} for c in tree.children(node_id)],
        "composite": _composite_detail(tree, node),
        "daily": daily_series(con, node.data.daily) if node.data.daily else [],
        "offline": offline_history(con, node.data.offline) if node.data.offline else [],
    }


def _composite_detail(tree: MetricTree, node: MetricNode) -> str | None:
    """One sentence saying what a composite node combines, in the nodes' names."""
    comp = node.composite
    if comp is None:
        return None
    target = tree.node(comp.target).name
    if comp.learned:
        return (f"predicts {target}'s lift from the short-term metrics below it, with weights learned from past "
                "experiments (Online vs offline shows them and their validation)")
    parts = " + ".join(f"{w:g} × {tree.node(i).name}" for i, w in comp.weights)
    return f"predicts {target}'s lift as {parts} (declared weights on relative lifts)"


def tree_view(con: duckdb.DuckDBPyConnection, tree_path: str | None = None,
              experiment_id: str | None = None, days: int = 7, alpha: float = 0.05,
              tree_version: int = 0, week: str | None = None) -> dict:
    """Everything the Metric tree page draws: nodes with states, levels, problems.
    tree_version: cache key only (see tree_file_version)."""
    loaded = load(con, tree_path)
    out: dict[str, Any] = {"path": loaded.path, "problems": loaded.problems, "levels": [],
                           "nodes": [], "mode": "experiment" if experiment_id else "period"}
    if loaded.tree is None:
        return out
    tree = loaded.tree
    out["levels"] = list(tree.levels)
    if experiment_id:
        states = experiment_node_states(con, tree, experiment_id, alpha)
    else:
        states = period_node_states(con, tree, days, alpha=alpha, week=week)
        out["window"] = period_windows(con, days, week=week)
    out["nodes"] = positioned(tree, states)
    return out


def positioned(tree: MetricTree, states: list[NodeState], broken: Iterable[str] = ()) -> list[dict]:
    """Node states as dicts with drawing positions; `broken` are online metrics that forced a roll back."""
    drawing = draw(tree)
    broken = set(broken)
    out = []
    for s in states:
        d = s.as_dict()
        d["x"], d["y"] = drawing.pos[s.id]
        d["routes"] = {p: drawing.routes[(s.id, p)] for p in s.parents if (s.id, p) in drawing.routes}
        d["broken"] = tree.node(s.id).data.online in broken
        d["needs"] = needs(tree.node(s.id), s.note) if s.status == "no data" else ""
        out.append(d)
    return out


def needs(node: MetricNode, note: str) -> str:
    """Which data would fill a node that has none in this view (a short phrase for its box)."""
    data = node.data
    if node.composite is not None:
        return "composite: shown for an experiment" if not note.startswith("composite:") else \
            "composite: " + note.split(";")[0].removeprefix("composite: ")
    if note.startswith("not measured in this experiment"):
        if data.online:
            return f"needs “{data.online}” results of this experiment"
        if data.offline:
            return f"needs offline “{data.offline}” of both models"
        return "daily data only: not tested in experiments"
    if data.daily:
        return f"needs daily “{data.daily}” in this period"
    if data.offline:
        return "offline metric: shown in an experiment"
    return "no data source in the tree file"


# ---------------------------------------------------------------- experiment rows


def _overall_filter(con: duckdb.DuckDBPyConnection, table: str) -> str:
    cols = segment_columns(con, table)
    return " AND ".join(f"{ident(c)} IS NULL" for c in cols) or "TRUE"


def overall_stats(con: duckdb.DuckDBPyConnection, experiment_id: str) -> dict[str, tuple[SuffStats, SuffStats]]:
    """metric -> (control, treatment) sufficient statistics of the overall (unsegmented) rows."""
    try:
        return _pairs(con.execute(
            f"""SELECT metric, lower(variant), sum(n), sum("sum"), sum(sum_sq), {pre_period_sql(con)}
                FROM experiment_results
                WHERE experiment_id = ? AND {_overall_filter(con, 'experiment_results')}
                GROUP BY ALL ORDER BY 1""",
            [experiment_id],
        ).fetchall())
    except duckdb.CatalogException:  # nothing of this kind loaded
        return {}


def pre_period_sql(con: duckdb.DuckDBPyConnection) -> str:
    """The select list _pairs reads after n, sum, sum_sq: the pre-period sums and whether every
    summed row carried them (a table from before CUPED has no such columns until its next load)."""
    if "pre_sum" in table_columns(con, "experiment_results"):
        return "sum(pre_sum), sum(pre_sum_sq), sum(sum_cross), count(pre_sum) = count(*)"
    return "NULL, NULL, NULL, false"


def _pairs(rows) -> dict[str, tuple[SuffStats, SuffStats]]:
    """CupedStats where the row carries pre-period statistics (evaluate then adjusts), else SuffStats."""
    out: dict[str, dict[str, SuffStats]] = {}
    for metric, variant, n, s, ss, *pre in rows:
        if len(pre) == 4 and pre[3]:
            stats = CupedStats(int(n), float(s), float(ss), *map(float, pre[:3]))
        else:
            stats = SuffStats(int(n), float(s), float(ss))
        out.setdefault(metric, {})[variant] = stats
    empty = SuffStats(0, 0.0, 0.0)
    return {m: (v.get("control", empty), v.get("treatment", empty)) for m, v in out.items()}


def offline_values(con: duckdb.DuckDBPyConnection, experiment_id: str) -> dict[str, tuple[float, float]]:
    try:
        rows = con.execute(
            "SELECT metric, control_value, treatment_value FROM offline_results WHERE experiment_id = ? ORDER BY 1",
            [experiment_id],
        ).fetchall()
    except duckdb.CatalogException:
        return {}
    return {m: (float(c), float(t)) for m, c, t in rows}
