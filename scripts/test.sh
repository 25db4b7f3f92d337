#!/usr/bin/env bash
# Install what the tests need (Python packages, Debian's chromium) and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# chromium for the browser tests; Java 17 for Spark local mode in the lake parity tests
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
# PostgreSQL for the warehouse parity tests: each test process starts a throwaway server (tests/postgres_server.py)
command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
# the PDF export's test renders pages (pdftoppm) set in DejaVu with CJK and emoji fallbacks
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
for font in fonts-dejavu-core fonts-ipafont-gothic fonts-symbola; do
  dpkg -s "$font" >/dev/null 2>&1 || need+=("$font")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
scripts/setup.sh test
exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" "$@"
