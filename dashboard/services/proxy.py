"""Learned composite proxy: which weighted mix of short-term metrics best predicts the north star's
lift across past experiments (maths in dashboard.metrics.composite_proxy).

Lifts come from dashboard.services.alignment_lifts (one relative lift per experiment and metric,
with its standard error). The noise covariance of two online metrics in one experiment comes from
the `covariances` kind (delta method, dashboard.metrics.alignment.relative_lift_covariance); where
a pair has none it is taken as 0 and the result says so. Offline metrics are measured on other
data: noise covariance 0 with every online metric.
"""

from __future__ import annotations

import argparse
from typing import Any

import duckdb
import numpy as np

from dashboard import format as fmt
from dashboard.metrics import alignment as al
from dashboard.metrics import composite_proxy as cp
from dashboard.services import tree as tree_svc
from dashboard.services.alignment import direction, display_name
from dashboard.services.alignment_lifts import LiftPoint, MetricRef, experiment_info, lifts, metric_options, resolve
from dashboard.store.covariances import noise_covariances

LABEL = "learned composite"


def default_candidates(con: duckdb.DuckDBPyConnection, target: MetricRef, tree=None) -> list[MetricRef]:
    """Every online metric below the target's level in the metric tree (short-term metrics: for
    7-day retention, task success, session length, CTR, latency; not revenue, another outcome).
    Without a tree, or for a target outside it: every other online metric."""
    tree = tree_svc.load(con).tree if tree is None else tree
    node = tree.by_data("online", target.name) if tree is not None and target.source == "online" else None
    out = []
    for name in metric_options(con)["online"]:
        ref = MetricRef("online", name)
        if ref == target:
            continue
        other = tree.by_data("online", name) if node is not None else None
        if other is not None and other.level in tree.levels and node.level in tree.levels \
                and tree.level_rank(other.level) <= tree.level_rank(node.level):
            continue
        out.append(ref)
    return out


def history(con: duckdb.DuckDBPyConnection, target: MetricRef, candidates: list[MetricRef],
            confidence: float = 0.95) -> dict:
    """Experiments with every metric's lift: ids, lifts (n, K+1), noise covariances (n, K+1, K+1),
    the lift points, and notes on what was assumed. `pending`: experiments with every candidate's
    lift but none yet for the target (the composite's use: the north star is slow), with their
    candidate lifts (m, K) and noise (m, K, K)."""
    refs = [target] + candidates
    by_ref = {r: lifts(con, r, confidence) for r in refs}
    order = list(experiment_info(con)) or sorted(by_ref[target])
    ids = [e for e in order if all(e in by_ref[r] for r in refs)]
    left_out = [e for e in order if e in by_ref[target] and e not in ids]
    pending = [e for e in order if e not in by_ref[target] and all(e in by_ref[r] for r in candidates)]
    pairs = noise_covariances(con, [r.name for r in refs if r.source == "online"])
    z, se, s, points, gaps = _matrices(refs, ids, by_ref, pairs)
    pz, _, ps, _, _ = _matrices(candidates, pending, by_ref, pairs)
    notes = []
    if gaps:
        notes.append("noise covariance taken as 0 where `covariances` has no rows, which overstates how well "
                     "metrics measured on the same users agree: " + "; ".join(gaps))
    no_se = [r.spec for j, r in enumerate(refs) if not np.isfinite(se[:, j]).all()] if len(ids) else []
    if no_se:
        notes.append("no standard error for " + ", ".join(no_se) + " in some experiments (typed-in offline values): "
                     "their noise is taken as 0")
    return {"ids": ids, "lifts": z, "noise": s, "points": points, "left_out": left_out, "notes": notes,
            "pending": pending, "pending_lifts": pz, "pending_noise": ps}


