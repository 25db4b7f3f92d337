"""Build the demo database: generate the files, then load them through the normal ingest path.

The database is built under a temporary name and moved into place, so an interrupted build never
leaves a half-loaded demo behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from dashboard.demo.company import write_demo_files
from dashboard.store.ingest import ingest_files

# Load order: segments and judgements before runs, so the ranking summary is built on full data.
LOAD_ORDER = ("predictions", "queries", "qrels", "run", "experiments", "results", "covariances", "offline", "daily", "events",
              "models")


def build_demo_db(db_path: Path | str, seed: int = 7, scale: float = 1.0) -> dict:
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dashboard-demo-") as tmp:
        files = write_demo_files(Path(tmp) / "files", seed=seed, scale=scale)
        generated = time.perf_counter() - start
        tmp_db = Path(tmp) / "demo.duckdb"
        items = [(kind, path) for kind in LOAD_ORDER for path in files.get(kind, [])]
        results = ingest_files(tmp_db, items)
        for suffix in ("", ".wal"):
            target = Path(str(db_path) + suffix)
            if target.exists():
                target.unlink()
        shutil.move(str(tmp_db), str(db_path))
        os.utime(db_path)
    rows: dict[str, int] = {}
    for r in results:
        rows[r.table] = rows.get(r.table, 0) + r.rows
    return {
        "database": str(db_path),
        "seed": seed,
        "scale": scale,
        "rows": rows,
        "seconds_generating": round(generated, 1),
        "seconds_total": round(time.perf_counter() - start, 1),
    }
