"""One metric's relative lift in every past experiment, from what is loaded.

- online metrics (experiment_results): relative lift of treatment over control from the
  variants' sufficient statistics, delta-method interval (dashboard.metrics.experiments);
- offline metrics: computed from the logs of both models when both are loaded (ranking runs
  for ndcg@K / mrr@K / recall@K, prediction summaries for auc / average_precision /
  recall@precision>=P), with a bootstrap interval and the models' disagreement; otherwise the
  typed-in values of offline_results, which carry no interval. Classification lifts are
  paired by row (both models' raw rows joined on `id`) when the join reproduces both models'
  bin counts: the AUC by DeLong's paired variance with a t quantile, the others by a paired
  bootstrap (dashboard.metrics.paired_auc.paired_classification_lift); otherwise (summaries only,
  no `id`, duplicate ids) each model's bins are resampled independently, which overstates the
  lift's noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np

from dashboard.gates_ranking import parse_ranking_metric, per_query_values
from dashboard.metrics import gate_stats
from dashboard.metrics.experiments import SuffStats, compare
from dashboard.metrics.binning import N_BINS
from dashboard.metrics.lift_bootstrap import binned_metric_lift, paired_mean_lift
from dashboard.metrics.paired_auc import paired_classification_lift
from dashboard.services import thresholds as thr
from dashboard.store import catalog
from dashboard.store.sqlutil import ident
from dashboard.store.summaries import _binned

SOURCES = ("offline", "online")


@dataclass(frozen=True)
class MetricRef:
    source: str  # 'offline' or 'online'
    name: str

    @property
    def spec(self) -> str:
        return f"{self.source}:{self.name}"

    @classmethod
    def parse(cls, spec: str) -> "MetricRef":
        source, _, name = spec.partition(":")
        if source not in SOURCES or not name:
            raise ValueError(f"metric {spec!r} should read offline:NAME or online:NAME")
        return cls(source, name)


@dataclass(frozen=True)
class LiftPoint:
    experiment_id: str
    lift: float
    se: float | None
    ci_low: float | None
    ci_high: float | None
    source: str  # 'online statistics', 'logs' or 'typed'
    control_value: float | None = None
    treatment_value: float | None = None
    typed_lift: float | None = None  # the offline_results value when logs replaced it
    disagreement: float | None = None
    disagreement_note: str = ""
    n_control: int | None = None  # units per variant (online lifts): for the noise covariance of two metrics
    n_treatment: int | None = None
    ci_note: str = ""  # why the interval is wider than the bootstrap's (tied scores), else ""


def metric_options(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Metric names per source that have at least one experiment."""
    out = {}
    for source, table in (("offline", "offline_results"), ("online", "experiment_results")):
        out[source] = ([r[0] for r in con.execute(f"SELECT DISTINCT metric FROM {table} ORDER BY 1").fetchall()]
                       if catalog.table_exists(con, table) else [])
    return out


def resolve(con: duckdb.DuckDBPyConnection, name: str, prefer: str) -> MetricRef:
    """'offline:x' / 'online:x' as given; a bare name looks in `prefer` first, then the other."""
    if ":" in name and name.split(":", 1)[0] in SOURCES:
        ref = MetricRef.parse(name)
        order = [ref.source]
    else:
        ref, order = None, [prefer] + [s for s in SOURCES if s != prefer]
    options = metric_options(con)
    for source in order:
        wanted = ref.name if ref else name
        if wanted in options[source]:
            return MetricRef(source, wanted)
    known = "; ".join(f"{s}: {', '.join(v) or 'none'}" for s, v in options.items())
    raise ValueError(f"no experiment has metric {name!r}. Loaded metrics - {known}")