def _matrices(refs: list[MetricRef], ids: list[str], by_ref: dict, pairs: dict):
    """Lifts (n, M), standard errors, noise covariances (n, M, M) of `refs` in experiments `ids`,
    the lift points, and the online pairs lacking covariances rows (their covariance left at 0)."""
    points = [[by_ref[r][e] for r in refs] for e in ids]
    z = np.array([[p.lift for p in row] for row in points]).reshape(len(ids), len(refs))
    se = np.array([[np.nan if p.se is None else p.se for p in row] for row in points]).reshape(len(ids), len(refs))
    s = cp.noise_from_se(se)
    gaps = []
    for a in range(len(refs)):
        for b in range(a + 1, len(refs)):
            if not (refs[a].source == refs[b].source == "online"):
                continue
            unit = pairs.get(tuple(sorted((refs[a].name, refs[b].name))), {})
            missing = 0
            for i, row in enumerate(points):
                v = unit.get(ids[i], {})
                p, q = row[a], row[b]
                if "control" not in v or "treatment" not in v or p.n_control is None:
                    missing += 1
                    continue
                s[i, a, b] = s[i, b, a] = al.relative_lift_covariance(
                    p.control_value, p.treatment_value, q.control_value, q.treatment_value,
                    v["control"], v["treatment"], p.n_control, p.n_treatment)
            if missing:
                gaps.append(f"{refs[a].name} x {refs[b].name} ({missing} experiment(s))")
    return z, se, s, points, gaps


def learned_proxy(con: duckdb.DuckDBPyConnection, target: str, candidates: list[str] | None = None,
                  confidence: float = 0.95, noise_weight: float = 1.0) -> dict:
    """Weights, their intervals, and the composite validated in and out of sample beside each
    candidate alone and the target itself. Raises ValueError (cp.ProxyError) when the history
    cannot answer."""
    tree = tree_svc.load(con).tree
    t = resolve(con, target, prefer="online")
    cands = [resolve(con, c, prefer="online") for c in candidates] if candidates else default_candidates(con, t, tree)
    cands = [c for c in dict.fromkeys(cands) if c != t]
    if not cands:
        raise cp.ProxyError(f"no candidate metrics for {t.spec}: give --candidates")
    h = history(con, t, cands, confidence)
    z, s, ids = h["lifts"], h["noise"], h["ids"]
    if len(ids) < len(cands) + 3:
        raise cp.ProxyError(f"only {len(ids)} experiment(s) have {t.spec} and every candidate "
                            f"({', '.join(c.spec for c in cands)}); at least {len(cands) + 3} are needed")
    specs = [c.spec for c in cands]
    learned = cp.learn(z, s, specs, noise_weight, confidence)
    singles = []
    for k, c in enumerate(cands, start=1):
        v = cp.single(z, s, k, direction(tree, c) * direction(tree, t), confidence)
        singles.append({"metric": c.spec, "name": display_name(tree, c), **v.as_dict()})
    info = experiment_info(con)
    q = _z(confidence)
    per = []
    for i, eid in enumerate(ids):
        tp: LiftPoint = h["points"][i][0]
        per.append({
            "experiment_id": eid, "name": info.get(eid, {}).get("name"),
            "composite_lift": float(learned.lift[i]),
            "composite_ci": [float(learned.lift[i] - q * learned.se[i]), float(learned.lift[i] + q * learned.se[i])],
            "out_of_sample_lift": float(learned.loo_lift[i]),
            "out_of_sample_ci": [float(learned.loo_lift[i] - q * learned.loo_se[i]),
                                 float(learned.loo_lift[i] + q * learned.loo_se[i])],
            "target_lift": float(tp.lift), "target_ci": [tp.ci_low, tp.ci_high],
            "candidate_lifts": {c: float(z[i, k + 1]) for k, c in enumerate(specs)},
        })
    coef = learned.fit.coefficients
    for j, eid in enumerate(h["pending"]):  # no target lift yet: the composite from every experiment's weights
        lift, se, _ = cp.composite(np.c_[np.zeros(1), h["pending_lifts"][j:j + 1]],
                                   _pad(h["pending_noise"][j:j + 1]), coef)
        per.append({
            "experiment_id": eid, "name": info.get(eid, {}).get("name"), "pending": True,
            "composite_lift": float(lift[0]), "composite_ci": [float(lift[0] - q * se[0]), float(lift[0] + q * se[0])],
            "out_of_sample_lift": float(lift[0]),
            "out_of_sample_ci": [float(lift[0] - q * se[0]), float(lift[0] + q * se[0])],
            "target_lift": None, "target_ci": [None, None],
            "candidate_lifts": {c: float(h["pending_lifts"][j, k]) for k, c in enumerate(specs)},
        })
    best = max((r for r in singles if r["correlation"] is not None), key=lambda r: r["correlation"], default=None) \
        or max(singles, key=lambda r: r["sign_agreement"] or 0)
    f = learned.fit
    return {
        "label": LABEL, "target": t.spec, "target_name": display_name(tree, t),
        "candidates": specs, "names": {c.spec: display_name(tree, c) for c in cands},
        "n_experiments": len(ids), "experiments_left_out": h["left_out"],
        "confidence": confidence, "noise_weight": noise_weight,
        "weights": dict(zip(specs, f.weights.tolist())),
        "weight_ci": {c: [float(lo), float(hi)] for c, lo, hi in zip(specs, *learned.weight_ci)},
        "coefficients": dict(zip(specs, f.coefficients.tolist())),
        "latent_correlation": f.latent_correlation,
        "in_sample": learned.in_sample.as_dict(),
        "out_of_sample": {**learned.out_of_sample.as_dict(), "q2": learned.loo_q2},
        "singles": singles, "best_single": best["metric"],
        "north_star": cp.target_itself(z, s, confidence),
        "notes": h["notes"], "per_experiment": per,
        "method": ("weights w = (Sigma_KK + Xi_KK)^-1 Sigma_K0 (Tripuraneni et al., KDD 2024): Sigma the true lifts' "
                   "covariance (observed minus mean noise covariance), Xi the noise of a typical experiment; "
                   "out of sample = leave-one-out over experiments; correlation noise-corrected by REML; "
                   "weight intervals: Fieller intervals of each weight as a ratio, its parts' covariance from "
                   "the jackknife over experiments (the leave-one-out fits), t quantile"),
    }


