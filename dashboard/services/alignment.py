"""Online vs offline: does a proxy metric's lift predict the business metric's lift across experiments?

One point per past experiment with both metrics: x = the proxy's relative lift (offline model
metric or an online engagement metric), y = the target's relative lift. Statistics in
dashboard.metrics.alignment; lifts in dashboard.services.alignment_lifts.

"Offline won, online lost": the proxy moved in its good direction while the target moved in its
bad one (directions from the metric tree where the metric is a node; higher is better otherwise).
"""

from __future__ import annotations

import argparse
from typing import Any

import duckdb
import numpy as np

from dashboard.metrics import alignment as al
from dashboard.services import tree as tree_svc
from dashboard.store.covariances import noise_covariance
from dashboard.services.alignment_lifts import (LiftPoint, MetricRef, experiment_info, lifts, metric_options,
                                                resolve)

BAND_POINTS = 60


def direction(tree, ref: MetricRef) -> int:
    """+1 when higher is better, -1 when lower is better (from the tree; +1 when unknown)."""
    node = tree.by_data(ref.source, ref.name) if tree is not None else None
    return node.sign if node is not None else 1


def _tree(con):
    return tree_svc.load(con).tree


def paired_points(con, x: MetricRef, y: MetricRef, confidence: float = 0.95,
                  memo: dict | None = None) -> list[tuple[LiftPoint, LiftPoint]]:
    """Experiments with both lifts, in start-date order. `memo` keeps lifts across calls (the
    logged ones bootstrap, so a leaderboard computes each metric once)."""
    memo = {} if memo is None else memo
    for ref in (x, y):
        if ref not in memo:
            memo[ref] = lifts(con, ref, confidence)
    lx, ly = memo[x], memo[y]
    order = list(experiment_info(con)) or sorted(lx)
    return [(lx[e], ly[e]) for e in order if e in lx and e in ly]


def alignment(con: duckdb.DuckDBPyConnection, x: MetricRef, y: MetricRef, confidence: float = 0.95,
              tree=None, memo: dict | None = None) -> dict:
    """Everything the page and the report show for one proxy -> target pair. Raises
    al.AlignmentError with a readable message when the history cannot answer."""
    if x == y:
        raise al.AlignmentError("pick two different metrics: a metric trivially predicts itself")
    tree = _tree(con) if tree is None else tree
    pts = paired_points(con, x, y, confidence, memo)
    if len(pts) < al.MIN_EXPERIMENTS:
        raise al.AlignmentError(
            f"only {len(pts)} experiment(s) have both {x.spec} and {y.spec}; at least "
            f"{al.MIN_EXPERIMENTS} are needed")
    xv = np.array([p.lift for p, _ in pts])
    yv = np.array([q.lift for _, q in pts])
    se_x = np.array([np.nan if p.se is None else p.se for p, _ in pts])
    se_y = np.array([np.nan if q.se is None else q.se for _, q in pts])
    pear, spear = al.pearson(xv, yv, confidence), al.spearman(xv, yv, confidence)
    signs = al.sign_agreement(xv, yv, confidence)
    line = al.fit_line(xv, yv)
    corrected = _corrected(con, x, y, pts, xv, yv, se_x, se_y, confidence)
    loo = al.leave_one_out_errors(xv, yv)
    sx, sy = direction(tree, x), direction(tree, y)
    info = experiment_info(con)
    experiments = [_experiment_row(p, q, info.get(p.experiment_id, {}), e, sx, sy)
                   for (p, q), e in zip(pts, loo)]
    grid = np.linspace(xv.min(), xv.max(), BAND_POINTS)
    fit, lo, hi = line.predict(grid, confidence)
    return {
        "offline_metric": x.spec, "online_metric": y.spec, "confidence": confidence,
        "directions": {"offline": sx, "online": sy},
        "n_experiments": len(pts),
        "pearson": pear.estimate, "pearson_ci": [pear.ci_low, pear.ci_high], "pearson_p": pear.p_value,
        "spearman": spear.estimate, "spearman_ci": [spear.ci_low, spear.ci_high], "spearman_p": spear.p_value,
        "sign_agreement": signs.share, "sign_agreement_ci": [signs.ci_low, signs.ci_high],
        "sign_agreement_n": signs.n,
        "offline_wins": int(sum(sx * p > 0 for p in xv)),
        "offline_wins_online_wins": int(sum((sx * a > 0) and (sy * b > 0) for a, b in zip(xv, yv))),
        "slope": line.slope, "intercept": line.intercept, "residual_sd": line.residual_sd,
        "corrected_correlation": corrected.estimate,
        "corrected_ci": [corrected.ci_low, corrected.ci_high], "corrected_slope": corrected.slope,
        "reliability": {"offline": corrected.reliability_x, "online": corrected.reliability_y},
        "corrected_notes": list(corrected.notes),
        "loo_rmse": _rmse(loo), "loo_q2": _q2(loo, yv),
        "noise_covariance": ("from covariances" if x.source == y.source == "online" else
                             "0 (different data)"),
        "proxy_kind": x.source,
        "noise_known": {"offline": int(np.isfinite(se_x).sum()), "online": int(np.isfinite(se_y).sum())},
        "warnings": al.history_warnings(xv),
        "broken": [r["experiment_id"] for r in experiments if r["broken"]],
        "band": {"x": grid.tolist(), "fit": fit.tolist(), "low": lo.tolist(), "high": hi.tolist()},
        "experiments": experiments,
    }


