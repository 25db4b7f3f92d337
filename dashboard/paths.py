"""Where things live, independent of the caller's working directory."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
DATA_DIR = REPO_DIR / "data"
PAGES_DIR = REPO_DIR / "pages"
DEFAULT_DB = DATA_DIR / "dashboard.duckdb"
DB_ENV = "DASHBOARD_DB"


def default_db() -> Path:
    return Path(os.environ.get(DB_ENV) or DEFAULT_DB)