def _pad(noise_k: np.ndarray) -> np.ndarray:
    """(m, K, K) candidate noise as (m, K+1, K+1) with an empty target row and column."""
    out = np.zeros((noise_k.shape[0], noise_k.shape[1] + 1, noise_k.shape[2] + 1))
    out[:, 1:, 1:] = noise_k
    return out


def _z(confidence: float) -> float:
    from scipy import stats
    return float(stats.norm.ppf(0.5 + confidence / 2))


def view(con: duckdb.DuckDBPyConnection, target: str, confidence: float = 0.95) -> dict:
    """For the app (cached once per data version): the result, or {"error": reason}."""
    try:
        return learned_proxy(con, target, None, confidence)
    except (ValueError, al.AlignmentError) as exc:
        return {"error": str(exc)}


SPEC = "composite:learned"  # the composite's key among the leaderboard's proxy specs


def leaderboard_row(result: dict) -> dict | None:
    """The composite as a row of the online proxy leaderboard, every number out of sample (each
    experiment's composite lift from weights learned without it), in the leaderboard's keys."""
    if "error" in result:
        return None
    rows = [r for r in result["per_experiment"] if not r.get("pending")]
    loo = np.array([r["out_of_sample_lift"] for r in rows])
    target = np.array([r["target_lift"] for r in rows])
    try:
        pear = al.pearson(loo, target, result["confidence"])
        naive, naive_ci = pear.estimate, [pear.ci_low, pear.ci_high]
    except al.AlignmentError:
        naive, naive_ci = None, [None, None]
    oos = result["out_of_sample"]
    return {"proxy": SPEC, "kind": "online", "label": f"{LABEL} (out of sample)", "n_experiments": result["n_experiments"],
            "expected_sign": 1, "aligned_pearson": naive, "aligned_pearson_ci": naive_ci,
            "aligned_corrected": oos["correlation"], "aligned_corrected_ci": oos["correlation_ci"],
            "pearson": naive, "pearson_ci": naive_ci, "corrected_correlation": oos["correlation"],
            "corrected_ci": oos["correlation_ci"], "corrected_notes": oos["notes"],
            "sign_agreement": oos["sign_agreement"], "sign_agreement_ci": oos["sign_agreement_ci"],
            "sensitivity": oos["sensitivity"], "loo_rmse": None, "loo_q2": oos.get("q2"),
            "broken": int(((loo > 0) & (target < 0)).sum()), "problem": None}