NO_COVARIANCES = "not available: load covariances"


def _corrected(con, x: MetricRef, y: MetricRef, pts, xv, yv, se_x, se_y, confidence: float) -> al.Corrected:
    """Two online metrics share their users' noise: its covariance comes from `covariances`, and
    without it no corrected value is given (independence would overstate the correlation).
    An offline metric is measured on other data: noise covariance 0."""
    if not (x.source == y.source == "online"):
        return al.noise_corrected(xv, yv, se_x, se_y, noise_cov=np.zeros(len(pts)), confidence=confidence)
    unit_cov = noise_covariance(con, x.name, y.name)
    cov, missing = [], []
    for p, q in pts:
        v = unit_cov.get(p.experiment_id, {})
        if "control" not in v or "treatment" not in v or p.n_control is None:
            missing.append(p.experiment_id)
            continue
        cov.append(al.relative_lift_covariance(p.control_value, p.treatment_value, q.control_value, q.treatment_value,
                                               v["control"], v["treatment"], p.n_control, p.n_treatment))
    if missing:
        which = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        note = (f"{NO_COVARIANCES} of {x.name} and {y.name} (two online metrics measured on the same users "
                f"share noise; missing for {which})")
        return al.Corrected(None, None, None, None, None, None, (note,))
    return al.noise_corrected(xv, yv, se_x, se_y, noise_cov=np.array(cov), confidence=confidence)


def _experiment_row(p: LiftPoint, q: LiftPoint, info: dict, loo_error: float, sx: int, sy: int) -> dict:
    broken = sx * p.lift > 0 and sy * q.lift < 0
    significant = q.ci_high is not None and (sy * q.ci_high < 0 if sy > 0 else sy * q.ci_low < 0)
    return {
        "experiment_id": p.experiment_id, "name": info.get("name"), "decision": info.get("decision"),
        "end_date": info.get("end_date"), "owner": info.get("owner"),
        "offline_lift": p.lift, "offline_ci_low": p.ci_low, "offline_ci_high": p.ci_high,
        "offline_ci_note": p.ci_note,
        "offline_source": p.source, "offline_typed_lift": p.typed_lift,
        "disagreement": p.disagreement, "disagreement_note": p.disagreement_note,
        "online_lift": q.lift, "online_ci_low": q.ci_low, "online_ci_high": q.ci_high,
        "broken": bool(broken), "online_loss_significant": bool(broken and significant),
        "loo_error": None if not np.isfinite(loo_error) else float(loo_error),
    }


def _rmse(errors: np.ndarray) -> float | None:
    e = errors[np.isfinite(errors)]
    return float(np.sqrt(np.mean(e * e))) if e.size else None


def _q2(errors: np.ndarray, y: np.ndarray) -> float | None:
    """Predictive R^2 (1 - PRESS / total sum of squares): comparable across proxies with different
    experiment sets; below 0 means predicting the average lift does better than the proxy."""
    ok = np.isfinite(errors)
    total = ((y[ok] - y[ok].mean()) ** 2).sum()
    return float(1 - (errors[ok] ** 2).sum() / total) if ok.sum() > 2 and total > 0 else None


def validated(result: dict) -> bool:
    """Whether the history shows the proxy tracking the target in the expected direction: the
    noise-corrected interval where there is one, else the naive one, above 0."""
    expected = result["directions"]["offline"] * result["directions"]["online"]
    return aligned(result, expected)[
        "aligned_corrected_ci" if result["corrected_correlation"] is not None else "aligned_pearson_ci"][0] > 0


