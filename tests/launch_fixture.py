"""A small hand-made experiment database (independent of the demo generator), with the raw
per-user values kept so tests can check the stored-statistics maths against scipy on raw data."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from dashboard.store.ingest import ingest_file

# experiment -> metric -> (control values, treatment values), overall
RAW: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
# experiment -> tier -> metric -> (control, treatment)
RAW_SEGMENTS: dict[str, dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]] = {}


def _metrics(rng, n_c, n_t, effects: dict[str, float]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-user values; effects are relative changes of the treatment mean."""
    base = {"retention_7d": 0.40, "revenue_per_user": 2.0, "ctr": 0.10, "latency_ms": 200.0,
            "session_length": 12.0, "task_success": 0.60}
    out = {}
    for metric, mean in base.items():
        m_t = mean * (1 + effects.get(metric, 0.0))
        if metric in ("retention_7d", "ctr", "task_success"):
            c, t = rng.binomial(1, mean, n_c).astype(float), rng.binomial(1, m_t, n_t).astype(float)
        elif metric == "latency_ms":
            c, t = rng.normal(mean, 30, n_c), rng.normal(m_t, 30, n_t)
        else:
            c, t = rng.exponential(mean, n_c), rng.exponential(m_t, n_t)
        out[metric] = (c, t)
    return out


def _investigate(rng) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """X4: retention clearly up, revenue down at raw p = 0.028 only (Welch t = -2.2, shifted to it
    exactly), and a rare 'complaints' metric whose control mean is noisy (se ~ 40% of the mean)."""
    out = _metrics(rng, 80_000, 80_000, {"retention_7d": 0.05})
    c, t = out["revenue_per_user"]
    se = np.sqrt(c.var(ddof=1) / c.size + t.var(ddof=1) / t.size)
    out["revenue_per_user"] = (c, t - (t.mean() - c.mean()) - 2.2 * se)
    out["complaints"] = (rng.binomial(1, 0.002, 3_000).astype(float), rng.binomial(1, 0.002, 3_000).astype(float))
    return out


def _rows(exp: str, metrics: dict, tier: str | None = None) -> list[dict]:
    rows = []
    for metric, (c, t) in metrics.items():
        for variant, x in (("control", c), ("treatment", t)):
            rows.append({"experiment_id": exp, "variant": variant, "metric": metric, "n": x.size,
                         "sum": float(x.sum()), "sum_sq": float((x * x).sum()), "user_tier": tier or ""})
    return rows


def build(path: Path) -> Path:
    rng = np.random.default_rng(11)
    # X1: the offline win that lost retention and breached latency (the E045 pattern)
    tiers = {"free": 60_000, "premium": 20_000}
    seg = {tier: _metrics(rng, n, n, {"retention_7d": -0.04 if tier == "free" else 0.0,
                                      "ctr": 0.08, "latency_ms": 0.14, "session_length": -0.02})
           for tier, n in tiers.items()}
    RAW_SEGMENTS["X1"] = seg
    RAW["X1"] = {m: (np.concatenate([seg[t][m][0] for t in tiers]), np.concatenate([seg[t][m][1] for t in tiers]))
                 for m in seg["free"]}
    # X2: a clean win on retention, latency flat
    RAW["X2"] = _metrics(rng, 80_000, 80_000, {"retention_7d": 0.05, "revenue_per_user": 0.02})
    RAW["X2"]["bugs"] = (np.zeros(500), rng.binomial(1, 0.01, 500).astype(float))  # control mean 0
    # X3: sample ratio mismatch (assignment lost 6% of treatment users)
    RAW["X3"] = _metrics(rng, 50_000, 47_000, {"retention_7d": 0.03})
    RAW["X4"] = _investigate(np.random.default_rng(15))  # own generator: X1-X3 and daily unchanged

    rows = []
    for exp, metrics in RAW.items():
        rows += _rows(exp, metrics)
    for tier, metrics in seg.items():
        rows += _rows("X1", metrics, tier)
    files = path.parent / "launch_files"
    files.mkdir(exist_ok=True)
    pd.DataFrame(rows).to_csv(files / "results.csv", index=False)
    pd.DataFrame([
        {"experiment_id": "X1", "name": "Search ranker v3", "start_date": "2025-03-01", "end_date": "2025-03-14",
         "control_model": "search-v2", "treatment_model": "search-v3"},
        {"experiment_id": "X2", "name": "Better snippets", "start_date": "2025-02-01", "end_date": "2025-02-14",
         "control_model": "snip-v1", "treatment_model": "snip-v2"},
        {"experiment_id": "X3", "name": "Broken split", "start_date": "2025-01-01", "end_date": "2025-01-14",
         "control_model": "a", "treatment_model": "b"},
        {"experiment_id": "X4", "name": "Pricing banner", "start_date": "2024-12-01", "end_date": "2024-12-14",
         "control_model": "banner-a", "treatment_model": "banner-b"},
    ]).to_csv(files / "experiments.csv", index=False)
    pd.DataFrame([
        {"experiment_id": "X1", "metric": "ndcg@10", "control_value": 0.40, "treatment_value": 0.432},
        {"experiment_id": "X1", "metric": "mrr@10", "control_value": 0.50, "treatment_value": 0.52},
        {"experiment_id": "X2", "metric": "ndcg@10", "control_value": 0.41, "treatment_value": 0.415},
    ]).to_csv(files / "offline.csv", index=False)
    start = date(2025, 1, 1)
    daily = []
    for d in range(70):
        day = (start + timedelta(days=d)).isoformat()
        late = d >= 63  # the last week: retention drops by 0.03
        daily += [
            {"date": day, "metric": "retention_7d", "value": 0.40 - 0.03 * late + rng.normal(0, 0.004)},
            {"date": day, "metric": "dau", "value": 10_000 + rng.normal(0, 50)},
            {"date": day, "metric": "latency_ms", "value": 200 + rng.normal(0, 3)},
            {"date": day, "metric": "ctr", "value": 0.10 + rng.normal(0, 0.002)},
        ]
    pd.DataFrame(daily).to_csv(files / "daily.csv", index=False)
    for kind in ("experiments", "results", "offline", "daily"):  # one file per load: see report
        ingest_file(path, kind, files / f"{kind}.csv")
    return path


_BUILT: dict[str, Path] = {}


def launch_db(tmp_path_factory) -> Path:
    """Build once per test process (pytest-xdist workers each build their own)."""
    if "db" not in _BUILT:
        _BUILT["db"] = build(tmp_path_factory.mktemp("launch") / "launch.duckdb")
    return _BUILT["db"]
