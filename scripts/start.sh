#!/usr/bin/env bash
# Install (first run only) and start the dashboard on the bundled demo data at http://127.0.0.1:8501
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m dashboard serve "$@"