def predict(result: dict, offline_lift: float) -> dict:
    """Expected online lift of a new candidate with this offline lift, with a prediction interval."""
    xs = [r["offline_lift"] for r in result["experiments"]]
    ys = [r["online_lift"] for r in result["experiments"]]
    y, lo, hi = al.fit_line(xs, ys).predict(offline_lift, result["confidence"])
    warnings = al.history_warnings(xs, offline_lift)
    low, high = result["pearson_ci"]
    if low <= 0 <= high:
        warnings.append("the history does not show that this proxy predicts the target at all "
                        "(the correlation's interval includes 0): the line is no better than the average lift")
    return {"offline_lift": offline_lift, "expected_online_lift": float(y),
            "interval": [float(lo), float(hi)], "warnings": warnings, "proxy_validated": validated(result)}


def leaderboard(con: duckdb.DuckDBPyConnection, target: MetricRef, confidence: float = 0.95,
                memo: dict | None = None) -> list[dict]:
    """Every other metric ranked by how well its lift tracked the target's, in the good direction."""
    tree, memo = _tree(con), ({} if memo is None else memo)
    rows = []
    for source, names in metric_options(con).items():
        for name in names:
            ref = MetricRef(source, name)
            if ref == target:
                continue
            try:
                r = alignment(con, ref, target, confidence, tree=tree, memo=memo)
            except al.AlignmentError as exc:
                rows.append({"proxy": ref.spec, "n_experiments": 0, "problem": str(exc)})
                continue
            expected = r["directions"]["offline"] * r["directions"]["online"]
            rows.append({
                "proxy": ref.spec, "kind": ref.source, "n_experiments": r["n_experiments"],
                "expected_sign": expected, **aligned(r, expected),
                "pearson": r["pearson"], "pearson_ci": r["pearson_ci"],
                "corrected_correlation": r["corrected_correlation"], "corrected_ci": r["corrected_ci"],
                "corrected_notes": r["corrected_notes"],
                "sign_agreement": r["sign_agreement"], "sign_agreement_ci": r["sign_agreement_ci"],
                "loo_rmse": r["loo_rmse"], "loo_q2": r["loo_q2"], "broken": len(r["broken"]),
                "problem": None,
            })
    # offline and online proxies are ranked apart: two online metrics share their users' noise, an
    # offline metric does not, so their correlations are not on an equal footing
    ranked = sorted((r for r in rows if not r["problem"]),
                    key=lambda r: (r["kind"] != "offline", -r["aligned_pearson"]))
    return ranked + [r for r in rows if r["problem"]]


def aligned(r: dict, expected: int) -> dict:
    """Correlations and intervals turned to the expected direction (+1: the proxy moving in its good
    direction goes with the target moving in its good one), every one of them the same way."""
    def turn(pair):
        lo, hi = pair
        return [None, None] if lo is None else sorted([expected * lo, expected * hi])
    c = r["corrected_correlation"]
    return {"aligned_pearson": expected * r["pearson"], "aligned_pearson_ci": turn(r["pearson_ci"]),
            "aligned_corrected": None if c is None else expected * c,
            "aligned_corrected_ci": turn(r["corrected_ci"])}


def strength(row: dict) -> str:
    """Verdict on an edge or proxy from its interval in the expected direction: the noise-corrected
    one where available (the naive one is attenuated by noise, or inflated by shared noise)."""
    lo, hi = row["aligned_corrected_ci"] if row.get("aligned_corrected") is not None else row["aligned_pearson_ci"]
    if lo > 0.3:
        return "strong"
    if lo > 0:
        return "supported"
    if hi < 0:
        return "moves against"
    return "not supported"


def tree_edges(con: duckdb.DuckDBPyConnection, confidence: float = 0.95, memo: dict | None = None) -> list[dict]:
    """For each child -> parent edge of the metric tree whose nodes both have experiment lifts:
    how strongly the child's lift tracked the parent's."""
    tree = _tree(con)
    if tree is None:
        return []
    options, memo = metric_options(con), ({} if memo is None else memo)

    def ref_of(node):
        for source in ("online", "offline"):
            name = getattr(node.data, source)
            if name and name in options[source]:
                return MetricRef(source, name)
        return None

    edges = []
    for child in tree.nodes:
        for parent_id in child.parents:
            parent = tree.node(parent_id)
            cr, pr = ref_of(child), ref_of(parent)
            row = {"child": child.id, "parent": parent.id, "child_metric": cr and cr.spec,
                   "parent_metric": pr and pr.spec, "child_name": child.name, "parent_name": parent.name}
            if cr is None or pr is None:
                edges.append({**row, "n_experiments": 0, "problem": "no experiment lifts for one of the two"})
                continue
            try:
                r = alignment(con, cr, pr, confidence, tree=tree, memo=memo)
            except al.AlignmentError as exc:
                edges.append({**row, "n_experiments": 0, "problem": str(exc)})
                continue
            expected = child.sign * parent.sign
            edge = {**row, "n_experiments": r["n_experiments"], "pearson": r["pearson"],
                    "pearson_ci": r["pearson_ci"], "expected_sign": expected, **aligned(r, expected),
                    "corrected_correlation": r["corrected_correlation"], "corrected_ci": r["corrected_ci"],
                    "corrected_notes": r["corrected_notes"], "sign_agreement": r["sign_agreement"], "problem": None}
            edges.append({**edge, "strength": strength(edge)})
    return edges


