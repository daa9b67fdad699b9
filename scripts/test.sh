#!/usr/bin/env bash
# Set everything up, run the static checks, then the whole test suite (extra arguments go to
# pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
echo "static checks: ruff, import-linter"
.venv/bin/ruff check --quiet .
.venv/bin/lint-imports --no-cache >/dev/null || .venv/bin/lint-imports --no-cache
exec .venv/bin/python -m pytest "$@"