def weights_text(result: dict, names=None) -> str:
    """'0.50 Task success + 0.42 Session length - 0.06 Latency - 0.02 Click-through rate' (standardised)."""
    names = names or result["names"]
    parts = sorted(result["weights"].items(), key=lambda kv: -abs(kv[1]))
    text = " ".join(f"{'-' if w < 0 else '+'} {abs(w):.2f} {names.get(c, c)}" for c, w in parts)
    return text[2:] if text.startswith("+ ") else text


def default_target(con: duckdb.DuckDBPyConnection) -> str | None:
    """The tree's primary metric as an online spec (the target when an experiment has no primary
    results yet), None without one."""
    tree = tree_svc.load(con).tree
    primary = tree.primary() if tree is not None else None
    return f"online:{primary.data.online}" if primary is not None and primary.data.online else None


def for_experiment(result: dict, experiment_id: str) -> dict | None:
    """What the learned proxy says for one experiment: its composite lift from weights learned
    without it (or, when its target lift is not in yet, from every experiment's weights), with the
    validation behind those weights."""
    if "error" in result:
        return None
    row = next((r for r in result["per_experiment"] if r["experiment_id"] == experiment_id), None)
    if row is None:
        return None
    return {"target_name": result["target_name"], "lift": row["out_of_sample_lift"], "pending": row.get("pending", False),
            "ci": row["out_of_sample_ci"], "target_lift": row["target_lift"], "target_ci": row["target_ci"],
            "weights": result["weights"], "names": result["names"], "n_experiments": result["n_experiments"],
            "out_of_sample": result["out_of_sample"], "north_star": result["north_star"]}


def composite_node_lift(con: duckdb.DuckDBPyConnection, tree, node, experiment_id: str,
                        confidence: float = 0.95) -> dict:
    """A composite tree node's relative lift in one experiment, with its interval and p-value:
    declared weights as written in the tree file, or weights learned on every other experiment
    (the experiment itself left out). {"note": why} when it cannot be computed."""
    from scipy import stats

    comp = node.composite
    target_node = tree.node(comp.target)
    t = MetricRef("online", target_node.data.online)
    if comp.learned:
        cands = default_candidates(con, t, tree)
    else:
        cands = [MetricRef("online", tree.node(k).data.online) for k, _ in comp.weights]
    options = set(metric_options(con)["online"])
    missing = [r.name for r in [t] + cands if r.name not in options]
    if missing or not cands:
        return {"note": "no experiment results for " + (", ".join(missing) or "any candidate")}
    h = history(con, t, cands, confidence)
    if experiment_id in h["pending"]:  # no target lift yet: every experiment of the history can teach
        j = h["pending"].index(experiment_id)
        z = np.vstack([h["lifts"], np.r_[0.0, h["pending_lifts"][j]][None]])
        s = np.concatenate([h["noise"], _pad(h["pending_noise"][j:j + 1])])
        i = len(z) - 1
    elif experiment_id in h["ids"]:
        i = h["ids"].index(experiment_id)
        z, s = h["lifts"], h["noise"]
    else:
        return {"note": "this experiment lacks one of the metrics the composite combines"}
    names = {c.spec: display_name(tree, c) for c in cands}
    if comp.learned:
        keep = np.arange(len(z)) != i
        if keep.sum() < len(cands) + 2:
            return {"note": f"only {int(keep.sum())} other experiments: too few to learn weights"}
        f = cp.fit(z[keep], s[keep])
        coef = f.coefficients
        how = (f"weights learned on the {int(keep.sum())} other experiments: "
               + weights_text({"weights": dict(zip(names, f.weights)), "names": names}))
    else:
        coef = np.array([w for _, w in comp.weights])
        how = "declared weights: " + " + ".join(f"{w:g} × {names[c.spec]}" for c, (_, w) in zip(cands, comp.weights))
    lift, se, _ = cp.composite(z[i:i + 1], s[i:i + 1], coef)
    lift, se = float(lift[0]), float(se[0])
    q = _z(confidence)
    p = float(2 * stats.norm.sf(abs(lift) / se)) if se > 0 else None
    return {"lift": lift, "ci_low": lift - q * se, "ci_high": lift + q * se, "p_value": p,
            "note": f"predicts {target_node.name}'s lift; {how}; not part of the launch decision"}