# --- command line --------------------------------------------------------------------------


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--offline", required=True,
                        help="proxy metric: an offline metric (ndcg@10, auc...) or online:NAME for an online one")
    parser.add_argument("--online", required=True, help="target metric, e.g. retention_7d")
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--predict", type=float, default=None,
                        help="a candidate's offline relative lift (0.05 = +5%%): adds its expected online lift")
    parser.add_argument("--leaderboard", action="store_true",
                        help="also rank every metric as a proxy of the --online metric")


def report(con: duckdb.DuckDBPyConnection, args: argparse.Namespace) -> dict[str, Any]:
    x = resolve(con, args.offline, prefer="offline")
    y = resolve(con, args.online, prefer="online")
    try:
        result = alignment(con, x, y, args.confidence)
    except al.AlignmentError as exc:
        raise ValueError(str(exc)) from exc
    result.pop("band")
    if args.predict is not None:
        result["prediction"] = predict(result, args.predict)
    if args.leaderboard:
        result["leaderboard"] = leaderboard(con, y, args.confidence)
    return result


# --- entry points for the app: metric specs as strings (cache keys), failures as results ----


def options(con: duckdb.DuckDBPyConnection) -> dict:
    """Metric specs per source, and the default proxy and target (the tree's primary metric)."""
    opts = metric_options(con)
    specs = [f"offline:{m}" for m in opts["offline"]] + [f"online:{m}" for m in opts["online"]]
    tree = _tree(con)
    primary = tree.primary() if tree is not None else None
    target = f"online:{primary.data.online}" if primary is not None and primary.data.online else None
    if target not in specs:
        target = next((s for s in specs if s.startswith("online:")), None)
    proxy = _most_covered_offline(con) or next((s for s in specs if s != target), None)
    return {"specs": specs, "default_proxy": proxy, "default_target": target,
            "names": {s: display_name(tree, MetricRef.parse(s)) for s in specs},
            "n_experiments": len(experiment_info(con))}


def display_name(tree, ref: MetricRef) -> str:
    """The tree's human name of the metric ('7-day retention'), else its loaded name; offline
    metrics say so (an offline NDCG and an online metric of the same name are different things)."""
    node = tree.by_data(ref.source, ref.name) if tree is not None else None
    name = node.name if node is not None else ref.name
    return f"{name} (offline)" if ref.source == "offline" else name


def best_validated(board: list[dict]) -> str | None:
    """The proxy the history supports best: highest lower bound of its correlation with the target
    in the expected direction (noise-corrected where available), among those whose bound is above 0;
    otherwise the best naive r. None when nothing was computed."""
    rows = [r for r in board if not r.get("problem")]
    if not rows:
        return None

    def lower(r):
        ci = r["aligned_corrected_ci"] if r["aligned_corrected"] is not None else r["aligned_pearson_ci"]
        return ci[0]
    return max(rows, key=lambda r: (lower(r) > 0, lower(r), r["aligned_pearson"]))["proxy"]


def view(con: duckdb.DuckDBPyConnection, proxy: str, target: str, confidence: float = 0.95) -> dict:
    try:
        return alignment(con, MetricRef.parse(proxy), MetricRef.parse(target), confidence)
    except (al.AlignmentError, ValueError) as exc:
        return {"error": str(exc)}


def history_view(con: duckdb.DuckDBPyConnection, target: str, confidence: float = 0.95) -> dict:
    """The proxy leaderboard for `target` and the tree's edges, sharing one computation of lifts."""
    memo: dict = {}
    board = leaderboard(con, MetricRef.parse(target), confidence, memo)
    return {"leaderboard": board, "edges": tree_edges(con, confidence, memo), "best_proxy": best_validated(board)}


def _most_covered_offline(con) -> str | None:
    if not metric_options(con)["offline"]:
        return None
    row = con.execute("SELECT metric FROM offline_results GROUP BY metric "
                      "ORDER BY count(DISTINCT experiment_id) DESC, metric LIMIT 1").fetchone()
    return f"offline:{row[0]}" if row else None