def experiment_info(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    if not catalog.table_exists(con, "experiments"):
        return {}
    rows = con.execute(
        "SELECT experiment_id, name, start_date, end_date, control_model, treatment_model, "
        "owner, decision FROM experiments ORDER BY start_date, experiment_id").fetchall()
    keys = ("experiment_id", "name", "start_date", "end_date", "control_model", "treatment_model",
            "owner", "decision")
    return {r[0]: dict(zip(keys, r)) for r in rows}


def lifts(con: duckdb.DuckDBPyConnection, ref: MetricRef, confidence: float = 0.95) -> dict[str, LiftPoint]:
    if ref.source == "online":
        return online_lifts(con, ref.name, confidence)
    return offline_lifts(con, ref.name, confidence)


def online_lifts(con: duckdb.DuckDBPyConnection, metric: str, confidence: float = 0.95) -> dict[str, LiftPoint]:
    seg = catalog.segment_columns(con, "experiment_results")
    overall = " AND ".join(f"{ident(c)} IS NULL" for c in seg) or "TRUE"
    rows = con.execute(
        f"""SELECT experiment_id, lower(variant), sum(n), sum("sum"), sum(sum_sq)
            FROM experiment_results WHERE metric = ? AND {overall} GROUP BY ALL ORDER BY 1""",
        [metric]).fetchall()
    by_exp: dict[str, dict[str, SuffStats]] = {}
    for eid, variant, n, s, ss in rows:
        by_exp.setdefault(eid, {})[variant] = SuffStats(int(n), float(s), float(ss))
    out = {}
    for eid, v in by_exp.items():
        if "control" not in v or "treatment" not in v:
            continue
        c = compare(v["control"], v["treatment"], alpha=1 - confidence)
        if c.relative_lift is None:
            continue
        out[eid] = LiftPoint(eid, c.relative_lift, c.relative_se, c.relative_ci_low, c.relative_ci_high,
                             "online statistics", c.control_mean, c.treatment_mean,
                             n_control=v["control"].n, n_treatment=v["treatment"].n)
    return out


def offline_lifts(con: duckdb.DuckDBPyConnection, metric: str, confidence: float = 0.95) -> dict[str, LiftPoint]:
    out = {}
    if catalog.table_exists(con, "offline_results"):
        for eid, c, t in con.execute(
                "SELECT experiment_id, control_value, treatment_value FROM offline_results WHERE metric = ?",
                [metric]).fetchall():
            if c is None or t is None or c == 0:
                continue
            out[eid] = LiftPoint(eid, float(t) / abs(float(c)) - np.sign(c), None, None, None, "typed",
                                 float(c), float(t))
    logged = {"ranking": set(catalog.ranking_models(con)), "classification": set(catalog.prediction_models(con))}
    for eid, info in experiment_info(con).items():
        point = logged_lift(con, metric, info["control_model"], info["treatment_model"], eid, confidence, logged)
        if point is not None:
            typed = out.get(eid)
            out[eid] = LiftPoint(**{**point.__dict__, "typed_lift": typed.lift if typed else None})
    return out


def _metric_family(metric: str) -> str | None:
    try:
        parse_ranking_metric(metric)
        return "ranking"
    except LookupError:
        pass
    try:
        gate_stats.parse_classification_metric(metric)
        return "classification"
    except ValueError:
        return None


def logged_lift(con, metric: str, control: str | None, treatment: str | None, eid: str,
                confidence: float = 0.95, logged: dict[str, set] | None = None) -> LiftPoint | None:
    """The lift computed from both models' logs, or None when they are not both loaded.
    `logged`: family -> models with logs (looked up when not given)."""
    family = _metric_family(metric)
    if family is None:
        return None
    if logged is None:
        logged = {"ranking": set(catalog.ranking_models(con)), "classification": set(catalog.prediction_models(con))}
    if not {control, treatment} <= logged[family]:
        return None
    if family == "ranking":
        _ids, base, cand = per_query_values(con, metric, control, treatment)
        est = paired_mean_lift(base, cand, confidence=confidence)
        changed = float(np.mean(np.abs(cand - base) > 1e-12))
        note = f"share of {base.size:,} judged queries whose {metric} changed"
    else:
        cb, ct = thr.counts(con, control), thr.counts(con, treatment)
        fn = lambda p, n: gate_stats.classification_metric(metric, p, n)  # noqa: E731
        many = lambda p, n: gate_stats.classification_metric_many(metric, p, n)  # noqa: E731
        alts = lambda p, n: gate_stats.threshold_alternatives(metric, p, n)  # noqa: E731
        joint = _joint_cells(con, cb, ct)
        if joint is not None:
            est = paired_classification_lift(metric, N_BINS + 1, *joint, confidence=confidence)
        else:
            est = binned_metric_lift(fn, (cb.overall["pos"], cb.overall["neg"]),
                                     (ct.overall["pos"], ct.overall["neg"]), confidence=confidence,
                                     metric_many=many, alternatives=alts)
        changed, note = _classification_disagreement(con, metric, cb, ct)
    if est.lift is None:
        return None
    return LiftPoint(eid, est.lift, est.se, est.ci_low, est.ci_high, "logs", est.baseline, est.candidate,
                     disagreement=changed, disagreement_note=note, ci_note=est.note)


def _joint_cells(con, cb: thr.Counts, ct: thr.Counts) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Labelled rows per (cell under the control model, cell under the treatment model), rows
    joined on `id`; a cell is the bin for positives and N_BINS + 1 + bin for negatives, -1 for a
    row the model did not score. None when the rows cannot be paired, or when the join does not
    reproduce each model's stored bin counts (duplicate ids, labels that differ): then the caller
    bootstraps each model on its own."""
    if "id" not in catalog.table_columns(con, "predictions") or cb.model == ct.model:
        return None
    if not (thr.has_raw_rows(con, cb.model) and thr.has_raw_rows(con, ct.model)):
        return None
    side = (f"SELECT id, CASE WHEN label = 1 THEN bin ELSE {N_BINS + 1} + bin END AS cell "
            "FROM binned WHERE model = ? AND label IN (0, 1)")
    rows = con.execute(
        f"""{_binned(2, ["id"])}
            SELECT coalesce(a.cell, -1) AS cell_a, coalesce(b.cell, -1) AS cell_b, count(*) AS n
            FROM ({side}) a FULL OUTER JOIN ({side}) b ON a.id = b.id GROUP BY ALL ORDER BY 1, 2""",
        [cb.model, ct.model, cb.model, ct.model]).fetchnumpy()
    cells = (np.asarray(rows["cell_a"], dtype=np.int64), np.asarray(rows["cell_b"], dtype=np.int64))
    count = np.asarray(rows["n"], dtype=np.float64)
    for cell, c in zip(cells, (cb, ct)):
        ok = cell >= 0
        stored = np.r_[c.overall["pos"], c.overall["neg"]]
        if not np.array_equal(np.bincount(cell[ok], count[ok], stored.size), stored):
            return None
    return cells[0], cells[1], count


def _classification_disagreement(con, metric: str, cb: thr.Counts, ct: thr.Counts) -> tuple[float | None, str]:
    """Share of rows decided differently, each model at its operating threshold: the precision
    floor of a recall@precision>=P metric, else 0.9."""
    kind, arg = gate_stats.parse_classification_metric(metric)
    floor = arg if kind == "recall@precision" else 0.9
    ia, ib = thr.pick(cb, "precision", precision_floor=floor), thr.pick(ct, "precision", precision_floor=floor)
    if ia is None or ib is None:
        return None, f"a model never reaches precision {floor:g}"
    d = thr.disagreement(con, cb.model, float(cb.edges[ia]), ct.model, float(ct.edges[ib]))
    if not d["available"]:
        return None, d["reason"]
    return d["rate"], f"share of {d['paired_rows']:,} rows decided differently, each model at precision >= {floor:g}"
