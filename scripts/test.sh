#!/usr/bin/env bash
# The README's test command: set up (.venv by scripts/setup.sh, the system packages the tests drive
# by scripts/system_deps.sh), lint with ruff, then pytest. Arguments go to pytest:
#   bash scripts/test.sh -m unit          the fast tier alone (tiers: unit, parity, recipe; tests/conftest.py)
#   SEQGAN_SKIP_LINT=1 bash scripts/test.sh ...     no ruff, for quick local runs (CI always lints)
#   SEQGAN_SKIP_PYTEST=1 bash scripts/test.sh       set-up and lint only
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/system_deps.sh
export SEQGAN_DATA_DIR="${SEQGAN_DATA_DIR:-$(cd .. && pwd)/shared/data}"

if [ "${SEQGAN_SKIP_LINT:-0}" = 1 ] && [ "${CI:-}" != true ]; then
    echo "scripts/test.sh: SEQGAN_SKIP_LINT=1: not running ruff" >&2
else
    lint=0
    .venv/bin/ruff format --check . || lint=1
    .venv/bin/ruff check . || lint=1
    if [ "$lint" != 0 ]; then
        echo "scripts/test.sh: ruff failed; \`.venv/bin/ruff format . && .venv/bin/ruff check --fix .\` fixes most" >&2
        exit 1
    fi
fi

[ "${SEQGAN_SKIP_PYTEST:-0}" = 1 ] && exit 0
.venv/bin/python -m pytest -q "$@"
