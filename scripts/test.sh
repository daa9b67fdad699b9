#!/usr/bin/env bash
# Set everything up, run the static checks, then the whole test suite (extra arguments go to
# pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
echo "static checks: ruff, mypy, import-linter"
.venv/bin/ruff check --quiet .
.venv/bin/mypy --no-error-summary
.venv/bin/lint-imports --no-cache >/dev/null || .venv/bin/lint-imports --no-cache
exec .venv/bin/python -m pytest "$@"