# --- command line --------------------------------------------------------------------------


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", required=True, help="the north star, e.g. retention_7d")
    parser.add_argument("--candidates", default=None,
                        help="comma-separated short-term metrics (default: the online metrics below the target "
                             "in the metric tree)")
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--noise-weight", type=float, default=1.0,
                        help="1: balance agreement with the target against the composite's noise (default); "
                             "0: agreement with the target only")


def report(con: duckdb.DuckDBPyConnection, args: argparse.Namespace) -> dict[str, Any]:
    cands = [c.strip() for c in args.candidates.split(",") if c.strip()] if args.candidates else None
    if not 0 <= args.noise_weight <= 1:
        raise ValueError(f"--noise-weight must be between 0 and 1, got {args.noise_weight}")
    return learned_proxy(con, args.target, cands, args.confidence, args.noise_weight)


def report_text(result: dict) -> str:
    """The report as readable text (`report proxy` without --json)."""
    names = result["names"]
    lines = [f"Learned composite proxy for {result['target_name']} ({result['target']}), "
             f"{result['n_experiments']} experiments", "", "Weights (standardised metrics, sum |w| = 1; "
             f"{result['confidence']:.0%} interval, Fieller from the jackknife):"]
    for c, w in sorted(result["weights"].items(), key=lambda kv: -abs(kv[1])):
        lo, hi = result["weight_ci"][c]
        lines.append(f"  {names[c]:<28} {w:+.2f}  [{lo:+.2f}, {hi:+.2f}]")
    lines += ["", f"{'':<34} {'same sign':>10} {'corrected r [CI]':>24} {'sensitivity':>12}"]

    def row(label, v):
        sa = "n/a" if v["sign_agreement"] is None else f"{v['sign_agreement']:.0%}"
        r = "n/a" if v["correlation"] is None else (
            f"{v['correlation']:.2f} [{v['correlation_ci'][0]:.2f}, {v['correlation_ci'][1]:.2f}]")
        return f"  {label:<32} {sa:>10} {r:>24} {v['sensitivity']:>12.0%}"
    lines.append(row("composite, out of sample (LOO)", result["out_of_sample"]))
    lines.append(row("composite, in sample (optimistic)", result["in_sample"]))
    for s in result["singles"]:
        best = " (best single)" if s["metric"] == result["best_single"] else ""
        lines.append(row(f"{names[s['metric']]}{best}", s))
    lines.append(row(f"{result['target_name']} itself", result["north_star"]))
    lines += ["", "same sign: share of experiments whose composite and target lifts had the same sign; corrected r: "
              "correlation of the true lifts (REML); sensitivity: share of experiments whose interval excludes 0."]
    for n in result["notes"] + result["out_of_sample"]["notes"]:
        lines.append(f"note: {n}")
    if result["experiments_left_out"]:
        lines.append(f"left out (a metric missing): {', '.join(result['experiments_left_out'])}")
    lines += ["", "Per experiment (composite from weights learned without it):"]
    for r in result["per_experiment"]:
        target = ("not measured yet (weights from every experiment)" if r.get("pending")
                  else f"{fmt.change(r['target_lift']):>8}")
        lines.append(f"  {r['experiment_id']:<6} composite {fmt.change(r['out_of_sample_lift']):>8} "
                     f"{fmt.interval(*r['out_of_sample_ci'], fmt.change)}   target {target}")
    return "\n".join(lines)
